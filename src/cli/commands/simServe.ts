import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { resolve } from 'node:path';
import { SimCluster } from '../../sim/simCluster.js';
import { parseIntOption } from '../parseOptions.js';

/** `cni-migration sim serve`: runs the simulated cluster until interrupted. */
export function addSimCommand(program: Command): void {
  const sim = program.command('sim').description('the built-in simulated Kubernetes cluster (API server + nodes + CNI data-plane model)');
  sim
    .command('serve')
    .description('start a simulated Canal cluster on 127.0.0.1 and keep it running until interrupted (Ctrl-C)')
    .addOption(new Option('--nodes <n>', 'number of simulated nodes (overrides the scenario)').argParser(parseIntOption('--nodes', 1, 5000)))
    .option('--scenario <file>', 'scenario file: Kubernetes objects plus an optional Simulation document (default: built-in Canal cluster)')
    .addOption(new Option('--port <port>', 'port to listen on (0 = any free port)').default(0).argParser(parseIntOption('--port', 0, 65535)))
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig for this cluster', '.sim/kubeconfig')
    .option('--verbose', 'log internal simulator errors to stderr')
    .addHelpText(
      'after',
      `
Examples:
  cni-migration sim serve --nodes 5
  KUBECONFIG=.sim/kubeconfig kubectl get nodes,pods -A -o wide

Live settings (firewall, API faults, timings) can be changed while it runs through the ConfigMap
kube-system/cni-migration-sim, key settings.yaml, e.g.:
  kubectl -n kube-system create configmap cni-migration-sim \\
    --from-literal=settings.yaml='firewall: {blocked: [{protocol: udp, port: 6081}]}'
Debug endpoints: /sim/v1/groundtruth, /sim/v1/nodes/<node>, /sim/v1/settings, /sim/v1/requests, /sim/v1/stats.`,
    )
    .action(async (opts) => {
      const kubeconfigOut = resolve(opts.kubeconfigOut);
      const started = Date.now();
      const cluster = await SimCluster.start({
        nodes: opts.nodes,
        scenarioFile: opts.scenario,
        port: opts.port,
        kubeconfigOut,
        log: opts.verbose ? (l) => process.stderr.write(`${l}\n`) : undefined,
      });
      await cluster.waitUntilSettled(60_000);
      const nodes = cluster.store.count('nodes');
      const pods = cluster.store.count('pods');
      process.stdout.write(
        [
          `Simulated cluster ready in ${Date.now() - started} ms: ${nodes} nodes, ${pods} pods, API server ${cluster.url}`,
          `Kubeconfig written to ${kubeconfigOut}`,
          '',
          'Use it with kubectl:',
          `  export KUBECONFIG=${kubeconfigOut}`,
          '  kubectl get nodes,pods -A -o wide',
          '',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await waitForSignal();
      await cluster.stop();
      process.stdout.write('Simulated cluster stopped.\n');
    });
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
