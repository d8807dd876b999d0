import { describeAction, type MigrationPlan } from '../migration/actions.js';
import { STEPS } from '../migration/steps.js';

/** The plan as text: each step, then its actions grouped by node. */
export function renderPlanText(plan: MigrationPlan, opts: { dryRun: boolean }): string {
  const lines: string[] = [];
  if (opts.dryRun) lines.push('DRY RUN: nothing will be changed. Re-run with --no-dry-run to act.', '');
  for (const s of plan.steps) {
    const header = `Step ${s.step} (${s.name}): ${STEPS[s.step].title}`;
    lines.push(header);
    if (s.alreadyDone && s.actions.every((a) => a.kind === 'checkConnectivity')) lines.push('  already done');
    if (s.skippedNodes.length) lines.push(`  skipping nodes already past this step: ${s.skippedNodes.join(', ')}`);
    let node: string | undefined;
    for (const a of s.actions) {
      const n = 'node' in a ? a.node : undefined;
      if (n !== undefined && n !== node) {
        lines.push(`  node ${n} (${s.nodes.indexOf(n) + 1}/${s.nodes.length}):`);
        node = n;
      }
      lines.push(`${n !== undefined ? '    ' : '  '}- ${describeAction(a)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The plan as JSON (stable field names for machines). */
export function planJson(plan: MigrationPlan, opts: { dryRun: boolean }): object {
  return {
    dryRun: opts.dryRun,
    steps: plan.steps.map((s) => ({
      step: s.step,
      name: s.name,
      alreadyDone: s.alreadyDone,
      nodes: s.nodes,
      skippedNodes: s.skippedNodes,
      actions: s.actions.map((a) => ({ ...a, description: describeAction(a) })),
    })),
  };
}
