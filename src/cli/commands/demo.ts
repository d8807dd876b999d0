import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { openClusterFromText } from '../../kube/cluster.js';
import { simulationTunedConfig } from '../../config/simulationTuning.js';
import { loadConfig } from '../../config/loadConfig.js';
import { createProbeGate } from '../../migration/probeConnectivityGate.js';
import { runMigration } from '../../migration/runMigration.js';
import { loadManifestBundles } from '../../migration/manifestBundles.js';
import { createProgressReporter } from '../../report/progressReporter.js';
import { RunRecorder } from '../../report/runRecorder.js';
import { SimCluster } from '../../sim/simCluster.js';
import { verifyMigrationOutcome } from '../../migration/outcomeCheck.js';
import { parseIntOption } from '../parseOptions.js';
import { writeReport } from './migrationCommands.js';

/** `cni-migration demo`: a whole migration rehearsed on an in-process simulated cluster. */
export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('rehearse a full Canal-to-Cilium migration on a built-in simulated cluster and report the outcome')
    .addOption(new Option('--nodes <n>', 'number of simulated nodes').default(3).argParser(parseIntOption('--nodes', 1, 1000)))
    .option('--scenario <file>', 'scenario file (Kubernetes objects plus an optional Simulation document)')
    .option('--report <file>', 'write the final report (Markdown for .md, else JSON)')
    .addHelpText('after', '\nExit code 0 only if every node is migrated, clean-up is done, no probe failed and the\nsimulator saw no pod pair lose connectivity at any moment.\n')
    .action(async (opts) => {
      const g = program.opts() as { config?: string; logLevel?: string };
      const loaded = loadConfig(g.config, { explicit: g.config !== undefined });
      const config = simulationTunedConfig(loaded.config, opts.nodes);
      const started = Date.now();
      const cluster = await SimCluster.start({ nodes: opts.nodes, scenarioFile: opts.scenario });
      const progress = createProgressReporter(process.stderr, (g.logLevel as 'info' | undefined) ?? 'info');
      const recorder = new RunRecorder();
      try {
        await cluster.waitUntilSettled(120_000);
        process.stderr.write(`simulated cluster: ${cluster.store.count('nodes')} nodes, ${cluster.store.count('pods')} pods, API ${cluster.url} (ready in ${Date.now() - started} ms)\n`);
        const { client } = openClusterFromText(cluster.kubeconfig());
        let failure: Error | undefined;
        try {
          await runMigration({
            client,
            config,
            selection: { steps: [0, 1, 2, 3, 4, 5] },
            manifests: loadManifestBundles(config, loaded.file, (w) => progress({ type: 'warning', message: w })),
            dryRun: false,
            gate: () => createProbeGate(client, config),
            events: (e) => {
              recorder.sink(e);
              progress(e);
            },
            pollIntervalMs: 100,
            resumeCommand: 'cni-migration demo',
          });
        } catch (e) {
          failure = e instanceof Error ? e : new Error(String(e));
        }
        const outcome = await verifyMigrationOutcome(client, config, cluster.model.groundTruth.violations());
        recorder.report.extra['Outcome checks'] = outcome.checks;
        recorder.report.extra['Ground truth (simulator)'] = { violations: cluster.model.groundTruth.violations(), entries: cluster.model.groundTruth.entries().length };
        const probeFailures = recorder.report.connectivity.failedPairs.length;
        const ok = failure === undefined && outcome.ok && probeFailures === 0;
        recorder.report.ok = ok;
        if (opts.report) writeReport(opts.report, recorder.report);
        process.stdout.write(`${outcome.summary}\n  ${probeFailures === 0 ? 'ok  ' : 'FAIL'} no probe failed (${recorder.report.connectivity.pairChecks} pair checks at ${recorder.report.connectivity.checkpoints} checkpoints)\n`);
        if (opts.report) process.stdout.write(`Report written to ${opts.report}\n`);
        if (failure !== undefined) throw failure;
        if (!ok) process.exitCode = 1;
      } finally {
        await cluster.stop();
      }
    });
}
