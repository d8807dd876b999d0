import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { TunnelCheckAgent } from '../../connectivity/tunnelCheck/tunnelCheckAgent.js';
import { UsageError } from '../errors.js';
import { parseIntOption } from '../parseOptions.js';

/**
 * `cni-migration tunnel-check-agent`: the preflight's short-lived hostNetwork agent (one per node)
 * that binds Cilium's tunnel port and tells which nodes answer on it.
 */
export function addTunnelCheckAgentCommand(program: Command): void {
  program
    .command('tunnel-check-agent')
    .description("run the preflight's tunnel-port check agent (inside its hostNetwork pod; reads NODE_NAME)")
    .addOption(new Option('--port <port>', 'the UDP port to bind and to probe (Cilium tunnel port)').argParser(parseIntOption('--port', 1, 65535)).makeOptionMandatory())
    .addOption(new Option('--http-port <port>', 'where GET /udp and /healthz are served').default(9879).argParser(parseIntOption('--http-port', 1, 65535)))
    .action(async (opts) => {
      const node = process.env.NODE_NAME;
      if (!node) throw new UsageError('tunnel-check-agent needs NODE_NAME in its environment (the manifest sets it from the downward API)');
      const agent = new TunnelCheckAgent({ node, port: opts.port, httpPort: opts.httpPort });
      const bound = await agent.listen();
      process.stdout.write(`tunnel-check-agent on ${node}: UDP ${bound.udp.port}, HTTP ${bound.http.port}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      await agent.close();
    });
}
