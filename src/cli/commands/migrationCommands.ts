import type { Command } from '@commander-js/extra-typings';
import { writeFileSync } from 'node:fs';
import type { ClusterClient } from '../../kube/clusterClient.js';
import { readClusterSnapshot } from '../../migration/clusterSnapshot.js';
import { CILIUM_NETWORK } from '../../migration/strategies/multus/multusStrategy.js';
import { describeNodePodFacts, nodePodFacts } from '../../migration/nodePodFacts.js';
import { assertPreflight, type PreflightCheck } from '../../migration/preflightChecks.js';
import { planMigration, runMigration, type PreparedMigration } from '../../migration/runMigration.js';
import { clusterPreflight, clusterPreflightWithInventory } from '../../preflight/clusterPreflight.js';
import { runTunnelCheck, tunnelToCheck } from '../../preflight/tunnelCheck.js';
import { describeLedgerEntry, lastRunEnding, LEDGER, readLedger } from '../../migration/runLedger.js';
import { judgeLease, localHolderGone, RUN_LOCK, type LeaseSpec } from '../../migration/runLock.js';
import { createProbeGate } from '../../migration/probeConnectivityGate.js';
import { strategyNames } from '../../migration/strategies/strategies.js';
import { planJson, renderPlanText } from '../../report/planText.js';
import type { LogLevel } from '../../report/progressReporter.js';
import { createProgress } from '../../report/terminalProgress.js';
import { eventLine, reportLine } from '../../report/eventStream.js';
import { renderJUnit } from '../../report/junitReport.js';
import { renderHtmlReport } from '../../report/htmlReport.js';
import type { OutcomeCheck } from '../../migration/outcomeCheck.js';
import { RunRecorder, renderReportMarkdown } from '../../report/runRecorder.js';
import type { MigrationEvent } from '../../migration/migrationEvents.js';
import { addBatchFlags, addDualOverlayFlags, clusterFrom, configFrom, debugLoggerFor, outputFormat, prepareFrom, withBatchFlags, withDualOverlayFlags, type BatchFlags, type DualOverlayFlags, type GlobalOptions } from '../cliContext.js';
import { assertCanaryAnswerable, terminalConfirm } from '../operatorPrompt.js';
import { FailedResultError, UsageError } from '../errors.js';
import { mergeStepFlags, selectSteps, type StepFlags } from '../stepSelection.js';

/** The --strategy option's help. */
export const STRATEGY_HELP = `migration strategy: ${strategyNames().join(' or ')} (default: the one this cluster's migration already uses, else multus)`;

/** Adds the step-selection flags of `run` and `plan`, or the seed's flags (root command). */
export function addStepFlags<C extends Command<unknown[], Record<string, unknown>>>(cmd: C, withSeedFlags: boolean): C {
  if (!withSeedFlags) {
    cmd.option('--strategy <name>', STRATEGY_HELP);
    cmd.option('--steps <steps>', "steps to run: all, a number, a range such as 0-2, a list such as 0,1, or names (see the strategy's steps in --help)");
    cmd.option('--nodes <a,b>', 'limit the per-node steps to these nodes, in this order');
    return cmd;
  }
  // The seed's flags live on the root command; commander also takes them after `run`/`plan`, whose
  // actions merge them in, so they mean the same on every command.
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

/** The log level of -v. */
export function logLevel(g: GlobalOptions): LogLevel {
  const l = (g.logLevel ?? 'info').toLowerCase();
  if (!['error', 'warn', 'info', 'debug'].includes(l)) throw new UsageError(`-v/--log-level must be error, warn, info or debug, got "${g.logLevel}"`);
  return l as LogLevel;
}

function sourceText(p: PreparedMigration): string {
  return `${p.source.kind} (DaemonSet ${p.source.daemonSet.namespace}/${p.source.daemonSet.name})`;
}

/** `plan`: prints the ordered actions the selected steps would take. */
export async function planAction(g: GlobalOptions, flags: StepFlags & DualOverlayFlags & BatchFlags & { strategy?: string | undefined }): Promise<void> {
  const loaded = withBatchFlags(withDualOverlayFlags(configFrom(g), flags), flags);
  const format = outputFormat(g);
  const warnings: string[] = [];
  const client = clusterFrom(g, loaded.config.api);
  const prepared = await prepareFrom(client, loaded, flags.strategy, (w) => warnings.push(w));
  const selection = selectSteps(flags, prepared.strategy);
  const { plan } = await planMigration(client, prepared, selection);
  for (const w of [...prepared.source.warnings, ...warnings]) process.stderr.write(`warning: ${w}\n`);
  const ctx = { dryRun: false, source: sourceText(prepared), pointOfNoReturn: prepared.strategy.pointOfNoReturn };
  const checks = await clusterPreflight(client, prepared, plan);
  process.stdout.write(format === 'json' ? `${JSON.stringify({ ...planJson(plan, { ...ctx, dryRun: true }), preflight: checks }, null, 2)}\n` : `${renderPlanText(plan, ctx)}${renderPreflightText(checks)}`);
  assertPreflight(checks);
}

/** \`preflight\`: the cluster's and the strategy's checks for a whole migration, read-only. */
export async function preflightAction(g: GlobalOptions, flags: DualOverlayFlags & BatchFlags & { strategy?: string | undefined; tunnelCheck?: boolean | undefined }): Promise<void> {
  const loaded = withBatchFlags(withDualOverlayFlags(configFrom(g), flags), flags);
  const format = outputFormat(g);
  const client = clusterFrom(g, loaded.config.api);
  const warnings: string[] = [];
  const prepared = await prepareFrom(client, loaded, flags.strategy, (w) => warnings.push(w));
  const { plan } = await planMigration(client, prepared, { steps: prepared.strategy.steps.map((s) => s.id) });
  const { checks, inventory } = await clusterPreflightWithInventory(client, prepared, plan);
  // The tunnel check writes (a short-lived DaemonSet): only when asked and nothing else failed.
  const tunnel = tunnelToCheck(prepared);
  if (flags.tunnelCheck !== false && 'port' in tunnel && !checks.some((c) => c.verdict === 'fail')) checks.push(await runTunnelCheck(client, loaded.config, tunnel, { removeCreatedNamespace: true }));
  for (const w of [...prepared.source.warnings, ...warnings]) process.stderr.write(`warning: ${w}\n`);
  const access = inventory.access.map((a) => ({ verb: a.need.verb, resource: a.resource, subresource: a.need.subresource, namespace: a.need.namespace, allowed: a.allowed, why: a.need.why }));
  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.verdict]++;
  if (format === 'json') process.stdout.write(`${JSON.stringify({ strategy: prepared.strategy.name, source: sourceText(prepared), ok: counts.fail === 0, counts, checks, access }, null, 2)}\n`);
  else process.stdout.write(`${renderPreflightText(checks)}${counts.fail ? `${counts.fail} check${counts.fail === 1 ? '' : 's'} failed: a run would be refused before it changes anything.` : `No check failed${counts.warn ? ` (${counts.warn} warning${counts.warn === 1 ? '' : 's'})` : ''}: the ${prepared.strategy.name} strategy can start.`}\n`);
  if (counts.fail) throw new FailedResultError(`preflight: ${checks.filter((c) => c.verdict === 'fail').map((c) => c.name).join('; ')}`);
}

function renderPreflightText(checks: PreflightCheck[]): string {
  if (!checks.length) return '';
  const lines = ['Preflight (judged before anything is written):'];
  for (const c of checks) lines.push(`  ${c.verdict.toUpperCase().padEnd(4)} ${c.name}: ${c.detail}${c.fix && c.verdict !== 'pass' ? `\n       fix: ${c.fix}` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** `run`: dry run by default; --no-dry-run executes. */
export async function runAction(g: GlobalOptions, flags: StepFlags & DualOverlayFlags & BatchFlags & { strategy?: string | undefined; dryRun?: boolean | undefined; report?: string | undefined; junit?: string | undefined; reportConfigMap?: string | undefined; forceUnlock?: boolean | undefined }, invokedAs: string): Promise<void> {
  const reportConfigMap = flags.reportConfigMap === undefined ? undefined : parseConfigMapRef(flags.reportConfigMap);
  const loaded = withBatchFlags(withDualOverlayFlags(configFrom(g), flags), flags);
  const format = outputFormat(g);
  const dryRun = flags.dryRun !== false;
  const confirm = terminalConfirm();
  if (!dryRun) assertCanaryAnswerable(loaded.config, confirm);
  const progress = createProgress(process.stderr, { level: logLevel(g), quiet: (g as { quiet?: boolean }).quiet });
  const recorder = new RunRecorder();
  const stream = format === 'json' && !dryRun;
  const dbg = debugLoggerFor(g);
  const events = (e: MigrationEvent) => {
    recorder.sink(e);
    progress(e);
    if (stream) process.stdout.write(eventLine(e));
    dbg?.debug({ event: e }, e.type);
  };
  const client = clusterFrom(g, loaded.config.api, (notice) => events({ type: 'apiRetry', notice, at: Date.now() }));
  const prepared = await prepareFrom(client, loaded, flags.strategy, (w) => progress({ type: 'warning', message: w }));
  const selection = selectSteps(flags, prepared.strategy);
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
      prepared,
      selection,
      dryRun,
      gate: () => createProbeGate(client, loaded.config),
      events,
      signal: controller.signal,
      resumeCommand: invokedAs,
      confirm,
      forceUnlock: flags.forceUnlock === true,
    });
    const ctx = { dryRun: true, source: sourceText(prepared), pointOfNoReturn: prepared.strategy.pointOfNoReturn };
    if (dryRun) process.stdout.write(format === 'json' ? `${JSON.stringify(planJson(plan, ctx), null, 2)}\n` : renderPlanText(plan, ctx));
  } finally {
    if (stream) process.stdout.write(reportLine(recorder.report));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (flags.report && !dryRun) writeReport(flags.report, recorder.report);
    if (flags.junit && !dryRun) writeFileSync(flags.junit, renderJUnit(recorder.report));
    if (reportConfigMap && !dryRun) await writeReportConfigMap(client, reportConfigMap, recorder.report, (w) => progress({ type: 'warning', message: w }));
  }
}

/** "namespace/name" of the ConfigMap a run writes its report to. */
function parseConfigMapRef(v: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(v);
  if (!m) throw new UsageError(`--report-configmap must be namespace/name (lower-case DNS names), got "${v}"`);
  return { namespace: m[1]!, name: m[3]! };
}

/**
 * The report in a ConfigMap (report.json, report.md, junit.xml), for runs inside the cluster
 * (manifests/job) whose files die with their pod. A failure to write it is a warning: the run's
 * own outcome stands.
 */
async function writeReportConfigMap(client: ClusterClient, ref: { namespace: string; name: string }, report: RunRecorder['report'], warn: (m: string) => void): Promise<void> {
  const data = { 'report.json': `${JSON.stringify(report, null, 2)}\n`, 'report.md': renderReportMarkdown(report), 'junit.xml': renderJUnit(report) };
  try {
    await client.applyObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: ref.namespace, name: ref.name, labels: { 'app.kubernetes.io/name': 'cni-migration' } }, data });
    process.stderr.write(`report written to ConfigMap ${ref.namespace}/${ref.name} (report.json, report.md, junit.xml)\n`);
  } catch (e) {
    warn(`could not write the report to ConfigMap ${ref.namespace}/${ref.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Writes a report: Markdown for .md, a self-contained page for .html, JSON otherwise. */
export function writeReport(path: string, report: RunRecorder['report']): void {
  const outcome = (report.extra['Outcome checks'] as OutcomeCheck[] | undefined) ?? [];
  writeFileSync(path, path.endsWith('.md') ? renderReportMarkdown(report) : /\.html?$/.test(path) ? renderHtmlReport(report, outcome) : `${JSON.stringify(report, null, 2)}\n`);
}

/** `status`: the source, the strategy, each node's phase and pods, each step's readiness. */
export async function statusAction(g: GlobalOptions, opts: { strategy?: string | undefined }): Promise<void> {
  const loaded = configFrom(g);
  const format = outputFormat(g);
  const client = clusterFrom(g, loaded.config.api);
  const prepared = await prepareFrom(client, loaded, opts.strategy, () => {});
  const { strategy, ctx } = prepared;
  const [snapshot, pods, ledger, lease] = await Promise.all([
    readClusterSnapshot(client, strategy.snapshotQuery(ctx)),
    client.listPods(),
    readLedger(client).catch(() => []),
    client.getObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...RUN_LOCK }).catch(() => undefined),
  ]);
  const lockVerdict = judgeLease((lease as { spec?: LeaseSpec } | undefined)?.spec, '', Date.now());
  // A holder on this machine whose process is gone was killed: no run is in progress, whatever its lease says.
  const deadHolder = lockVerdict.verdict === 'held' && localHolderGone(lockVerdict.holder) ? lockVerdict.holder : undefined;
  const lock = lockVerdict.verdict === 'held' && !deadHolder ? { holder: lockVerdict.holder, since: lockVerdict.since, renewedAgoSeconds: lockVerdict.renewedAgoSeconds } : null;
  const ending = lastRunEnding(ledger);
  const facts = nodePodFacts(pods, loaded.config.cilium.podCIDR, CILIUM_NETWORK);
  const taintKeys = strategy.taintKeys(ctx);
  const nodes = snapshot.nodes.map((n) => ({
    node: n.name,
    phase: strategy.nodePhase(n, ctx),
    cordoned: n.unschedulable,
    migrationTaint: n.taints.some((t) => taintKeys.includes(t.key)),
    pods: facts.get(n.name) ?? null,
  }));
  const steps = strategy.steps.map((s) => ({ ...strategy.readiness(s.id, snapshot, ctx), name: s.name }));
  const recorded = prepared.record ? `recorded ${prepared.record.startedAt} by ${prepared.record.startedBy}` : 'not started';
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ strategy: strategy.name, migration: prepared.record ?? null, source: prepared.source, pointOfNoReturn: strategy.pointOfNoReturn ?? null, nodes, steps, lock, lastRun: ending ?? null, ledgerEntries: ledger.length, ledger: ledger.slice(-100) }, null, 2)}\n`);
    return;
  }
  const w = Math.max(4, ...nodes.map((n) => n.node.length));
  const lines = [`Source: ${sourceText(prepared)}; strategy: ${strategy.name} (${recorded})`, ''];
  lines.push(`${'NODE'.padEnd(w)}  ${'PHASE'.padEnd(17)}  ${'PODS'.padEnd(40)}  NOTES`);
  for (const n of nodes) {
    const notes = [n.cordoned ? 'cordoned' : '', n.migrationTaint ? 'migration taint' : ''].filter(Boolean).join(', ');
    lines.push(`${n.node.padEnd(w)}  ${n.phase.padEnd(17)}  ${describeNodePodFacts(n.pods ?? undefined).padEnd(40)}  ${notes}`);
  }
  lines.push('', 'STEP  NAME        READY  DETAIL');
  for (const s of steps) lines.push(`${String(s.step).padEnd(4)}  ${s.name.padEnd(10)}  ${(s.ready ? 'yes' : 'no').padEnd(5)}  ${s.ready ? '' : s.reason}`);
  if (lock) lines.push('', `A run is in progress: ${lock.holder}, since ${lock.since} (lock renewed ${lock.renewedAgoSeconds}s ago).`);
  if (deadHolder) lines.push('', `No run is in progress: the migration lock's holder, ${deadHolder}, is a process of this machine that is gone (killed); the next run takes the lock over.`);
  if (ledger.length) {
    lines.push('', `Ledger (ConfigMap ${LEDGER.namespace}/${LEDGER.name}: ${ledger.length} entries; the last ${Math.min(5, ledger.length)}):`);
    for (const e of ledger.slice(-5)) lines.push(`  ${describeLedgerEntry(e)}`);
    if (ending && !lock) lines.push(`  Note: ${ending}`);
  }
  if (strategy.pointOfNoReturn) lines.push('', `Point of no return: step ${strategy.pointOfNoReturn.step} (${strategy.steps[strategy.pointOfNoReturn.step]?.name}): ${strategy.pointOfNoReturn.why}`);
  const next = steps.find((s) => !s.ready);
  if (lock) lines.push('', 'Next: wait for that run (cni-migration status again later).');
  else lines.push('', next ? `Next: cni-migration run --strategy ${strategy.name} --steps ${next.step} (dry run; add --no-dry-run to act)` : 'The migration is complete.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Registers plan, run and status. */
export function addMigrationCommands(program: Command): void {
  const globals = () => program.opts() as GlobalOptions & StepFlags & { dryRun?: boolean };
  addBatchFlags(addDualOverlayFlags(addStepFlags(program.command('plan').description('print the ordered actions the selected steps would take, changing nothing'), false))).action(async (opts) => {
    await planAction(globals(), { ...mergeStepFlags(globals(), opts), ...(opts as DualOverlayFlags & BatchFlags) });
  });
  addBatchFlags(addDualOverlayFlags(
    addStepFlags(
      program
        .command('run')
        .description('run the selected steps; a dry run (plan only) unless --no-dry-run')
        .option('--no-dry-run', 'act on the cluster (the default is a dry run)')
        .option('--report <file>', 'write a final report (Markdown for .md, a self-contained page for .html, else JSON)')
        .option('--junit <file>', 'write the run as JUnit XML for CI: a testcase per node and step, the preflight checks, connectivity')
        .option('--report-configmap <namespace/name>', 'also write the report (report.json, report.md, junit.xml) to this ConfigMap: for runs inside the cluster (manifests/job)')
        .option('--force-unlock', 'take the migration lock (Lease kube-system/cni-migration) even from a run that still holds it; only when that run is known dead'),
      false,
    ),
  )).action(async (opts) => {
    const o = opts as StepFlags & DualOverlayFlags & BatchFlags & { strategy?: string; dryRun?: boolean; report?: string; junit?: string; reportConfigmap?: string; forceUnlock?: boolean };
    // --no-dry-run is accepted before or after `run`.
    const dryRun = o.dryRun !== false && globals().dryRun !== false;
    await runAction(globals(), { ...mergeStepFlags(globals(), o), ...o, strategy: o.strategy, report: o.report, junit: o.junit, reportConfigMap: o.reportConfigmap, dryRun }, `cni-migration ${process.argv.slice(2).join(' ')}`);
  });
  addBatchFlags(addDualOverlayFlags(
    program
      .command('preflight')
      .description('judge the cluster before a migration: every check with its verdict, the objects it concerns and the fix; leaves the cluster as it was')
      .option('--strategy <name>', STRATEGY_HELP)
      .option('--no-tunnel-check', "skip the check of Cilium's tunnel port between nodes (the only check that writes: a short-lived hostNetwork DaemonSet)")
      .addHelpText(
        'after',
        `
The same checks run first in every \`run\` (dry runs included); a failing one refuses the run
before anything is written. Checks: nodes Ready, the API server's version, every permission the
plan needs (SelfSubjectAccessReview), what the drains would refuse or lose (pods without a
controller, emptyDir data), PodDisruptionBudgets that block evictions now or always, single-replica
workloads, admission webhooks served from the cluster that fail closed, the configuration's
preflightResources, and the strategy's own (pod CIDR overlaps, tunnel ports, a latent Cilium).
When all of those pass and Cilium does not run yet, a short-lived hostNetwork DaemonSet
(cni-migration-tunnel-check, in the probe namespace) binds Cilium's tunnel port (UDP) on every
node and checks that every pair of nodes gets through; it is deleted afterwards (a real run does
the same under its lock; connectivity.tunnelCheck.enabled: false turns it off).

Exit code 0 when nothing fails (warnings included), 1 when a check fails.`,
      ),
  )).action(async (opts) => {
    await preflightAction(globals(), opts);
  });
  program
    .command('status')
    .description("show the source CNI, the strategy, each node's phase and pod wiring, and each step's readiness")
    .option('--strategy <name>', STRATEGY_HELP)
    .action(async (opts) => {
      await statusAction(globals(), opts);
    });
}
