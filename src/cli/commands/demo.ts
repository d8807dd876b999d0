import { writeFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { openClusterFromText } from '../../kube/cluster.js';
import { simulationTunedConfig } from '../../config/simulationTuning.js';
import { loadConfig } from '../../config/loadConfig.js';
import { loadManifestBundles } from '../../migration/manifestBundles.js';
import { verifyMigrationOutcome } from '../../migration/outcomeCheck.js';
import { PreflightRefusedError } from '../../migration/preflightChecks.js';
import { createProbeGate } from '../../migration/probeConnectivityGate.js';
import { prepareMigration, runMigration, strategyByName } from '../../migration/runMigration.js';
import { createProgress } from '../../report/terminalProgress.js';
import { eventLine, reportLine } from '../../report/eventStream.js';
import type { ExchangeNotice } from '../../kube/httpTransport.js';
import { renderJUnit } from '../../report/junitReport.js';
import { RunRecorder } from '../../report/runRecorder.js';
import type { MigrationEvent } from '../../migration/migrationEvents.js';
import { SimCluster } from '../../sim/simCluster.js';
import { clientTuning, debugLoggerFor, withBatchFlags, withDualOverlayFlags } from '../cliContext.js';
import { assertCanaryAnswerable, terminalConfirm } from '../operatorPrompt.js';
import { FailedResultError } from '../errors.js';
import { usesPodNetwork } from '../../ops/deleteNodePods.js';
import { podWorkload } from '../../ops/podWorkload.js';
import type { Pod } from '../../kube/kubeTypes.js';
import { parseIntOption } from '../parseOptions.js';
import { logLevel, STRATEGY_HELP, writeReport } from './migrationCommands.js';

/** `cni-migration demo`: a whole migration rehearsed on an in-process simulated cluster. */
export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('rehearse a full migration to Cilium on a simulated cluster (built-in Canal cluster, or --scenario) and report the outcome')
    .addOption(new Option('--nodes <n>', 'number of simulated nodes (default 3, or the scenario\'s Simulation.nodes count); a scenario that names its nodes keeps them').argParser(parseIntOption('--nodes', 1, 1000)))
    .option('--scenario <file>', 'scenario file (Kubernetes objects plus an optional Simulation document); see scenarios/')
    .option('--strategy <name>', STRATEGY_HELP)
    .option('--report <file>', 'write the final report (Markdown for .md, a self-contained page with a timeline and a heat map for .html, else JSON)')
    .option('--junit <file>', 'write the rehearsal as JUnit XML for CI: a testcase per node and step, the preflight checks, connectivity, the outcome checks')
    .option('--fix-calico-autodetection', "from Calico: switch calico-node's address autodetection to the node's InternalIP before Cilium runs")
    .option('--rollback <auto|off>', 'dual-overlay: roll a node back at once when its gate fails (default auto)')
    .option('--no-policy-bridge', 'dual-overlay from Calico/Canal: rehearse without the NetworkPolicy bridge (Cilium at enable-policy never until finalize)')
    .option('--max-unavailable <N|P%>', "per-node steps: nodes worked on at once, a count or a percentage of the cluster's nodes (default 1)")
    .option('--canary', 'per-node steps: the first node goes alone, then the rehearsal asks before the others')
    .option('--canary-wait <duration>', 'with the canary: watch connectivity this long after it, then go on')
    .addHelpText(
      'after',
      `
The source CNI is detected from the simulated cluster, as on a real one (cni-migration detect).
Scenarios of stock installs ship in scenarios/ (e.g. --scenario scenarios/canal.yaml).
Exit code 0 only if every node is migrated, clean-up is done, no probe failed and the
simulator saw no pod pair lose connectivity at any moment — nor, with NetworkPolicies the source
enforces, a pair they deny open (scenarios/*-policies.yaml rehearse that).`,
    )
    .action(async (opts) => {
      const g = program.opts() as { config?: string; logLevel?: string; output?: string };
      const loaded = withBatchFlags(withDualOverlayFlags(loadConfig(g.config, { explicit: g.config !== undefined }), opts), opts);
      const confirm = terminalConfirm();
      assertCanaryAnswerable(loaded.config, confirm);
      if (opts.strategy !== undefined) strategyByName(opts.strategy);
      const started = Date.now();
      const cluster = await SimCluster.start({ nodes: opts.nodes, scenarioFile: opts.scenario, log: (l) => (l.startsWith('scenario: ') ? process.stderr.write(`note: ${l.slice(10)}\n`) : undefined) });
      const progress = createProgress(process.stderr, { level: logLevel(g), quiet: (g as { quiet?: boolean }).quiet });
      const recorder = new RunRecorder();
      // -o json: NDJSON events then the report on stdout; the human summary moves to stderr.
      const json = g.output === 'json';
      const dbg = debugLoggerFor(g);
      const say = (text: string) => (json ? process.stderr : process.stdout).write(text);
      try {
        await cluster.waitUntilSettled(120_000);
        const nodeCount = cluster.store.count('nodes');
        process.stderr.write(`simulated cluster: ${nodeCount} nodes, ${cluster.store.count('pods')} pods, API ${cluster.url} (ready in ${Date.now() - started} ms)\n`);
        const config = simulationTunedConfig(loaded.config, nodeCount);
        const events = (e: MigrationEvent) => {
          recorder.sink(e);
          progress(e);
          if (json) process.stdout.write(eventLine(e));
          dbg?.debug({ event: e }, e.type);
        };
        const { client } = openClusterFromText(cluster.kubeconfig(), { ...clientTuning(config.api), onRetry: (notice) => events({ type: 'apiRetry', notice, at: Date.now() }), ...(dbg ? { onExchange: (x: ExchangeNotice) => dbg.debug(x, 'api request') } : {}) });
        const warn = (w: string) => progress({ type: 'warning', message: w });
        const prepared = await prepareMigration(client, config, { strategy: opts.strategy, render: (source, strategy) => loadManifestBundles(config, loaded.file, source, warn, strategy.name) });
        // The application's pods before the run: re-creations are counted against these.
        const podsBefore = countByWorkload((await client.listPods()).filter(usesPodNetwork));
        // Denied pairs a source that enforces no policy (Flannel) lets through are not the migration's doing.
        const violationOpts = { opened: prepared.source.policyEnforcement !== 'none' };
        let failure: Error | undefined;
        try {
          await runMigration({
            client,
            config,
            prepared,
            selection: { steps: prepared.strategy.steps.map((s) => s.id) },
            dryRun: false,
            gate: () => createProbeGate(client, config),
            events,
            pollIntervalMs: 100,
            resumeCommand: 'cni-migration demo',
            confirm,
          });
        } catch (e) {
          // Refused before anything was written: there is no outcome to verify.
          if (e instanceof PreflightRefusedError) throw e;
          failure = e instanceof Error ? e : new Error(String(e));
        }
        const outcome = await verifyMigrationOutcome(client, prepared, cluster.model.groundTruth.violations(violationOpts));
        recorder.report.extra['Outcome checks'] = outcome.checks;
        recorder.report.extra['Ground truth (simulator)'] = { violations: cluster.model.groundTruth.violations(violationOpts), entries: cluster.model.groundTruth.entries().length };
        const recreations = Object.entries(podsBefore)
          .filter(([w]) => !w.startsWith('DaemonSet '))
          .map(([workload, pods]) => ({ workload, pods, recreated: recorder.report.podRecreations[workload] ?? 0, perPod: Number(((recorder.report.podRecreations[workload] ?? 0) / pods).toFixed(2)) }));
        recorder.report.extra['Pod re-creations per workload'] = recreations;
        const probeFailures = recorder.report.connectivity.failedPairs.length;
        const ok = failure === undefined && outcome.ok && probeFailures === 0;
        recorder.report.ok = ok;
        if (opts.report) writeReport(opts.report, recorder.report);
        if (opts.junit) writeFileSync(opts.junit, renderJUnit(recorder.report, outcome.checks));
        if (json) process.stdout.write(reportLine(recorder.report, { outcome: outcome.checks }));
        say(`${outcome.summary}\n  ${probeFailures === 0 ? 'ok  ' : 'FAIL'} no probe failed (${recorder.report.connectivity.pairChecks} pair checks at ${recorder.report.connectivity.checkpoints} checkpoints)\n`);
        if (recreations.length) say(`Pods re-created (${prepared.strategy.name}, ${(recorder.report.durationMs / 1000).toFixed(1)} s): ${recreations.map((r) => `${r.workload} ${r.recreated} for ${r.pods} pods (×${r.perPod})`).join(', ')}\n`);
        const retried = Object.entries(recorder.report.apiRetries);
        if (retried.length) say(`API requests retried: ${retried.reduce((a, [, n]) => a + n, 0)} (${retried.map(([why, n]) => `${n} × ${why}`).join(', ')})\n`);
        if (opts.report) say(`Report written to ${opts.report}\n`);
        if (opts.junit) say(`JUnit XML written to ${opts.junit}\n`);
        if (failure !== undefined) throw failure;
        if (!ok) throw new FailedResultError('the rehearsed migration was not verified (see the checks above)');
      } finally {
        await cluster.stop();
      }
    });
}

function countByWorkload(pods: readonly Pod[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pods) out[podWorkload(p)] = (out[podWorkload(p)] ?? 0) + 1;
  return out;
}
