import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../src/sim/store/kubeObject.js';
import { backendsToRun, startRealUnderTest, startSimUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';
import { KUBECTL, kubectl } from '../test/support/kubectl.js';
import { waitFor } from '../test/support/waitFor.js';

// The real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler built from
// e2e/controlplane) with 3 nodes simulated by the node/CNI model, running the simulator's default
// Canal scenario. Written against ClusterUnderTest, so E2E_BACKEND=sim (or both) runs the same
// checks against the simulated cluster to compare.

const BACKENDS = backendsToRun();
const verbose = process.env.E2E_VERBOSE === '1';
const log = (line: string) => {
  if (verbose) process.stderr.write(`[e2e] ${line}\n`);
};

const ready = (o: KubeObject) => ((o.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
const ownerKind = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller)?.kind;
const inCidr = (ip: string, cidr: string) => {
  const [base, bits] = cidr.split('/') as [string, string];
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
};

describe.each(BACKENDS)('%s control plane with 3 simulated nodes', (backend) => {
  let c: ClusterUnderTest;
  const podsOf = async (ns: string, label: string, value: string) => (await c.list('pods', ns)).filter((p) => p.metadata.labels?.[label] === value);
  const nodeTaints = async (node: string) => ((await c.get('nodes', undefined, node))?.spec?.taints ?? []) as { key: string; value?: string; effect: string }[];
  const setTaints = async (node: string, taints: object[]) => c.http.mergePatch(`/api/v1/nodes/${node}`, { spec: { taints } });

  beforeAll(async () => {
    const t = performance.now();
    c = backend === 'real' ? await startRealUnderTest({ nodes: 3, log }) : await startSimUnderTest({ nodes: 3 });
    process.stderr.write(`[e2e] ${backend} cluster settled in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  });

  afterAll(async () => {
    await c?.stop();
  });

  it('registers every node Ready, untainted, with the model’s InternalIP and pod CIDR', async () => {
    const nodes = await c.list('nodes');
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    for (const n of nodes) {
      const name = n.metadata.name!;
      expect(ready(n), name).toBe(true);
      expect(n.spec.taints ?? [], name).toEqual([]);
      const view = c.model.nodeState(name)!;
      expect(n.spec.podCIDR).toBe(view.podCIDR);
      expect((n.status.addresses as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address).toBe(view.internalIP);
    }
    if (c.backend === 'real') {
      // The heartbeat the node lifecycle controller reads: one renewing Lease per node.
      const leases = await c.list('coordination.k8s.io/leases', 'kube-node-lease');
      expect(leases.map((l) => l.metadata.name).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    }
  });

  it('runs a canal DaemonSet pod on every node with the node’s IP (hostNetwork) and web pods on model IPs', async () => {
    const canal = await podsOf('kube-system', 'k8s-app', 'canal');
    expect(canal.map((p) => p.spec.nodeName).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    for (const p of canal) {
      expect(p.status.phase).toBe('Running');
      expect(ready(p)).toBe(true);
      expect(ownerKind(p)).toBe('DaemonSet');
      expect(p.status.podIP).toBe(c.model.nodeState(p.spec.nodeName)!.internalIP);
    }
    const web = await podsOf('demo', 'app', 'web');
    expect(web).toHaveLength(3);
    for (const p of web) {
      const ifs = c.model.podInterfaces('demo', p.metadata.name!);
      expect(ifs?.[0]?.ip, p.metadata.name).toBe(p.status.podIP);
      expect(inCidr(p.status.podIP, c.model.nodeState(p.spec.nodeName)!.podCIDR!)).toBe(true);
    }
    expect(c.model.groundTruth.violations()).toEqual([]);
  });

  it('schedules a Deployment’s pods with the scheduler and runs them', async () => {
    await c.http.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'spread', namespace: 'default' },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: 'spread' } },
          template: { metadata: { labels: { app: 'spread' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'registry.invalid/pause:3.10' }] } },
        },
      },
      '/apis/apps/v1/namespaces/default/deployments/spread',
    );
    await waitFor('deployment spread available', async () => ((await c.get('apps/deployments', 'default', 'spread'))?.status?.availableReplicas ?? 0) === 4, 60_000, 200);
    const pods = await podsOf('default', 'app', 'spread');
    expect(pods).toHaveLength(4);
    for (const p of pods) {
      expect(c.nodeNames()).toContain(p.spec.nodeName);
      expect(p.status.phase).toBe('Running');
      expect((p.status.conditions as { type: string; status: string }[]).find((x) => x.type === 'PodScheduled')?.status).toBe('True');
      expect(c.model.podInterfaces('default', p.metadata.name!)?.[0]?.ip).toBe(p.status.podIP);
    }
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBeGreaterThan(1);
    if (c.backend === 'real') {
      const events = await c.list('events', 'default');
      const scheduled = events.filter((e) => e.reason === 'Scheduled' && (e.reportingComponent === 'default-scheduler' || e.source?.component === 'default-scheduler'));
      expect(scheduled.map((e) => e.involvedObject.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
    }
    await c.http.request('DELETE', '/apis/apps/v1/namespaces/default/deployments/spread');
    await waitFor('spread pods gone', async () => (await podsOf('default', 'app', 'spread')).length === 0, 60_000, 200);
  });

  it('refuses an eviction with 429 while the PodDisruptionBudget allows none, then allows it', async () => {
    await c.http.mergePatch('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web', { spec: { maxUnavailable: 0 } });
    await waitFor('PDB observed with 0 disruptions allowed', async () => {
      const pdb = await c.get('policy/poddisruptionbudgets', 'demo', 'web');
      return pdb?.status?.observedGeneration === pdb?.metadata.generation && (pdb?.status?.disruptionsAllowed ?? 0) === 0;
    }, 30_000, 100);
    const [victim] = await podsOf('demo', 'app', 'web');
    const name = victim!.metadata.name!;
    const evict = () => c.http.request('POST', `/api/v1/namespaces/demo/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'demo' } });
    const refused = (await evict().catch((e: unknown) => e)) as { status: number; body: any };
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: "Cannot evict pod as it would violate the pod's disruption budget." });
    expect(refused.body.details.causes).toEqual([{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }]);
    expect((await c.get('pods', 'demo', name))?.metadata.deletionTimestamp).toBeUndefined();

    await c.http.mergePatch('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web', { spec: { maxUnavailable: 1 } });
    await waitFor('PDB allows one disruption', async () => ((await c.get('policy/poddisruptionbudgets', 'demo', 'web'))?.status?.disruptionsAllowed ?? 0) === 1, 30_000, 100);
    const ok = await evict();
    expect(ok).toMatchObject({ kind: 'Status', status: 'Success' });
    await waitFor('evicted pod gone', async () => (await c.get('pods', 'demo', name)) === undefined, 30_000, 100);
    await c.waitUntilSettled();
    expect(await podsOf('demo', 'app', 'web')).toHaveLength(3);
  });

  it('evicts a pod that does not tolerate a NoExecute taint and keeps the ones that do', async () => {
    const node = 'node-2';
    const pod = (name: string, tolerations: object[]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { e2e: 'taint' } },
      spec: { nodeSelector: { 'kubernetes.io/hostname': node }, tolerations, terminationGracePeriodSeconds: 2, containers: [{ name: 'c', image: 'registry.invalid/pause:3.10' }] },
    });
    await c.http.request('POST', '/api/v1/namespaces/default/pods', pod('victim', []));
    await c.http.request('POST', '/api/v1/namespaces/default/pods', pod('survivor', [{ key: 'e2e/evict', operator: 'Exists', effect: 'NoExecute' }]));
    await waitFor('both pods running', async () => (await podsOf('default', 'e2e', 'taint')).filter(ready).length === 2, 60_000, 100);
    const before = await nodeTaints(node);
    await setTaints(node, [...before, { key: 'e2e/evict', value: 'yes', effect: 'NoExecute' }]);
    await waitFor('victim evicted and gone', async () => (await c.get('pods', 'default', 'victim')) === undefined, 60_000, 100);
    const survivor = await c.get('pods', 'default', 'survivor');
    expect(survivor?.metadata.deletionTimestamp).toBeUndefined();
    expect(ready(survivor!)).toBe(true);
    // The DaemonSet's pod tolerates every NoExecute taint; the web pod there does not.
    expect((await podsOf('kube-system', 'k8s-app', 'canal')).filter((p) => p.spec.nodeName === node && !p.metadata.deletionTimestamp)).toHaveLength(1);
    await waitFor('no web pod left on the tainted node', async () => !(await podsOf('demo', 'app', 'web')).some((p) => p.spec.nodeName === node), 60_000, 100);
    await setTaints(node, before);
    await c.http.request('DELETE', '/api/v1/namespaces/default/pods/survivor');
    await waitFor('survivor gone', async () => (await c.get('pods', 'default', 'survivor')) === undefined, 30_000, 100);
    await c.waitUntilSettled();
  });

  it('places DaemonSet pods by node selector and tolerations', async () => {
    await c.http.mergePatch('/api/v1/nodes/node-1', { metadata: { labels: { 'e2e/ds': 'yes' } } });
    const before = await nodeTaints('node-3');
    await setTaints('node-3', [...before, { key: 'e2e/dedicated', value: 'x', effect: 'NoSchedule' }]);
    const ds = (name: string, spec: object) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: 'default' },
      spec: {
        selector: { matchLabels: { ds: name } },
        template: { metadata: { labels: { ds: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'registry.invalid/pause:3.10' }], ...spec } },
      },
    });
    const sets = {
      'ds-selector': ds('ds-selector', { nodeSelector: { 'e2e/ds': 'yes' } }),
      'ds-plain': ds('ds-plain', {}),
      'ds-tolerant': ds('ds-tolerant', { tolerations: [{ key: 'e2e/dedicated', operator: 'Equal', value: 'x', effect: 'NoSchedule' }] }),
    };
    for (const [name, obj] of Object.entries(sets)) await c.http.apply(obj, `/apis/apps/v1/namespaces/default/daemonsets/${name}`);
    const placement = async (name: string) => (await podsOf('default', 'ds', name)).filter(ready).map((p) => p.spec.nodeName as string).sort();
    const want = { 'ds-selector': ['node-1'], 'ds-plain': ['node-1', 'node-2'], 'ds-tolerant': ['node-1', 'node-2', 'node-3'] };
    for (const [name, nodes] of Object.entries(want)) {
      await waitFor(`${name} on ${nodes.join(',')}`, async () => JSON.stringify(await placement(name)) === JSON.stringify(nodes), 60_000, 100);
      const status = (await c.get('apps/daemonsets', 'default', name))!.status;
      expect(status.desiredNumberScheduled, name).toBe(nodes.length);
    }
    // What the DaemonSet controller puts into its pods: node affinity to one node, default tolerations.
    const [p] = await podsOf('default', 'ds', 'ds-plain');
    const terms = p!.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p!.spec.nodeName] }] }]);
    const tolerationKeys = (p!.spec.tolerations as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`).sort();
    expect(tolerationKeys).toEqual([
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    expect(p!.metadata.labels).toMatchObject({ ds: 'ds-plain', 'pod-template-generation': '1' });
    expect(p!.metadata.labels?.['controller-revision-hash']).toBeTruthy();
    for (const name of Object.keys(sets)) await c.http.request('DELETE', `/apis/apps/v1/namespaces/default/daemonsets/${name}`);
    await c.http.mergePatch('/api/v1/nodes/node-1', { metadata: { labels: { 'e2e/ds': null } } });
    await setTaints('node-3', before);
    await waitFor('DaemonSet pods gone', async () => (await c.list('pods', 'default')).filter((x) => x.metadata.labels?.ds).length === 0, 60_000, 100);
  });

  it.skipIf(!KUBECTL)('proxies pods/proxy to a pod served by the model, at the pod’s IP', async () => {
    const stop = c.model.registerPodHandler(
      (pod) => pod.metadata.labels?.app === 'web',
      (pod, req) => Promise.resolve({ status: 200, headers: { 'content-type': 'text/plain' }, body: `hello from ${pod.metadata.name} ${req.method} ${req.path}?${req.query} port ${req.port}` }),
    );
    try {
      const [web] = await podsOf('demo', 'app', 'web');
      const name = web!.metadata.name!;
      const r = await kubectl(c.kubeconfigPath, ['get', '--raw', `/api/v1/namespaces/demo/pods/${name}/proxy/status?x=1`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`hello from ${name} GET /status?x=1 port 80`);
      const numbered = await kubectl(c.kubeconfigPath, ['get', '--raw', `/api/v1/namespaces/demo/pods/${name}:80/proxy/`]);
      expect(numbered.stdout).toBe(`hello from ${name} GET /? port 80`);
      // Once nothing serves the pod, the answer is 503 "connection refused" at the pod's IP.
      stop();
      const refused = await kubectl(c.kubeconfigPath, ['get', '--raw', `/api/v1/namespaces/demo/pods/${name}/proxy/`]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`Error from server (ServiceUnavailable): error trying to reach service: dial tcp ${web!.status.podIP}:80: connect: connection refused`);
    } finally {
      stop();
    }
  });

  it.skipIf(!KUBECTL)('serves the real kubectl: get -o wide and rollout status', async () => {
    const get = await kubectl(c.kubeconfigPath, ['get', 'nodes,pods', '-A', '-o', 'wide']);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toMatch(/node\/node-2\s+Ready\s+<none>/);
    expect(get.stdout).toMatch(/INTERNAL-IP/);
    const webLine = get.stdout.split('\n').find((l) => l.includes('pod/web-'));
    expect(webLine).toMatch(/1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+node-\d/);
    const rollout = await kubectl(c.kubeconfigPath, ['rollout', 'status', 'daemonset/canal', '-n', 'kube-system', '--timeout=60s']);
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(rollout.stdout).toContain('daemon set "canal" successfully rolled out');
    // Container logs come from the node's kubelet (the model, over the apiserver's egress tunnel).
    const [web] = await podsOf('demo', 'app', 'web');
    const logs = await kubectl(c.kubeconfigPath, ['logs', '-n', 'demo', web!.metadata.name!]);
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toBe(`simulated container log of demo/${web!.metadata.name!}\n`);
  });
});
