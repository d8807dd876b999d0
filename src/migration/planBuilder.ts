import { planAction } from './actions/actionKinds.js';
import type { ClusterSnapshot, NodeSnapshot } from './clusterSnapshot.js';
import { batchOrder, planBatches, resolveMaxUnavailable, type BatchRules } from './nodeBatches.js';
import type { MigrationPlan, NodePlan, StepPlan } from './plan.js';
import type { Strategy, StrategyContext } from './strategy.js';

/** What the user asked to run: step ids, and for per-node steps optionally which nodes (in that order). */
export interface StepSelection {
  steps: number[];
  nodes?: Readonly<Record<number, string[]>> | undefined;
}

/** A step that cannot run because an earlier one is not done (the seed's "step N not ready"). */
export class StepNotReadyError extends Error {
  constructor(
    readonly step: number,
    readonly blockedBy: number,
    readonly blockedByName: string,
    readonly reason: string,
  ) {
    super(`step ${blockedBy} not ready (${blockedByName}: ${reason}); run step ${blockedBy} first${blockedBy < step ? ` (e.g. --steps ${blockedBy}-${step})` : ''}`);
    this.name = 'StepNotReadyError';
  }
}

/** Node names the user asked for that the cluster does not have. */
export class UnknownNodesError extends Error {
  constructor(
    readonly nodes: string[],
    known: string[],
  ) {
    super(`unknown node${nodes.length > 1 ? 's' : ''}: ${nodes.join(', ')} (the cluster has ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`);
    this.name = 'UnknownNodesError';
  }
}

/** The snapshot a step leaves behind when it succeeds (each action's planned effect, in order). */
export function applyStepToSnapshot(plan: StepPlan, s: ClusterSnapshot): ClusterSnapshot {
  const next = structuredClone(s);
  for (const a of plan.actions) planAction(a, next);
  for (const n of plan.nodes) for (const a of n.actions) planAction(a, next);
  return next;
}

/** Plans one step on a snapshot. */
export function planStep(strategy: Strategy, step: number, s: ClusterSnapshot, ctx: StrategyContext, only?: readonly string[]): StepPlan {
  const def = strategy.steps[step]!;
  const plan: StepPlan = { step, name: def.name, title: def.title, alreadyDone: strategy.readiness(step, s, ctx).ready, actions: [], nodes: [], skippedNodes: [] };
  // Step-wide actions first; a per-node step's nodes are planned on the state they leave.
  plan.actions = strategy.stepActions(step, s, ctx);
  if (!def.perNode) return plan;
  let state = structuredClone(s);
  for (const a of plan.actions) planAction(a, state);
  const order = strategy.nodeOrder?.(step, state.nodes, ctx);
  // Named nodes keep the user's order, but not the capacity rule (receivers): it holds for any order.
  const ordered = only ? undefined : order;
  if (ordered?.note) plan.orderNote = ordered.note;
  const b = ctx.config.batches;
  const rules: BatchRules = {
    maxUnavailable: resolveMaxUnavailable(b.maxUnavailable, s.nodes.length),
    zoneLabel: b.zoneLabel,
    canary: b.canary,
    alone: ordered?.alone,
    receivers: order?.receivers,
    budgets: s.budgets,
    keepOrder: only !== undefined,
  };
  // Workers before control-plane nodes, zone by zone; the user's order is kept as given.
  const nodes = only ? only.map((n) => state.nodes.find((x) => x.name === n)!) : batchOrder(ordered?.nodes ?? state.nodes, rules.zoneLabel);
  const planned: NodeSnapshot[] = [];
  for (const n of nodes) {
    const actions = strategy.nodeActions(step, n, state, ctx);
    if (!actions.length) {
      plan.skippedNodes.push(n.name);
      continue;
    }
    const rollback = strategy.nodeRollback?.(step, n, state, ctx);
    const nodePlan: NodePlan = rollback?.length ? { node: n.name, actions, rollback } : { node: n.name, actions };
    plan.nodes.push(nodePlan);
    // Only drains compete for a budget (eviction honours it; other steps leave pods alone).
    planned.push(actions.some((a) => a.kind === 'drain') ? n : { ...n, budgetPods: undefined });
    state = structuredClone(state);
    for (const a of actions) planAction(a, state);
  }
  plan.batches = planBatches(planned, rules);
  plan.batchLimit = rules.maxUnavailable;
  // A budget refusal can move a node to a later batch: the nodes run in batch order.
  const position = new Map(plan.batches.flatMap((x) => x.nodes).map((name, i) => [name, i]));
  plan.nodes.sort((x, y) => position.get(x.node)! - position.get(y.node)!);
  return plan;
}

/**
 * Plans the selected steps on a snapshot. Each step is planned on the state the earlier ones
 * would leave (so `plan --steps all` on an untouched cluster shows the whole migration), and a
 * step whose predecessors are not ready is refused, as the seed's runner does.
 */
export function buildMigrationPlan(strategy: Strategy, snapshot: ClusterSnapshot, ctx: StrategyContext, selection: StepSelection): MigrationPlan {
  const known = snapshot.nodes.map((n) => n.name);
  const unknown = Object.values(selection.nodes ?? {}).flat().filter((n) => !known.includes(n));
  if (unknown.length) throw new UnknownNodesError([...new Set(unknown)], known);
  const steps = [...new Set(selection.steps)].sort((a, b) => a - b);
  let state = structuredClone(snapshot);
  const out: StepPlan[] = [];
  for (const step of steps) {
    for (let earlier = 0; earlier < step; earlier++) {
      const r = strategy.readiness(earlier, state, ctx);
      if (!r.ready) throw new StepNotReadyError(step, earlier, strategy.steps[earlier]!.name, r.reason);
    }
    const plan = planStep(strategy, step, state, ctx, selection.nodes?.[step]);
    out.push(plan);
    state = applyStepToSnapshot(plan, state);
  }
  return { strategy: strategy.name, steps: out };
}
