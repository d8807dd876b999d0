import { describeAction } from '../migration/actions/actionKinds.js';
import type { NodeBatch } from '../migration/nodeBatches.js';
import type { MigrationPlan } from '../migration/plan.js';

/** What the plan text says about the run around it. */
export interface PlanTextContext {
  dryRun: boolean;
  /** "canal (DaemonSet kube-system/canal)". */
  source?: string | undefined;
  /** The step after which nodes cannot be rolled back, and why. */
  pointOfNoReturn?: { step: number; why: string } | undefined;
}

/** The plan as text: each step, then its actions grouped by node. */
export function renderPlanText(plan: MigrationPlan, opts: PlanTextContext): string {
  const lines: string[] = [];
  if (opts.dryRun) lines.push('DRY RUN: nothing will be changed. Re-run with --no-dry-run to act.', '');
  lines.push(`Strategy: ${plan.strategy}${opts.source ? `, from ${opts.source}` : ''}`, '');
  for (const s of plan.steps) {
    lines.push(`Step ${s.step} (${s.name}): ${s.title}`);
    if (opts.pointOfNoReturn?.step === s.step) lines.push(`  POINT OF NO RETURN: ${opts.pointOfNoReturn.why}; nodes cannot be rolled back to the source CNI after this step`);
    if (s.alreadyDone && s.actions.every((a) => a.kind === 'checkConnectivity') && !s.nodes.length) lines.push('  already done');
    if (s.orderNote) lines.push(`  order: ${s.orderNote}`);
    if (s.skippedNodes.length) lines.push(`  skipping nodes already past this step: ${s.skippedNodes.join(', ')}`);
    for (const a of s.actions) lines.push(`  - ${describeAction(a)}`);
    if (s.batches && showsBatches(s.batches)) lines.push(...batchLines(s.batches, s.batchLimit ?? 1));
    for (const [i, n] of s.nodes.entries()) {
      lines.push(`  node ${n.node} (${i + 1}/${s.nodes.length}):`);
      for (const a of n.actions) lines.push(`    - ${describeAction(a)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Batches are worth a listing when nodes go together, in zones, or after a canary. */
function showsBatches(batches: readonly NodeBatch[]): boolean {
  return batches.some((b) => b.nodes.length > 1 || b.canary || b.cut !== undefined || b.zone !== '' || b.controlPlane);
}

function batchLines(batches: readonly NodeBatch[], limit: number): string[] {
  const zones = new Set(batches.map((b) => b.zone).filter(Boolean)).size;
  const rules = [`at most ${limit} node${limit === 1 ? '' : 's'} at once`, zones > 1 ? 'one zone at a time' : '', batches.some((b) => b.controlPlane) ? 'control-plane nodes last' : ''].filter(Boolean);
  const lines = [`  batches (${rules.join('; ')}):`];
  for (const [i, b] of batches.entries()) {
    const where = [b.canary ? 'canary: the run pauses after it' : '', b.zone ? `zone ${b.zone}` : '', b.controlPlane ? 'control plane' : ''].filter(Boolean).join(', ');
    lines.push(`    batch ${i + 1}/${batches.length}${where ? ` (${where})` : ''}: ${b.nodes.join(', ')}${b.cut ? ` — not more: ${b.cut}` : ''}`);
  }
  return lines;
}

/** The plan as JSON (stable field names for machines). */
export function planJson(plan: MigrationPlan, opts: PlanTextContext): object {
  const act = (a: Parameters<typeof describeAction>[0]) => ({ ...a, description: describeAction(a) });
  return {
    dryRun: opts.dryRun,
    strategy: plan.strategy,
    source: opts.source,
    pointOfNoReturn: opts.pointOfNoReturn,
    steps: plan.steps.map((s) => ({
      step: s.step,
      name: s.name,
      alreadyDone: s.alreadyDone,
      skippedNodes: s.skippedNodes,
      actions: s.actions.map(act),
      nodes: s.nodes.map((n) => ({ node: n.node, actions: n.actions.map(act) })),
      ...(s.batches ? { batches: s.batches, batchLimit: s.batchLimit } : {}),
    })),
  };
}
