import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../sim/simCluster.js';
import { applyManifests } from '../ops/applyManifests.js';
import { uncordonNode } from '../ops/cordon.js';
import { Deadline } from '../ops/deadline.js';
import { drainNode } from '../ops/drain.js';
import { labelNode } from '../ops/label.js';
import { DrainError } from '../ops/opsErrors.js';
import type { OpsEvent } from '../ops/opsEvents.js';
import { waitForRollout } from '../ops/rollout.js';
import { addTaint, removeTaint } from '../ops/taint.js';
import { KubeCluster, openClusterFromText } from './cluster.js';
import type { ClusterClient } from './clusterClient.js';
import type { KubeObject } from './kubeTypes.js';
import { parseManifestDocuments } from './manifestParser.js';

// The real ClusterClient over HTTP against the simulated API server, driving the primitives.
const SEED = join(import.meta.dirname, '..', '..', '..', 'shared', 'seed');

function seedObjects(file: string): KubeObject[] {
  const path = join(SEED, file);
  return parseManifestDocuments(readFileSync(path, 'utf8'), path).map((d) => d.value as unknown as KubeObject);
}

/** A client whose next patchNode is preceded by a competing write, so the server answers 409. */
function racingClient(client: KubeCluster, node: string): { racing: ClusterClient; raced: () => boolean } {
  let raced = false;
  const racing = new Proxy(client, {
    get(target, prop) {
      if (prop === 'patchNode' && !raced) {
        return async (...args: Parameters<ClusterClient['patchNode']>) => {
          raced = true;
          await target.patchNode(node, { metadata: { annotations: { 'example.com/racer': 'was-here' } } });
          return target.patchNode(...args);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { racing, raced: () => raced };
}

describe('KubeCluster against the simulated cluster', () => {
  let sim: SimCluster;
  let client: KubeCluster;

  beforeAll(async () => {
    sim = await SimCluster.start({ nodes: 3 });
    await sim.waitUntilSettled();
    client = openClusterFromText(sim.kubeconfig()).client;
  });

  afterAll(async () => {
    client?.close();
    await sim?.stop();
  });

  it('lists nodes, with a label selector', async () => {
    const nodes = await client.listNodes();
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    const one = await client.listNodes({ labelSelector: 'kubernetes.io/hostname=node-2' });
    expect(one.map((n) => n.metadata.name)).toEqual(['node-2']);
  });

  it('labels nodes by merge patch, null removing', async () => {
    await labelNode(client, 'node-1', { 'node-role.kubernetes.io/canal-cilium': 'true' });
    expect(sim.store.get('nodes', undefined, 'node-1')?.metadata.labels?.['node-role.kubernetes.io/canal-cilium']).toBe('true');
    // Setting it again changes nothing on the server: the node keeps its resourceVersion.
    const rv = sim.store.get('nodes', undefined, 'node-1')?.metadata.resourceVersion;
    await labelNode(client, 'node-1', { 'node-role.kubernetes.io/canal-cilium': 'true' });
    expect(sim.store.get('nodes', undefined, 'node-1')?.metadata.resourceVersion).toBe(rv);
    await labelNode(client, 'node-1', { 'node-role.kubernetes.io/canal-cilium': null });
    expect(sim.store.get('nodes', undefined, 'node-1')?.metadata.labels).not.toHaveProperty('node-role.kubernetes.io/canal-cilium');
  });

  it('taints with the resourceVersion read, and retries the 409 a competing write causes', async () => {
    const { racing, raced } = racingClient(client, 'node-2');
    const seen: OpsEvent[] = [];
    const taint = { key: 'node-role.kubernetes.io/cilium', value: 'cilium', effect: 'NoExecute' as const };
    expect(await addTaint(racing, 'node-2', taint, { events: (e) => seen.push(e) })).toEqual({ changed: true });
    expect(raced()).toBe(true);
    expect(seen).toContainEqual({ type: 'conflictRetry', object: 'node node-2', attempt: 1 });
    const node = sim.store.get('nodes', undefined, 'node-2');
    expect(node?.spec.taints).toContainEqual(taint);
    expect(node?.metadata.annotations?.['example.com/racer']).toBe('was-here');
    await removeTaint(client, 'node-2', { key: taint.key });
    expect((sim.store.get('nodes', undefined, 'node-2')?.spec.taints ?? []).some((t: { key: string }) => t.key === taint.key)).toBe(false);
    await sim.waitUntilSettled();
  });

  it("server-side applies the seed's Cilium manifests, unknown fields intact, and re-applies as a no-op", async () => {
    const objects = seedObjects('resources_cilium.yaml');
    const applied = await applyManifests(client, objects, { deadline: Deadline.in(30_000) });
    expect(applied).toHaveLength(objects.length);
    const ds = sim.store.get('apps/daemonsets', 'kube-system', 'cilium-migrated');
    const want = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'cilium-migrated') as KubeObject & { spec: { template: { spec: { nodeSelector: unknown } } } };
    expect(ds?.spec.template.spec.nodeSelector).toEqual(want.spec.template.spec.nodeSelector);
    const rv = ds?.metadata.resourceVersion;
    await applyManifests(client, objects, { deadline: Deadline.in(30_000) });
    expect(sim.store.get('apps/daemonsets', 'kube-system', 'cilium-migrated')?.metadata.resourceVersion).toBe(rv);
    // No node carries the cilium label yet: nothing to schedule, so the rollout is complete.
    const status = await waitForRollout(client, { kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium-migrated' }, { deadline: Deadline.in(30_000), intervalMs: 50 });
    expect(status.done).toBe(true);
  });

  it("applies the seed's Multus manifest: the CRD first, Established, then the rest", async () => {
    const objects = seedObjects('resources_multus.yaml');
    await applyManifests(client, objects, { deadline: Deadline.in(30_000), intervalMs: 50 });
    const crd = await client.getCustomResourceDefinition('network-attachment-definitions.k8s.cni.cncf.io');
    expect(crd.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    expect(sim.store.get('apps/daemonsets', 'kube-system', 'kube-multus-canal')).toBeDefined();
  });

  it('drains a node through the PodDisruptionBudget: allowed with maxUnavailable 1, blocked and named with 0', async () => {
    const webNode = () => sim.store.list('pods', 'demo').items.find((p) => p.metadata.labels?.app === 'web' && !p.metadata.deletionTimestamp)!.spec.nodeName as string;
    const opts = { ignoreDaemonSets: true, deleteEmptyDirData: true, evictionRetryDelayMs: 200, pollIntervalMs: 50 };

    const first = webNode();
    const ok = await drainNode(client, first, { ...opts, deadline: Deadline.in(30_000) });
    expect(ok.usedEviction).toBe(true);
    expect(ok.evicted.some((p) => p.startsWith('demo/web-'))).toBe(true);
    const left = sim.store.list('pods').items.filter((p) => p.spec.nodeName === first && p.metadata.namespace === 'demo');
    expect(left).toEqual([]);
    await uncordonNode(client, first);
    await sim.waitUntilSettled();

    const pdb = sim.store.get('policy/poddisruptionbudgets', 'demo', 'web')!;
    await client.applyObject({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'demo' }, spec: { ...pdb.spec, maxUnavailable: 0 } });
    const second = webNode();
    const err = await drainNode(client, second, { ...opts, deadline: Deadline.in(1500) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DrainError);
    const d = err as DrainError;
    expect(d.failure).toBe('timeout');
    expect(d.pending.some((p) => p.pod.startsWith('demo/web-') && p.pdbs.includes('demo/web'))).toBe(true);
    expect(d.message).toContain('PodDisruptionBudget demo/web');
    expect(d.message).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(d.message).toContain('The node stays cordoned');
    expect(sim.store.get('nodes', undefined, second)?.spec.unschedulable).toBe(true);

    await client.applyObject({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'demo' }, spec: { ...pdb.spec, maxUnavailable: 1 } });
    await uncordonNode(client, second);
    await sim.waitUntilSettled();
  });

  it('proxies GETs to pods and hands back errors as status and body', async () => {
    const web = sim.store.list('pods', 'demo').items.find((p) => p.metadata.labels?.app === 'web')!;
    const stop = sim.model.registerPodHandler(
      (p) => p.metadata.labels?.app === 'web',
      (pod, req) => Promise.resolve({ status: 200, headers: { 'content-type': 'text/plain' }, body: `${pod.metadata.name} ${req.port} ${req.path}?${req.query}` }),
    );
    try {
      const ok = await client.proxyPodGet('demo', web.metadata.name!, 80, '/v1/results', { query: { since: '3' } });
      expect(ok).toEqual({ status: 200, body: `${web.metadata.name} 80 /v1/results?since=3`, contentType: 'text/plain' });
      const otherPort = await client.proxyPodGet('demo', web.metadata.name!, 81, 'x');
      expect(otherPort.status).toBe(200); // this handler serves every port of the pod
      const missing = await client.proxyPodGet('demo', 'no-such-pod', 80, 'x');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    } finally {
      stop();
    }
    const unserved = await client.proxyPodGet('demo', web.metadata.name!, 80, 'x');
    expect(unserved.status).toBe(503);
    expect(unserved.body).toContain('connection refused');
  });

  it('offers pods/eviction in discovery', async () => {
    expect(await client.hasPodEviction()).toBe(true);
  });

  it('watches from a list\'s resourceVersion, ends when the server does, and reports 410 Expired as an API error', async () => {
    const kind = { apiVersion: 'v1', kind: 'Node' };
    const listed = await client.listWithVersion(kind, { fieldSelector: 'metadata.name=node-3' });
    expect(listed.items.map((n) => n.metadata.name)).toEqual(['node-3']);
    expect(Number(listed.resourceVersion)).toBeGreaterThan(0);
    const seen: string[] = [];
    // The server's timeoutSeconds ends the stream: the watch resolves, as on a cut connection.
    const watching = client.watch(kind, { fieldSelector: 'metadata.name=node-3', resourceVersion: listed.resourceVersion, timeoutSeconds: 1 }, (e) => {
      if (e.type !== 'BOOKMARK') seen.push(`${e.type} ${e.object.metadata.name} ${e.object.metadata.labels?.['example.com/watched'] ?? '-'}`);
    });
    await labelNode(client, 'node-3', { 'example.com/watched': 'yes' });
    await labelNode(client, 'node-2', { 'example.com/watched': 'yes' });
    await watching;
    expect(seen).toEqual(['MODIFIED node-3 yes']);
    const expired = await client.watch(kind, { resourceVersion: 'compacted-away' }, () => {}).catch((e: unknown) => e);
    expect(expired).toMatchObject({ code: 410 });
    // An abort ends a watch at once.
    const stop = new AbortController();
    const open = client.watch(kind, { resourceVersion: listed.resourceVersion }, () => {}, stop.signal);
    stop.abort();
    await expect(open).resolves.toBeUndefined();
    await labelNode(client, 'node-3', { 'example.com/watched': null });
    await labelNode(client, 'node-2', { 'example.com/watched': null });
  });
});
