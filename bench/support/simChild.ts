// A simulated cluster in its own process, so a benchmark reads the simulator's peak RSS apart
// from the CLI's. argv: <nodes> <scenario file> <kubeconfig out>. Prints "READY {url, token, caCert}" once settled (for its /sim/v1 endpoints);
// on "stop" (stdin) prints {"maxRssMiB": …} and exits.
import { createInterface } from 'node:readline';
import { SimCluster } from '../../src/sim/simCluster.js';

const [nodes, scenarioFile, kubeconfigOut] = process.argv.slice(2);
const cluster = await SimCluster.start({ nodes: Number(nodes), scenarioFile, kubeconfigOut });
await cluster.waitUntilSettled(1_800_000);
process.stdout.write(`READY ${JSON.stringify({ url: cluster.url, token: cluster.token, caCert: cluster.caCert })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stop') continue;
  const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  await cluster.stop();
  process.stdout.write(`${JSON.stringify({ maxRssMiB })}\n`);
  process.exit(0);
}
