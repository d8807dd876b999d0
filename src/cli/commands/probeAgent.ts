import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { AgentServer } from '../../connectivity/agent/agentServer.js';
import { ClusterPeerSource } from '../../connectivity/agent/clusterPeerSource.js';
import { NodeTransport } from '../../connectivity/agent/nodeTransport.js';
import { DEFAULT_NETWORK_ALIASES } from '../../connectivity/agent/peerDiscovery.js';
import { ProbeAgent } from '../../connectivity/agent/probeAgent.js';
import { PROBE_PORT, PROBE_SERVICE } from '../../connectivity/connectivitySettings.js';
import { openCluster } from '../../kube/cluster.js';
import { UsageError } from '../errors.js';
import { parseIntOption } from '../parseOptions.js';
import { durationFlag } from './check.js';

/** The downward-API variables the manifest sets. */
const REQUIRED_ENV = ['POD_NAME', 'POD_NAMESPACE', 'NODE_NAME'] as const;

/**
 * `cni-migration probe-agent`: the connectivity probe, run inside the probe pods (see
 * manifests/probe/probe-agent.yaml). Probes every peer every --interval, serves /healthz, /status,
 * /metrics and /hello on --port, and stops cleanly on SIGTERM (saying goodbye on its flows).
 */
export function addProbeAgentCommand(program: Command): void {
  program
    .command('probe-agent')
    .description('run the connectivity probe agent (inside a probe pod; reads POD_NAME, POD_NAMESPACE, NODE_NAME, POD_IP)')
    .addOption(new Option('--port <port>', 'port to serve on and to probe peers at').default(PROBE_PORT).argParser(parseIntOption('--port', 0, 65535)))
    .option('--listen-address <ip>', 'address to bind', '0.0.0.0')
    .option('--interval <duration>', 'pause between probe rounds (every peer is probed once a round)', '2s')
    .option('--timeout <duration>', 'timeout of one probe', '1s')
    .option('--service <name>', "the probe Service, whose Endpoints list the peers (in the pod's namespace)", PROBE_SERVICE)
    .addOption(new Option('--max-flows <n>', 'long-lived connections held to peers on other nodes').default(3).argParser(parseIntOption('--max-flows', 0, 100)))
    .option('--peer-refresh <duration>', 'how long a read of the peers is reused (failures always re-read)', '10s')
    .option('--network-alias <name=alias...>', `display name of a CNI network (default: ${Object.entries(DEFAULT_NETWORK_ALIASES).map(([k, v]) => `${k}=${v}`).join(', ')})`)
    .action(async (opts, cmd) => {
      const g = cmd.optsWithGlobals() as { kubeconfig?: string | undefined; context?: string | undefined };
      const missing = REQUIRED_ENV.filter((k) => !process.env[k]);
      if (missing.length) throw new UsageError(`probe-agent needs ${missing.join(', ')} in its environment (the manifest sets them from the downward API)`);
      const self = { pod: process.env.POD_NAME!, namespace: process.env.POD_NAMESPACE!, node: process.env.NODE_NAME!, podIP: process.env.POD_IP || undefined };
      const intervalMs = durationFlag('--interval', opts.interval, 1);
      const timeoutMs = durationFlag('--timeout', opts.timeout, 1);
      const refreshMs = durationFlag('--peer-refresh', opts.peerRefresh, 0);
      const networkAliases = { ...DEFAULT_NETWORK_ALIASES, ...aliasesOf(opts.networkAlias ?? []) };
      const { client } = openCluster({ kubeconfig: g.kubeconfig, context: g.context });
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const agent = new ProbeAgent({
        self,
        port: opts.port,
        intervalMs,
        timeoutMs,
        maxFlows: opts.maxFlows,
        networkAliases,
        transport: new NodeTransport({ from: self.pod }),
        peers: new ClusterPeerSource(client, { namespace: self.namespace, service: opts.service, refreshMs }),
        log,
      });
      const server = new AgentServer(agent, { host: opts.listenAddress, port: opts.port });
      const address = await server.listen();
      process.stdout.write(`probe-agent ${self.namespace}/${self.pod} on ${self.node} listening on ${address.address}:${address.port}\n`);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        await agent.run(stop.signal);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await server.close();
        client.close();
      }
      process.stdout.write('probe-agent stopped\n');
    });
}

function aliasesOf(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const [name, alias, ...rest] = p.split('=');
    if (!name || !alias || rest.length) throw new UsageError(`--network-alias must be name=alias, got "${p}"`);
    out[name] = alias;
  }
  return out;
}
