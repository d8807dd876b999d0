// Benchmark of the simulated cluster: start-up time, list and patch throughput over HTTP, churn
// (every pod of 5% of the nodes deleted at once, until the replacements run and the cluster has
// settled) and memory, at 10, 100 and 1000 nodes with about 30 pods per node. Each size runs in a
// fresh child process so memory figures do not mix. Prints a table; asserts nothing (figures, not tests).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SimCluster } from '../src/sim/simCluster.js';
import { simRequest } from '../test/support/simHttp.js';

const PODS_PER_NODE = 30;
/** Share of the nodes whose pods the churn figure deletes at once (50 of 1000, as a drain wave might). */
const CHURN_SHARE = 0.05;

/** Runs n requests, 8 at a time, and returns how many per second were done. */
async function rate(n: number, one: (i: number) => Promise<unknown>): Promise<number> {
  const s = performance.now();
  const conc = 8;
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) await one(next++);
  }));
  return Math.round((n / (performance.now() - s)) * 1000);
}

/**
 * Deletes every pod on the first CHURN_SHARE of the nodes through the API (DELETE, default grace)
 * and waits until the cluster has settled again: wall time and the process's CPU time, in ms. The
 * CPU time includes the benchmark's own HTTP client, a small part of it.
 */
async function measureChurn(cluster: SimCluster, nodeNames: readonly string[]): Promise<{ nodes: number; pods: number; ms: number; cpuMs: number }> {
  const nodes = nodeNames.slice(0, Math.max(1, Math.round(nodeNames.length * CHURN_SHARE)));
  const onNodes = new Set(nodes);
  const victims = cluster.store.list('pods').items.filter((p) => onNodes.has(p.spec?.nodeName as string));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await rate(victims.length, async (i) => {
    const p = victims[i]!;
    await simRequest(cluster, 'DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
  });
  await cluster.waitUntilSettled(600_000);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { nodes: nodes.length, pods: victims.length, ms: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

async function measure(nodes: number): Promise<Record<string, number | string>> {
  // canal (1/node) + web (N) are built in; a filler Deployment brings the total to ~30 pods/node.
  const filler = Math.max(0, PODS_PER_NODE * nodes - 2 * nodes);
  const scenario = `apiVersion: apps/v1
kind: Deployment
metadata: {name: filler, namespace: demo}
spec:
  replicas: ${filler}
  selector: {matchLabels: {app: filler}}
  template:
    metadata: {labels: {app: filler}}
    spec:
      containers: [{name: c, image: registry.k8s.io/pause:3.10}]
`;
  const t0 = performance.now();
  const cluster = await SimCluster.start({ nodes, scenarioText: scenario, settings: { timings: { podStartMs: 0, podStopMs: 0, agentReadyMs: 0, calicoAutodetectMs: 1000 } } });
  const tListening = performance.now() - t0;
  await cluster.waitUntilSettled(600_000);
  const tSettled = performance.now() - t0;
  const pods = cluster.store.count('pods');
  const nodeNames = cluster.store.list('nodes').items.map((n) => n.metadata.name!);
  const listOnNode = await rate(300, async (i) => {
    await simRequest(cluster, 'GET', `/api/v1/pods?fieldSelector=spec.nodeName%3D${nodeNames[i % nodeNames.length]}`);
  });
  const listNodes = await rate(100, async () => {
    await simRequest(cluster, 'GET', '/api/v1/nodes');
  });
  const patchNode = await rate(300, async (i) => {
    await simRequest(cluster, 'PATCH', `/api/v1/nodes/${nodeNames[i % nodeNames.length]}`, JSON.stringify({ metadata: { labels: { 'bench/i': String(i) } } }), { 'Content-Type': 'application/merge-patch+json' });
  });
  global.gc?.();
  const mem = process.memoryUsage();
  const churn = await measureChurn(cluster, nodeNames);
  await cluster.stop();
  return {
    nodes,
    pods,
    'listening ms': Math.round(tListening),
    'settled ms': Math.round(tSettled),
    'list pods/node req/s': listOnNode,
    'list nodes req/s': listNodes,
    'patch node req/s': patchNode,
    'churn pods': churn.pods,
    'churn ms': churn.ms,
    'churn cpu ms': churn.cpuMs,
    'rss MiB': Math.round(mem.rss / 2 ** 20),
    'heap MiB': Math.round(mem.heapUsed / 2 ** 20),
  };
}

const arg = process.argv.indexOf('--nodes');
if (arg > 0) {
  const row = await measure(Number(process.argv[arg + 1]));
  process.stdout.write(`${JSON.stringify(row)}\n`);
  process.exit(0);
}

const sizes = (process.env.BENCH_SIZES ?? '10,100,1000').split(',').map(Number);
const rows: Record<string, number | string>[] = [];
for (const n of sizes) {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--nodes', String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  rows.push(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string>);
  process.stderr.write(`measured ${n} nodes\n`);
}
console.table(rows);
