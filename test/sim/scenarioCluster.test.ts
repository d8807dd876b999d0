import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/sim/api/apiError.js';
import { CONTENT_DELETION_DELAY_MS, NamespaceController } from '../../src/sim/controllers/namespaceController.js';
import { startFixture, type ControllerFixture } from '../../src/sim/controllers/testing/clusterFixture.js';
import { SimCluster } from '../../src/sim/simCluster.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';
import { ROOT } from '../support/cliProcess.js';
import { KUBECTL, kubectl } from '../support/kubectl.js';
import { simRequest } from '../support/simHttp.js';
import { waitFor } from '../support/waitFor.js';

// A scenario whose Node objects are the simulated nodes: seven named nodes in three zones, a
// tainted control-plane node and a tainted GPU node, on the stock Flannel install.

const FLANNEL = join(ROOT, 'scenarios', 'sources', 'flannel-v0.28.yaml');

interface NodeSpec {
  name: string;
  zone: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  podCIDR?: string;
}

const NODES: NodeSpec[] = [
  { name: 'cp-1', zone: 'zone-a', labels: { 'node-role.kubernetes.io/control-plane': '' }, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
  { name: 'worker-a', zone: 'zone-a' },
  { name: 'worker-b', zone: 'zone-b' },
  { name: 'worker-c', zone: 'zone-c' },
  { name: 'worker-d', zone: 'zone-a' },
  // A node whose pod CIDR the scenario sets itself.
  { name: 'worker-e', zone: 'zone-b', podCIDR: '10.244.200.0/24' },
  { name: 'gpu-1', zone: 'zone-c', labels: { 'example.com/gpu': 'true' }, taints: [{ key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' }] },
];

function nodeDoc(n: NodeSpec): string {
  const labels = { 'topology.kubernetes.io/zone': n.zone, 'topology.kubernetes.io/region': 'lab', ...(n.labels ?? {}) };
  const spec = { ...(n.taints ? { taints: n.taints } : {}), ...(n.podCIDR ? { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] } : {}) };
  return `---\n${JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels }, spec })}\n`;
}

/** A DaemonSet of plain (pod-network) pods in namespace probe. */
function daemonSetDoc(name: string, tolerations: object[] | undefined): string {
  const pod = { containers: [{ name: 'agent', image: 'registry.example/probe:v1' }], ...(tolerations ? { tolerations } : {}) };
  return `---\n${JSON.stringify({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: 'probe' }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: pod } } })}\n`;
}

const ZONE_C = `---\n${JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'zonal', namespace: 'probe' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'zonal' } },
    template: { metadata: { labels: { app: 'zonal' } }, spec: { nodeSelector: { 'topology.kubernetes.io/zone': 'zone-c' }, containers: [{ name: 'app', image: 'registry.example/probe:v1' }] } },
  },
})}\n`;

const SCENARIO = `apiVersion: sim.cni-migration.dev/v1alpha1
kind: Simulation
defaultCluster: false
include: [${FLANNEL}]
${NODES.map(nodeDoc).join('')}---
apiVersion: v1
kind: Namespace
metadata: {name: probe}
${daemonSetDoc('agent-plain', undefined)}${daemonSetDoc('agent-gpu', [{ key: 'example.com/gpu', operator: 'Exists', effect: 'NoSchedule' }])}${daemonSetDoc('agent-all', [{ operator: 'Exists' }])}${ZONE_C}`;

const names = NODES.map((n) => n.name);
const podsOf = (c: SimCluster, namespace: string, app: string) => c.store.list('pods', namespace).items.filter((p) => p.metadata.labels?.app === app);
const nodesOf = (pods: KubeObject[]) => pods.map((p) => p.spec.nodeName as string).sort();

describe('a scenario with seven named, zoned and tainted Node objects', () => {
  let cluster: SimCluster;
  let dir: string;
  let kc: string;
  const logs: string[] = [];
  const k = (...args: string[]) => kubectl(kc, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-scenario-cluster-'));
    kc = join(dir, 'kubeconfig');
    // --nodes 2 must not shrink a scenario that declares its nodes.
    cluster = await SimCluster.start({ scenarioText: SCENARIO, nodes: 2, kubeconfigOut: kc, log: (l) => logs.push(l) });
    await cluster.waitUntilSettled();
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('simulates exactly the scenario\'s nodes and says --nodes was ignored', () => {
    expect(cluster.baseSettings.nodes).toEqual(names);
    expect(cluster.store.list('nodes').items.map((n) => n.metadata.name).sort()).toEqual([...names].sort());
    expect(logs).toContain('scenario: --nodes 2 ignored: <scenario text> names its nodes (7 Node objects)');
  });

  it('registers every node Ready with its labels and taints kept, a pod CIDR and an InternalIP', () => {
    const podCidrs = new Set<string>();
    const ips = new Set<string>();
    for (const spec of NODES) {
      const n = cluster.store.get('nodes', undefined, spec.name)!;
      const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      expect(ready, spec.name).toMatchObject({ status: 'True', reason: 'KubeletReady' });
      expect(n.metadata.labels, spec.name).toMatchObject({ 'topology.kubernetes.io/zone': spec.zone, 'topology.kubernetes.io/region': 'lab', ...(spec.labels ?? {}) });
      // The kubelet's own labels join the scenario's (selectors like kubernetes.io/os: linux depend on them).
      expect(n.metadata.labels, spec.name).toMatchObject({ 'kubernetes.io/hostname': spec.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
      expect(n.spec.taints ?? [], spec.name).toEqual(spec.taints ?? []);
      const podCIDR = n.spec.podCIDR as string | undefined;
      expect(podCIDR, spec.name).toMatch(/^10\.244\.\d+\.0\/24$/);
      if (spec.podCIDR) expect(podCIDR).toBe(spec.podCIDR);
      podCidrs.add(podCIDR!);
      const ip = ((n.status?.addresses ?? []) as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address;
      expect(ip, spec.name).toMatch(/^192\.168\.\d+\.\d+$/);
      ips.add(ip!);
      expect(cluster.model.nodeState(spec.name)).toMatchObject({ internalIP: ip, podCIDR });
    }
    expect(podCidrs.size).toBe(NODES.length);
    expect(ips.size).toBe(NODES.length);
    // Only the first node gets the control-plane role label from controlPlaneNodes (default 1).
    const roles = cluster.store.list('nodes').items.filter((n) => n.metadata.labels?.['node-role.kubernetes.io/control-plane'] !== undefined).map((n) => n.metadata.name);
    expect(roles).toEqual(['cp-1']);
  });

  it('runs the CNI on every node and places DaemonSet pods by their tolerations', () => {
    expect(nodesOf(podsOf(cluster, 'kube-flannel', 'flannel'))).toEqual([...names].sort());
    expect(nodesOf(podsOf(cluster, 'probe', 'agent-all'))).toEqual([...names].sort());
    expect(nodesOf(podsOf(cluster, 'probe', 'agent-gpu'))).toEqual(names.filter((n) => n !== 'cp-1').sort());
    // Without a toleration the tainted nodes are skipped.
    expect(nodesOf(podsOf(cluster, 'probe', 'agent-plain'))).toEqual(names.filter((n) => n !== 'cp-1' && n !== 'gpu-1').sort());
    const ds = cluster.store.get('apps/daemonsets', 'probe', 'agent-plain')!;
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 5, numberReady: 5, numberAvailable: 5 });
    // The zone label steers the scheduler; gpu-1 (zone-c too) is tainted.
    expect(nodesOf(podsOf(cluster, 'probe', 'zonal'))).toEqual(['worker-c', 'worker-c']);
    // Pods on worker-e take addresses from the pod CIDR the scenario gave it.
    const onE = podsOf(cluster, 'probe', 'agent-all').find((p) => p.spec.nodeName === 'worker-e')!;
    expect(onE.status.podIP).toMatch(/^10\.244\.200\.\d+$/);
    expect(cluster.unsettledReason()).toBeUndefined();
  });

  it('reads CNI configuration from /etc/cni/net.d by default (debug endpoint)', async () => {
    const res = await simRequest(cluster, 'GET', '/sim/v1/nodes/worker-b');
    expect(res.status).toBe(200);
    const state = JSON.parse(res.text) as { confDir: string; files: { name: string }[]; datapaths: { network: string }[] };
    expect(state.confDir).toBe('/etc/cni/net.d');
    expect(state.files.map((f) => f.name)).toEqual(['10-flannel.conflist']);
    expect(state.datapaths.map((d) => d.network)).toEqual(['flannel']);
    expect(cluster.settings.get().cniConfDir).toBe('/etc/cni/net.d');
  });

  describe.skipIf(!KUBECTL)('kubectl delete -f of a file that starts with its Namespace', () => {
    /** A manifest whose first object is its Namespace, then a ConfigMap, a Deployment and a Service in it. */
    function manifest(ns: string): string {
      const path = join(dir, `${ns}.yaml`);
      writeFileSync(
        path,
        `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: ${ns}
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:v1
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`,
      );
      return path;
    }

    async function applyAndWait(ns: string): Promise<string> {
      const path = manifest(ns);
      const r = await k('apply', '-f', path);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await waitFor('web pods ready', () => podsOf(cluster, ns, 'web').filter((p) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')).length === 2);
      return path;
    }

    it('deletes every object without NotFound, and the namespace goes', async () => {
      const path = await applyAndWait('teardown');
      const r = await k('delete', '-f', path, '--timeout=60s');
      expect(r.stderr).not.toMatch(/NotFound|not found/);
      expect(r.code).toBe(0);
      for (const line of ['namespace "teardown" deleted', 'configmap "cfg" deleted', 'deployment.apps "web" deleted', 'service "web" deleted']) expect(r.stdout).toContain(line);
      await waitFor('namespace teardown removed', () => !cluster.store.get('namespaces', undefined, 'teardown'));
      expect(cluster.store.list('pods', 'teardown').items).toEqual([]);
    });

    it('negative control: once the namespace controller has emptied it, the same delete reports NotFound', async () => {
      const path = await applyAndWait('teardown-late');
      expect((await k('delete', 'namespace', 'teardown-late', '--wait=false')).code).toBe(0);
      await waitFor('namespace content deleted', () => !cluster.store.get('configmaps', 'teardown-late', 'cfg') && !cluster.store.get('services', 'teardown-late', 'web'));
      const r = await k('delete', '-f', path, '--timeout=60s');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/configmaps "cfg" not found/);
      expect(r.stderr).toMatch(/services "web" not found/);
      await waitFor('namespace teardown-late removed', () => !cluster.store.get('namespaces', undefined, 'teardown-late'));
    });
  });
});

describe('the built-in cluster', () => {
  let cluster: SimCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('keeps the original tool\'s /etc/kubernetes/cni/net.d and takes --nodes', async () => {
    cluster = await SimCluster.start({ nodes: 2 });
    await cluster.waitUntilSettled();
    expect(cluster.store.list('nodes').items.map((n) => n.metadata.name)).toEqual(['node-1', 'node-2']);
    const res = await simRequest(cluster, 'GET', '/sim/v1/nodes/node-2');
    const state = JSON.parse(res.text) as { confDir: string; files: { name: string }[]; datapaths: { network: string }[] };
    expect(state.confDir).toBe('/etc/kubernetes/cni/net.d');
    expect(state.files.map((f) => f.name)).toEqual(['10-calico.conflist']);
    expect(state.datapaths.map((d) => d.network)).toEqual(['flannel']);
  });
});

// The namespace controller alone: what makes kubectl's one-by-one deletes after the Namespace
// succeed is that content deletion waits CONTENT_DELETION_DELAY_MS; once it has run, they fail.
describe('NamespaceController content deletion delay', () => {
  let fx: ControllerFixture;
  afterEach(() => fx.stop());

  const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

  function namespaceWithContent(name: string): void {
    fx.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    fx.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: name } });
    fx.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: name }, spec: { ports: [{ port: 80 }] } });
  }

  /** What DELETE /api/v1/namespaces/<name> does. */
  function deleteNamespace(name: string): void {
    fx.store.mutate('namespaces', undefined, name, (ns) => {
      ns.status = { phase: 'Terminating' };
    }, { part: 'status' });
    fx.store.markForDeletion('namespaces', undefined, name, 0);
  }

  it('leaves the content for a client to delete one by one right after the Namespace', async () => {
    fx = startFixture((ctx) => [new NamespaceController(ctx)], { kubelet: false });
    namespaceWithContent('teardown');
    deleteNamespace('teardown');
    // A client's next requests arrive on later macrotasks, after the controller has seen the namespace terminating.
    for (let i = 0; i < 5; i++) await macrotask();
    expect(() => fx.store.delete('configmaps', 'teardown', 'cfg')).not.toThrow();
    await macrotask();
    expect(() => fx.store.delete('services', 'teardown', 'web')).not.toThrow();
    await waitFor('namespace removed', () => !fx.store.get('namespaces', undefined, 'teardown'));
  });

  it(`negative control: after the ${CONTENT_DELETION_DELAY_MS} ms delay the content is gone, and the same deletes fail with NotFound`, async () => {
    expect(CONTENT_DELETION_DELAY_MS).toBeGreaterThan(0);
    fx = startFixture((ctx) => [new NamespaceController(ctx)], { kubelet: false });
    namespaceWithContent('teardown');
    const since = Date.now();
    deleteNamespace('teardown');
    await waitFor('content deleted', () => !fx.store.get('configmaps', 'teardown', 'cfg') && !fx.store.get('services', 'teardown', 'web'));
    expect(Date.now() - since).toBeGreaterThanOrEqual(CONTENT_DELETION_DELAY_MS - 5);
    const err = (() => {
      try {
        fx.store.delete('configmaps', 'teardown', 'cfg');
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 404 });
    await waitFor('namespace removed', () => !fx.store.get('namespaces', undefined, 'teardown'));
  });
});
