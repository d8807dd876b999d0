import type { Command } from '@commander-js/extra-typings';
import { writeFileSync } from 'node:fs';
import { readClusterSnapshot } from '../../migration/clusterSnapshot.js';
import { nodeFlags, nodePhase, stepReadiness } from '../../migration/nodePhase.js';
import { planMigration, runMigration } from '../../migration/runMigration.js';
import { STEPS } from '../../migration/steps.js';
import { createProbeGate } from '../../migration/probeConnectivityGate.js';
import { planJson, renderPlanText } from '../../report/planText.js';
import { createProgressReporter, type LogLevel } from '../../report/progressReporter.js';
import { RunRecorder, renderReportMarkdown } from '../../report/runRecorder.js';
import { clusterFrom, configFrom, manifestsFrom, outputFormat, type GlobalOptions } from '../cliContext.js';
import { selectSteps, type StepFlags } from '../stepSelection.js';

/** Adds the step-selection flags (modern and the seed's) to a command. */
export function addStepFlags<C extends Command<unknown[], Record<string, unknown>>>(cmd: C, withSeedFlags: boolean): C {
  if (!withSeedFlags) {
    cmd.option('--steps <steps>', 'steps to run: all, 0-5, a range such as 0-2, or a list such as 0,1');
    cmd.option('--nodes <a,b>', 'limit the per-node steps (2, 3, 4) to these nodes, in this order');
    return cmd;
  }
  // The seed's flags live on the root command only, so `run --steps` is never taken by the root.
  cmd
    .option('--step-all', "the seed's flag: all steps")
    .option('-0, --step-preflight', 'step 0: deploy the probes and check connectivity')
    .option('-1, --step-prepare', 'step 1: label nodes, install Cilium and Multus')
    .option('-2, --step-roll-all-nodes', 'step 2: roll every node')
    .option('--step-roll-nodes <a,b>', 'step 2 on these nodes only')
    .option('-3, --step-change-cni-all-priority', 'step 3: make Cilium primary on every node')
    .option('--step-change-cni-priority <a,b>', 'step 3 on these nodes only')
    .option('-4, --step-migrate-all-nodes', 'step 4: migrate every node')
    .option('--step-migrate-nodes <a,b>', 'step 4 on these nodes only')
    .option('-5, --step-clean-up', 'step 5: clean up');
  return cmd;
}

function logLevel(g: GlobalOptions): LogLevel {
  const l = (g.logLevel ?? 'info').toLowerCase();
  return (['error', 'warn', 'info', 'debug'].includes(l) ? l : 'info') as LogLevel;
}

/** `plan`: prints the ordered actions the selected steps would take. */
export async function planAction(g: GlobalOptions, flags: StepFlags): Promise<void> {
  const selection = selectSteps(flags);
  const loaded = configFrom(g);
  const format = outputFormat(g);
  const warnings: string[] = [];
  const manifests = manifestsFrom(loaded, (w) => warnings.push(w));
  const client = clusterFrom(g);
  const { plan } = await planMigration(client, loaded.config, selection, manifests);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(format === 'json' ? `${JSON.stringify(planJson(plan, { dryRun: true }), null, 2)}\n` : renderPlanText(plan, { dryRun: false }));
}

/** `run`: dry run by default; --no-dry-run executes. */
export async function runAction(g: GlobalOptions, flags: StepFlags & { dryRun?: boolean | undefined; report?: string | undefined }, invokedAs: string): Promise<void> {
  const selection = selectSteps(flags);
  const loaded = configFrom(g);
  const format = outputFormat(g);
  const dryRun = flags.dryRun !== false;
  const progress = createProgressReporter(process.stderr, logLevel(g));
  const manifests = manifestsFrom(loaded, (w) => progress({ type: 'warning', message: w }));
  const client = clusterFrom(g);
  const recorder = new RunRecorder();
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write('\ninterrupted: stopping after the current action; re-run the same command to resume\n');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { plan } = await runMigration({
      client,
      config: loaded.config,
      selection,
      manifests,
      dryRun,
      gate: () => createProbeGate(client, loaded.config),
      events: (e) => {
        recorder.sink(e);
        progress(e);
      },
      signal: controller.signal,
      resumeCommand: invokedAs,
    });
    if (dryRun) process.stdout.write(format === 'json' ? `${JSON.stringify(planJson(plan, { dryRun: true }), null, 2)}\n` : renderPlanText(plan, { dryRun: true }));
    else if (format === 'json') process.stdout.write(`${JSON.stringify(recorder.report, null, 2)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (flags.report && !dryRun) writeReport(flags.report, recorder.report);
  }
}

/** Writes a report: Markdown for .md, JSON otherwise. */
export function writeReport(path: string, report: RunRecorder['report']): void {
  writeFileSync(path, path.endsWith('.md') ? renderReportMarkdown(report) : `${JSON.stringify(report, null, 2)}\n`);
}

/** `status`: each node's phase and each step's readiness. */
export async function statusAction(g: GlobalOptions): Promise<void> {
  const loaded = configFrom(g);
  const format = outputFormat(g);
  const client = clusterFrom(g);
  const snapshot = await readClusterSnapshot(client, loaded.config);
  const nodes = snapshot.nodes.map((n) => {
    const f = nodeFlags(n, loaded.config);
    return { node: n.name, phase: nodePhase(n, loaded.config), cordoned: n.unschedulable, migrationTaint: f.tainted };
  });
  const steps = STEPS.map((s) => stepReadiness(s.id, snapshot, loaded.config)).map((r) => ({ step: r.step, name: STEPS[r.step].name, ready: r.ready, reason: r.reason }));
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ nodes, steps }, null, 2)}\n`);
    return;
  }
  const w = Math.max(4, ...nodes.map((n) => n.node.length));
  const lines = [`${'NODE'.padEnd(w)}  PHASE              NOTES`];
  for (const n of nodes) lines.push(`${n.node.padEnd(w)}  ${n.phase.padEnd(17)}  ${[n.cordoned ? 'cordoned' : '', n.migrationTaint ? 'migration taint' : ''].filter(Boolean).join(', ')}`);
  lines.push('', 'STEP  NAME       READY  DETAIL');
  for (const s of steps) lines.push(`${String(s.step).padEnd(4)}  ${s.name.padEnd(9)}  ${(s.ready ? 'yes' : 'no').padEnd(5)}  ${s.ready ? '' : s.reason}`);
  const next = steps.find((s) => !s.ready);
  lines.push('', next ? `Next: cni-migration run --steps ${next.step} (dry run; add --no-dry-run to act)` : 'The migration is complete.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Registers plan, run and status. */
export function addMigrationCommands(program: Command): void {
  const globals = () => program.opts() as GlobalOptions;
  addStepFlags(program.command('plan').description('print the ordered actions the selected steps would take, changing nothing'), false).action(async (opts) => {
    await planAction(globals(), opts);
  });
  addStepFlags(
    program
      .command('run')
      .description('run the selected steps; a dry run (plan only) unless --no-dry-run')
      .option('--no-dry-run', 'act on the cluster (the default is a dry run)')
      .option('--report <file>', 'write a final report (Markdown for .md, else JSON)'),
    false,
  ).action(async (opts) => {
    const o = opts as StepFlags & { dryRun?: boolean; report?: string };
    // --no-dry-run is accepted before or after `run`.
    const dryRun = o.dryRun !== false && (globals() as { dryRun?: boolean }).dryRun !== false;
    await runAction(globals(), { ...o, dryRun }, `cni-migration ${process.argv.slice(2).join(' ')}`);
  });
  program
    .command('status')
    .description("show each node's phase (from its labels) and each step's readiness")
    .action(async () => {
      await statusAction(globals());
    });
}
