// Benchmark of a full migration on the simulated cluster: wall time, API requests per node (all,
// and apart from the one eviction or delete per pod), pod-proxy and watch requests, and peak
// memory, at 5, 50 and 200 nodes (BENCH_SIZES to change; BENCH_MAX_UNAVAILABLE=20% for batches,
// BENCH_COLLECTION=full for every probe's status through the pod proxy instead of collectors).
// Each size runs in a fresh child process so peak RSS is that run's. Prints a table; asserts
// nothing (figures, not tests).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../src/config/configSchema.js';
import { simulationTunedConfig } from '../src/config/simulationTuning.js';
import { openClusterFromText } from '../src/kube/cluster.js';
import { loadManifestBundles } from '../src/migration/manifestBundles.js';
import { verifyMigrationOutcome } from '../src/migration/outcomeCheck.js';
import { createProbeGate } from '../src/migration/probeConnectivityGate.js';
import { prepareMigration, runMigration } from '../src/migration/runMigration.js';
import { SimCluster } from '../src/sim/simCluster.js';

async function measure(nodes: number): Promise<Record<string, number | string | boolean>> {
  const config = simulationTunedConfig(
    ConfigSchema.parse({ batches: { maxUnavailable: process.env.BENCH_MAX_UNAVAILABLE ?? 1 }, connectivity: { collection: process.env.BENCH_COLLECTION ?? 'aggregated' } }),
    nodes,
  );
  const t0 = performance.now();
  const cluster = await SimCluster.start({ nodes });
  await cluster.waitUntilSettled(300_000);
  const tReady = performance.now();
  const { client } = openClusterFromText(cluster.kubeconfig());
  const snapshot = () => new Map(cluster.server.requestCounts);
  const before = snapshot();
  const prepared = await prepareMigration(client, config, { render: (source) => loadManifestBundles(config, undefined, source, () => {}) });
  await runMigration({ client, config, prepared, selection: { steps: [0, 1, 2, 3, 4, 5] }, dryRun: false, gate: () => createProbeGate(client, config), events: () => {}, pollIntervalMs: 100, resumeCommand: 'bench' });
  const tDone = performance.now();
  const delta = [...snapshot()].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const);
  const sum = (match: (key: string) => boolean) => delta.filter(([k]) => match(k)).reduce((a, [, v]) => a + v, 0);
  const requests = sum(() => true);
  const perPod = sum((k) => k === 'create pods/eviction' || k === 'delete pods');
  const outcome = await verifyMigrationOutcome(client, prepared, cluster.model.groundTruth.violations());
  await cluster.stop();
  return {
    nodes,
    verified: outcome.ok,
    'cluster ready s': Number(((tReady - t0) / 1000).toFixed(1)),
    'migration s': Number(((tDone - tReady) / 1000).toFixed(1)),
    'API requests': requests,
    'requests/node': Math.round(requests / nodes),
    'excl. evictions+deletes /node': Math.round((requests - perPod) / nodes),
    'pod proxy': sum((k) => k.endsWith('pods/proxy')),
    watches: sum((k) => k.startsWith('watch ')),
    'max unavailable': String(config.batches.maxUnavailable),
    collection: config.connectivity.collection,
    'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const arg = process.argv.indexOf('--nodes');
if (arg > 0) {
  process.stdout.write(`${JSON.stringify(await measure(Number(process.argv[arg + 1])))}\n`);
  process.exit(0);
}
const sizes = (process.env.BENCH_SIZES ?? '5,50,200').split(',').map(Number);
const rows: Record<string, number | string | boolean>[] = [];
for (const n of sizes) {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--nodes', String(n)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] });
    rows.push(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string | boolean>);
  } catch (e) {
    const raw = (e as { stderr?: unknown }).stderr;
    const stderr = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
    rows.push({ nodes: n, verified: false, error: (/Error: (.*)/.exec(stderr)?.[1] ?? String(e)).slice(0, 160) });
  }
  process.stderr.write(`measured ${n} nodes\n`);
}
console.table(rows);
