import type { Command } from '@commander-js/extra-typings';
import { openCluster } from '../../kube/cluster.js';
import { collectAggregated } from '../../connectivity/collectAggregated.js';
import { collectProbeStatuses } from '../../connectivity/collectProbeStatuses.js';
import { buildConnectivityMatrix } from '../../connectivity/connectivityMatrix.js';
import { PROBE_NAMESPACE, PROBE_POD_SELECTOR, connectivitySettings } from '../../connectivity/connectivitySettings.js';
import { parseDuration } from '../../connectivity/duration.js';
import { renderMatrixText } from '../../report/matrixText.js';
import { EXIT_FAILED, UsageError } from '../errors.js';

/** The global options `check` reads (defined on the root command: kubectl's conventions). */
interface CheckGlobals {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  output?: string | undefined;
}

/**
 * `cni-migration check`: asks a few collector agents (one proxied request each) for every probe
 * pod's results and prints what failed; with --full reads every pod's /status through the API
 * server's pod proxy and prints the node × node matrix. Exit 0 only when every pair is ok, 1 when a pair failed (or a
 * probe pod did not report), 2 on bad usage or configuration.
 */
export function addCheckCommand(program: Command): void {
  program
    .command('check')
    .description('collect every probe pod\'s results (through collector agents, or with --full each one through the API server) and report failing pairs')
    .option('--namespace <namespace>', 'namespace of the probe pods', PROBE_NAMESPACE)
    .option('--selector <labels>', 'label selector of the probe pods', PROBE_POD_SELECTOR)
    .option('--timeout <duration>', "timeout of one pod's /status request through the API server", '5s')
    .option('--flow-window <duration>', 'a long-lived flow cut by the network this recently fails the check', '2m')
    .option('--full', "read every probe pod's status through the API server and print the whole node x node matrix (default: ask two collector agents, which read their peers over the pod network, and print what failed)")
    .option('--collectors <n>', 'collector agents asked (without --full)', '2')
    .addHelpText(
      'after',
      `
Uses --kubeconfig, --context and -o text|json from the root command.
Deploy the probes first (manifests/probe/probe-agent.yaml, or the preflight step).

Exit codes: 0 every pair ok, 1 some pair failed or a probe pod did not report, 2 bad usage or config.`,
    )
    .action(async (opts, cmd) => {
      const g = cmd.optsWithGlobals() as CheckGlobals & typeof opts;
      const format = g.output ?? 'text';
      if (format !== 'text' && format !== 'json') throw new UsageError(`-o/--output must be text or json, got "${format}"`);
      const settings = connectivitySettings({
        namespace: opts.namespace,
        labelSelector: opts.selector,
        timeoutMs: durationFlag('--timeout', opts.timeout, 1),
        flowBreakWindowMs: durationFlag('--flow-window', opts.flowWindow, 0),
        collectors: countFlag('--collectors', opts.collectors),
      });
      const { client } = openCluster({ kubeconfig: g.kubeconfig, context: g.context });
      try {
        const collection = opts.full ? await collectProbeStatuses(client, settings) : await collectAggregated(client, settings);
        const matrix = buildConnectivityMatrix(collection, { flowBreakWindowMs: settings.flowBreakWindowMs });
        process.stdout.write(format === 'json' ? `${JSON.stringify({ ...matrix, via: collection.via ?? { mode: 'full' } }, null, 2)}\n` : renderMatrixText(matrix, collection.via));
        if (!matrix.ok) process.exitCode = EXIT_FAILED;
      } finally {
        client.close();
      }
    });
}

function countFlag(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a whole number of 1 or more, got "${value}"`);
  return Number(value);
}

/** A duration flag in ms, at least `min`; bad values are usage errors (exit 2). */
export function durationFlag(flag: string, value: string, min: number): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) throw new UsageError(`${flag} must be a duration${min > 0 ? ' above zero' : ''} such as 500ms, 5s or 1m, got "${value}"`);
  return ms;
}
