// Scale benchmark (issue 10): a whole migration at 50, 200 and 1000 nodes with about 30 pods per
// node, the simulator in its own process. Prints, per size: wall time, API requests per node
// apart from the one eviction or delete per pod, checkpoints and pod-proxy bytes per checkpoint,
// peak RSS of the CLI (this process) and of the simulator, the API server's p99 latency — and, on
// the same cluster, the same figures for a loop in the original tool's style (poll every second
// with a list per namespace; read every probe's full status at each checkpoint), so the ratio is
// measured side by side. Asserts nothing: figures, not tests.
//   BENCH_SIZES=50,200,1000  BENCH_PODS_PER_NODE=30  BENCH_MAX_UNAVAILABLE=5%  BENCH_STRATEGY=multus  BENCH_NODE_ARGS=…
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../src/config/configSchema.js';
import { simulationTunedConfig } from '../src/config/simulationTuning.js';
import { PROBE_PORT } from '../src/connectivity/connectivitySettings.js';
import { openClusterFromText } from '../src/kube/cluster.js';
import type { ClusterClient } from '../src/kube/clusterClient.js';
import { loadManifestBundles } from '../src/migration/manifestBundles.js';
import { verifyMigrationOutcome } from '../src/migration/outcomeCheck.js';
import { createProbeGate } from '../src/migration/probeConnectivityGate.js';
import { prepareMigration, runMigration } from '../src/migration/runMigration.js';

type Row = Record<string, number | string | boolean>;
type Counts = Record<string, number>;
interface Stats {
  answers: number;
  p50Ms: number;
  p99Ms: number;
  bytes: Counts;
}

// Extra node flags for both processes, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (NODE_OPTIONS refuses --cpu-prof).
const EXTRA_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const PODS_PER_NODE = Number(process.env.BENCH_PODS_PER_NODE ?? 30);
const WORKLOADS = 4;

/** Workloads for ~PODS_PER_NODE pods per node beside the built-in cluster's (web, canal, probes). */
function scenario(nodes: number): string {
  const replicas = Math.max(1, Math.round(((PODS_PER_NODE - 2) * nodes) / WORKLOADS));
  const docs = ['apiVersion: v1\nkind: Namespace\nmetadata:\n  name: scale'];
  for (let i = 1; i <= WORKLOADS; i++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: load-${i}, namespace: scale, labels: {app: load-${i}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: load-${i}}}
  template:
    metadata: {labels: {app: load-${i}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]`);
    docs.push(`apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: load-${i}, namespace: scale}
spec: {maxUnavailable: 10%, selector: {matchLabels: {app: load-${i}}}}`);
  }
  return `${docs.join('\n---\n')}\n`;
}

interface SimAddress {
  url: string;
  token: string;
  caCert: string;
}

/** GET of one of the simulator's /sim/v1 endpoints. */
function debug<T>(sim: SimAddress, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    https
      .get(`${sim.url}${path}`, { ca: sim.caCert, headers: { Authorization: `Bearer ${sim.token}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as T) : reject(new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 200)}`))));
      })
      .on('error', reject);
  });
}

function diff(after: Counts, before: Counts): Counts {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}
const sum = (c: Counts, match: (k: string) => boolean) => Object.entries(c).filter(([k]) => match(k)).reduce((a, [, v]) => a + v, 0);

/** The original tool's way of watching a migration, for `seconds` of polling and `checkpoints` full reads. */
async function originalStyle(client: ClusterClient, sim: SimAddress, probeNamespace: string, checkpoints: number, seconds: number): Promise<{ requests: number; proxyBytes: number; pollRequests: number }> {
  const before = await debug<Counts>(sim, '/sim/v1/requests');
  const bytesBefore = (await debug<Stats>(sim, '/sim/v1/stats')).bytes;
  const namespaces = (await client.listObjects({ apiVersion: 'v1', kind: 'Namespace' })).map((n: { metadata: { name?: string } }) => n.metadata.name ?? '');
  // One second of polling: every namespace's pods and DaemonSets, as `kubectl get` in a loop does.
  for (let s = 0; s < seconds; s++) {
    for (const ns of namespaces) {
      await client.listPods({ namespace: ns });
      await client.listObjects({ apiVersion: 'apps/v1', kind: 'DaemonSet' }, { namespace: ns });
    }
  }
  const afterPoll = await debug<Counts>(sim, '/sim/v1/requests');
  for (let c = 0; c < checkpoints; c++) {
    const probes = await client.listPods({ namespace: probeNamespace });
    for (const p of probes) {
      if (p.status?.phase !== 'Running') continue;
      await client.proxyPodGet(probeNamespace, p.metadata.name ?? '', PROBE_PORT, '/status').catch(() => undefined);
    }
  }
  const after = await debug<Counts>(sim, '/sim/v1/requests');
  const bytesAfter = (await debug<Stats>(sim, '/sim/v1/stats')).bytes;
  return {
    pollRequests: sum(diff(afterPoll, before), () => true) / Math.max(1, seconds),
    requests: sum(diff(after, afterPoll), () => true) / Math.max(1, checkpoints),
    proxyBytes: sum(diff(bytesAfter, bytesBefore), (k) => k.endsWith('pods/proxy')) / Math.max(1, checkpoints),
  };
}

async function startSim(nodes: number, dir: string): Promise<{ kubeconfig: string; address: SimAddress; stop: () => Promise<number> }> {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, scenario(nodes));
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [...EXTRA_NODE_ARGS, '--import', 'tsx', fileURLToPath(new URL('./support/simChild.ts', import.meta.url)), String(nodes), file, kubeconfig], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code}) before answering`)));
  });
  const ready = await next();
  if (!ready.startsWith('READY ')) throw new Error(`the simulator did not come up: ${ready}`);
  return {
    kubeconfig,
    address: JSON.parse(ready.slice(6)) as SimAddress,
    stop: async () => {
      child.stdin.write('stop\n');
      return (JSON.parse(await next()) as { maxRssMiB: number }).maxRssMiB;
    },
  };
}

// Which action a client call serves: set from the executor's 'action' event, which is emitted
// synchronously inside the action's own async context, so enterWith scopes it to that action.
const currentAction = new AsyncLocalStorage<string>();

/** A client that counts its calls by the action they serve and the method called. */
function attributingClient(client: ClusterClient, counts: Counts): ClusterClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const key = `${currentAction.getStore() ?? 'outside actions'}: ${String(prop)}`;
        counts[key] = (counts[key] ?? 0) + 1;
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'proxyPodGet' && process.env.BENCH_DUMP_PROXY) {
          void (result as Promise<{ body: string }>).then((r) => {
            const k = `${String(args[3])} bytes`;
            counts[k] = (counts[k] ?? 0) + r.body.length;
            if (r.body.length > largest.length) largest = r.body;
          }, () => undefined);
        }
        return result;
      };
    },
  });
}

let largest = '';

/** Waits until demo/web's budget allows more than one disruption (the disruption controller caught up). */
async function waitForBudget(client: ClusterClient): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const pdbs = await client.listPodDisruptionBudgets('demo');
    if ((pdbs.find((p) => p.metadata.name === 'web')?.status?.disruptionsAllowed ?? 0) > 1) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('demo/web never allowed more than one disruption');
}

async function measure(nodes: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'cni-migration-scale-'));
  const t0 = performance.now();
  const sim = await startSim(nodes, dir);
  const tReady = performance.now();
  const { client: plainClient } = openClusterFromText(readFileSync(sim.kubeconfig, 'utf8'));
  const byAction: Counts = {};
  const client = attributingClient(plainClient, byAction);
  // The built-in cluster's demo/web runs a pod on every node under a budget of one disruption:
  // with it, every node must go alone (as the batch planner rightly insists). Relaxed to 10% here,
  // like the load's, so the batches --max-unavailable asks for are possible.
  await client.patchObject({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'demo', name: 'web' }, { type: 'merge', body: { spec: { maxUnavailable: '10%' } } });
  await waitForBudget(client);
  const config = simulationTunedConfig(ConfigSchema.parse({ batches: { maxUnavailable: process.env.BENCH_MAX_UNAVAILABLE ?? '5%' } }), nodes);
  const pods = (await client.listPods()).length;
  const before = await debug<Counts>(sim.address, '/sim/v1/requests');
  const bytesBefore = (await debug<Stats>(sim.address, '/sim/v1/stats')).bytes;
  const prepared = await prepareMigration(client, config, { strategy: process.env.BENCH_STRATEGY, render: (source, strategy) => loadManifestBundles(config, undefined, source, () => {}, strategy.name) });
  let checkpoints = 0;
  // A failed run still stops the simulator properly (its CPU profile, with BENCH_NODE_ARGS, is written on exit).
  const migrating = runMigration({
    client,
    config,
    prepared,
    selection: { steps: prepared.strategy.steps.map((s) => s.id) },
    dryRun: false,
    gate: () => createProbeGate(client, config),
    events: (e) => {
      if (e.type === 'connectivity') checkpoints++;
      if (e.type === 'action') currentAction.enterWith(e.action.kind);
      // Progress on stderr: where a long run is, and how long each batch took.
      if (e.type === 'actionDone' && e.node === undefined && e.ms > 2000) process.stderr.write(`${((performance.now() - tReady) / 1000).toFixed(1)}s   ${e.action.kind} took ${(e.ms / 1000).toFixed(1)}s\n`);
      if (e.type === 'stepStart' || e.type === 'batchStart' || e.type === 'stepDone' || e.type === 'settle') process.stderr.write(`${((performance.now() - tReady) / 1000).toFixed(1)}s ${e.type} step ${e.step}${e.type === 'batchStart' ? ` batch ${e.index + 1}/${e.total} (${e.nodes.length} nodes)` : ''}\n`);
    },
    pollIntervalMs: 100,
    resumeCommand: 'bench',
  });
  try {
    await migrating;
  } catch (e) {
    await sim.stop();
    throw e;
  }
  const tDone = performance.now();
  const requests = diff(await debug<Counts>(sim.address, '/sim/v1/requests'), before);
  const stats = await debug<Stats>(sim.address, '/sim/v1/stats');
  const proxyBytes = sum(diff(stats.bytes, bytesBefore), (k) => k.endsWith('pods/proxy'));
  const all = sum(requests, () => true);
  const perPod = sum(requests, (k) => k === 'create pods/eviction' || k === 'delete pods');
  const outcome = await verifyMigrationOutcome(client, prepared, (await debug<{ violations: never[] }>(sim.address, '/sim/v1/groundtruth')).violations);
  const migrationS = (tDone - tReady) / 1000;
  const top = Object.entries(requests).sort(([, a], [, b]) => b - a).slice(0, 12);
  process.stderr.write(`${nodes} nodes, requests per node by kind: ${top.map(([k, v]) => `${k} ${(v / nodes).toFixed(1)}`).join(', ')}\n`);
  if (process.env.BENCH_DUMP_PROXY) writeFileSync(process.env.BENCH_DUMP_PROXY, largest);
  const topCalls = Object.entries(byAction).sort(([, a], [, b]) => b - a).slice(0, 40);
  process.stderr.write(`${nodes} nodes, client calls per node by action: ${topCalls.map(([k, v]) => `${k} ${(v / nodes).toFixed(1)}`).join(', ')}\n`);
  // The original loop on the same cluster: a few checkpoints and seconds measured, scaled to this run's.
  const orig = await originalStyle(client, sim.address, config.connectivity.namespace, 3, 3);
  const origPerNode = (orig.requests * checkpoints + orig.pollRequests * migrationS) / nodes;
  const cliRss = Math.round(process.resourceUsage().maxRSS / 1024);
  const simRss = await sim.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    nodes,
    pods,
    strategy: prepared.strategy.name,
    verified: outcome.ok,
    'cluster up s': Number(((tReady - t0) / 1000).toFixed(1)),
    'migration s': Number(migrationS.toFixed(1)),
    'req/node excl. evictions': Math.round((all - perPod) / nodes),
    checkpoints,
    'proxy KiB/checkpoint': Number((proxyBytes / 1024 / Math.max(1, checkpoints)).toFixed(1)),
    'API p99 ms': stats.p99Ms,
    'CLI RSS MiB': cliRss,
    'sim RSS MiB': simRss,
    'orig req/node (same run)': Math.round(origPerNode),
    'orig req/checkpoint': Math.round(orig.requests),
    'orig proxy KiB/checkpoint': Number((orig.proxyBytes / 1024).toFixed(1)),
    'orig polls req/s': Math.round(orig.pollRequests),
  };
}

const arg = process.argv.indexOf('--nodes');
if (arg > 0) {
  process.stdout.write(`${JSON.stringify(await measure(Number(process.argv[arg + 1])))}\n`);
  process.exit(0);
}
const sizes = (process.env.BENCH_SIZES ?? '50,200,1000').split(',').map(Number);
const rows: Row[] = [];
for (const n of sizes) {
  // A fresh process per size: peak RSS is that size's.
  const child = spawn(process.execPath, [...EXTRA_NODE_ARGS, '--import', 'tsx', fileURLToPath(import.meta.url), '--nodes', String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    process.stderr.write(d);
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const last = out.trim().split('\n').pop() ?? '';
  rows.push(code === 0 && last.startsWith('{') ? (JSON.parse(last) as Row) : { nodes: n, verified: false, error: (/Error: (.*)/.exec(err)?.[1] ?? `exit ${code}`).slice(0, 160) });
  process.stderr.write(`measured ${n} nodes\n`);
}
console.table(rows);
