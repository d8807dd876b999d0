import { describeAction } from '../migration/actions/actionKinds.js';
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
    for (const [i, n] of s.nodes.entries()) {
      lines.push(`  node ${n.node} (${i + 1}/${s.nodes.length}):`);
      for (const a of n.actions) lines.push(`    - ${describeAction(a)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
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
    })),
  };
}
