import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { systemClock, type Clock } from '../ops/clock.js';
import type { DaemonSetLookup } from '../ops/drainFilters.js';
import { SharedWaits } from './sharedWaits.js';
import type { EventSink } from '../ops/opsEvents.js';
import { describeAction, runAction } from './actions/actionKinds.js';
import type { ManifestBundles } from './actions/actionKind.js';
import { ConnectivityLostError, type ConnectivityGate } from './connectivityGate.js';
import type { MigrationEventSink } from './migrationEvents.js';
import { abortReason, MigrationStepError } from './migrationErrors.js';
import type { NodeBatch } from './nodeBatches.js';
import type { Action, MigrationPlan, NodePlan, StepPlan } from './plan.js';

export type { ManifestBundles } from './actions/actionKind.js';

/** What executing a plan needs. */
export interface ExecutorDeps {
  client: ClusterClient;
  config: MigrationConfig;
  manifests: ManifestBundles;
  gate: ConnectivityGate;
  events: MigrationEventSink;
  signal?: AbortSignal | undefined;
  clock?: Clock;
  /** Poll interval of the waits (rollouts, pods gone); small on the simulated cluster. */
  pollIntervalMs?: number | undefined;
  /** The command that resumes this run, for error messages. */
  resumeCommand: string;
  /** Asks the operator a yes/no question (the canary's); absent where there is no terminal. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** DaemonSets the drains of the current step found (one map per step; see DrainOptions). */
  daemonSetLookups?: Map<string, Promise<DaemonSetLookup>> | undefined;
  /** Waits the nodes of a batch share (one per step). */
  sharedWaits?: SharedWaits | undefined;
}

/** Runs every step of a plan in order; stops at the first failure with the cluster resumable. */
export async function executePlan(plan: MigrationPlan, deps: ExecutorDeps): Promise<void> {
  for (const step of plan.steps) await executeStep(step, deps);
}

/** Runs one step: its step-wide actions, then each node's, gating every node on the monitor. */
export async function executeStep(plan: StepPlan, stepless: ExecutorDeps): Promise<void> {
  const deps: ExecutorDeps = { ...stepless, daemonSetLookups: new Map(), sharedWaits: new SharedWaits() };
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const nodeNames = plan.nodes.map((n) => n.node);
  if (deps.signal?.aborted) throw abortReason(deps.signal, plan.step, plan.name, 'before the start', deps.resumeCommand);
  deps.events({ type: 'stepStart', step: plan.step, name: plan.name, nodes: nodeNames, alreadyDone: plan.alreadyDone, at: started });
  for (const n of plan.skippedNodes) deps.events({ type: 'nodeSkipped', step: plan.step, node: n, reason: `already past step ${plan.step}` });
  // The probes exist from the first step on: monitor continuously from then.
  if (plan.step > 0) deps.gate.startMonitor();
  for (const a of plan.actions) await executeAction(a, plan, undefined, deps);
  const batches = stepBatches(plan);
  let index = 0;
  for (const [b, batch] of batches.entries()) {
    const nodes = batch.nodes.map((name) => plan.nodes.find((n) => n.node === name)!);
    if (batches.length < plan.nodes.length) deps.events({ type: 'batchStart', step: plan.step, index: b, total: batches.length, nodes: batch.nodes, zone: batch.zone, controlPlane: batch.controlPlane, canary: batch.canary, at: clock.now() });
    await executeBatch(plan, nodes, index, deps);
    index += nodes.length;
    if (batch.canary && b < batches.length - 1) await holdAfterCanary(plan, batch.nodes[0]!, plan.nodes.length - index, deps);
  }
  if (plan.actions.length || plan.nodes.length) {
    const c = deps.config.connectivity;
    deps.events({ type: 'settle', step: plan.step, seconds: c.settleSeconds + c.failureThresholdSeconds, at: clock.now() });
    await deps.gate.settle(deps.signal);
    // A watch cut short proves nothing: the step is not done.
    if (deps.signal?.aborted) throw abortReason(deps.signal, plan.step, plan.name, 'during the closing connectivity watch', deps.resumeCommand);
  }
  throwOnMonitorFailures(plan, undefined, `during step ${plan.step}`, deps);
  deps.events({ type: 'stepDone', step: plan.step, at: clock.now(), ms: clock.now() - started });
}

/** The plan's batches, or each node alone (a plan made without batching). */
function stepBatches(plan: StepPlan): NodeBatch[] {
  return plan.batches ?? plan.nodes.map((n) => ({ nodes: [n.node], zone: '', controlPlane: false, canary: false }));
}

/**
 * Works on a batch's nodes at once. Every node's actions run to their end (a failing node does not
 * abort its siblings mid-action); then the nodes that failed are rolled back and the first failure
 * is reported. Lost connectivity seen by the monitor meanwhile counts against the whole batch: the
 * nodes its failing pairs touch are rolled back (all of the batch when they touch none of it).
 */
async function executeBatch(plan: StepPlan, nodes: NodePlan[], first: number, deps: ExecutorDeps): Promise<void> {
  const clock = deps.clock ?? systemClock;
  const results = await Promise.allSettled(
    nodes.map(async (n, i) => {
      const nodeStarted = clock.now();
      deps.events({ type: 'nodeStart', step: plan.step, node: n.node, index: first + i, total: plan.nodes.length, at: nodeStarted });
      for (const a of n.actions) await executeAction(a, plan, n.node, deps);
      return nodeStarted;
    }),
  );
  const failed = nodes.filter((_, i) => results[i]!.status === 'rejected');
  let failure: unknown = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  let toRollBack = failed;
  if (failure === undefined) {
    try {
      throwOnMonitorFailures(plan, nodes.map((n) => n.node).join(', '), `while step ${plan.step} worked on ${nodes.map((n) => n.node).join(', ')}`, deps);
    } catch (e) {
      failure = e;
      const touched = e instanceof MigrationStepError && e.cause instanceof ConnectivityLostError ? new Set(e.cause.failures.flatMap((f) => [f.fromNode, f.toNode])) : new Set<string | undefined>();
      toRollBack = nodes.some((n) => touched.has(n.node)) ? nodes.filter((n) => touched.has(n.node)) : nodes;
    }
  }
  for (const [i, n] of nodes.entries()) {
    const r = results[i]!;
    if (r.status === 'fulfilled' && !toRollBack.includes(n)) deps.events({ type: 'nodeDone', step: plan.step, node: n.node, at: clock.now(), ms: clock.now() - r.value });
  }
  if (failure === undefined) return;
  let reported: unknown;
  for (const n of toRollBack) {
    const r = await rollBackNode(failure, plan, n, deps);
    reported ??= r;
  }
  const error = reported ?? failure;
  throw error instanceof Error ? error : new Error(typeof error === 'string' ? error : JSON.stringify(error));
}

/**
 * After the canary node: watch connectivity for batches.canaryWaitSeconds, or ask the operator;
 * the rest of the step starts only on a green canary and a yes.
 */
async function holdAfterCanary(plan: StepPlan, node: string, remaining: number, deps: ExecutorDeps): Promise<void> {
  const wait = deps.config.batches.canaryWaitSeconds;
  const clock = deps.clock ?? systemClock;
  deps.events({ type: 'canary', step: plan.step, node, remaining, waitSeconds: wait, at: clock.now() });
  if (wait !== undefined) {
    deps.gate.startMonitor();
    await clock.sleep(wait * 1000, deps.signal);
    throwOnMonitorFailures(plan, node, `while watching the canary node ${node} for ${wait}s`, deps);
    return;
  }
  const question = `step ${plan.step} (${plan.name}): the canary node ${node} is done and connectivity holds. Go on with the other ${remaining} node${remaining === 1 ? '' : 's'}?`;
  const yes = deps.confirm ? await deps.confirm(question) : false;
  if (!yes) {
    throw new MigrationStepError(plan.step, plan.name, node, 'go on after the canary node', new Error(deps.confirm ? 'the operator said no' : 'no terminal to confirm on (set batches.canaryWaitSeconds or --canary-wait)'), `Stopped after the canary node ${node}, as asked; it stays migrated and the other nodes were not touched. Re-run the same command (${deps.resumeCommand}) to go on (without --canary to go on without pausing); \`cni-migration status\` shows where each node stands.`);
  }
}

async function executeAction(action: Action, plan: StepPlan, node: string | undefined, deps: ExecutorDeps): Promise<void> {
  const clock = deps.clock ?? systemClock;
  const description = describeAction(action);
  const t0 = clock.now();
  deps.events({ type: 'action', step: plan.step, node, action, description, at: t0 });
  const ops: EventSink = (event) => deps.events({ type: 'ops', step: plan.step, event });
  try {
    await runAction(action, { ...deps, step: plan.step, ops });
  } catch (e) {
    if (e instanceof MigrationStepError) throw e;
    throw new MigrationStepError(plan.step, plan.name, node, description, e, resumeHint(deps, plan, node));
  }
  deps.events({ type: 'actionDone', step: plan.step, node, action, at: clock.now(), ms: clock.now() - t0 });
  if (action.kind === 'checkConnectivity') deps.gate.startMonitor();
}

/**
 * A node's switch failed: put it back on the source CNI (when the plan says how and rollback is
 * on), then report the failure — with the rollback's outcome, never instead of the failure.
 */
async function rollBackNode(failure: unknown, plan: StepPlan, n: NodePlan, deps: ExecutorDeps): Promise<unknown> {
  const clock = deps.clock ?? systemClock;
  if (!n.rollback?.length || deps.config.dualOverlay.rollback !== 'auto' || deps.signal?.aborted || !(failure instanceof MigrationStepError)) return failure;
  const reason = failure.message;
  // The monitor's failures so far belong to the failed switch; the rollback is judged on its own.
  deps.gate.takeMonitorFailures();
  try {
    for (const a of n.rollback) await executeAction(a, plan, n.node, deps);
    deps.events({ type: 'rollback', step: plan.step, node: n.node, reason, ok: true, at: clock.now() });
    return new MigrationStepError(
      failure.step,
      failure.stepName,
      n.node,
      failure.action,
      failure.cause,
      `${n.node} was rolled back to the source CNI (rollback: auto): its pods were re-created there and connectivity checked; the nodes before it stay migrated. Fix the cause, then re-run the same command (${deps.resumeCommand}) to resume; finished work is skipped. \`cni-migration status\` shows where each node stands.`,
    );
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    deps.events({ type: 'rollback', step: plan.step, node: n.node, reason, ok: false, error: why, at: clock.now() });
    return new MigrationStepError(failure.step, failure.stepName, n.node, failure.action, failure.cause, `Rolling ${n.node} back failed too: ${why}. The node is left cordoned; run \`cni-migration rollback --nodes ${n.node} --no-dry-run\` once the cause is fixed, or re-run the same command (${deps.resumeCommand}) to retry its switch.`);
  }
}

function throwOnMonitorFailures(plan: StepPlan, node: string | undefined, when: string, deps: ExecutorDeps): void {
  const failures = deps.gate.takeMonitorFailures();
  if (failures.length) throw new MigrationStepError(plan.step, plan.name, node, 'keep every pod reachable', new ConnectivityLostError(when, failures), resumeHint(deps, plan, node));
}

function resumeHint(deps: ExecutorDeps, plan: StepPlan, node: string | undefined): string {
  return `Nothing was rolled back: node labels, taints and cordons record how far step ${plan.step} (${plan.name}) got${node ? ` on ${node}` : ''}. Fix the cause, then re-run the same command (${deps.resumeCommand}) to resume; finished work is skipped. \`cni-migration status\` shows where each node stands.`;
}
