import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './testing/waitFor.js';
import { ApiError } from '../api/apiError.js';
import { ModelTestCluster } from './testing/modelTestCluster.js';

// Scenarios over a real store: the tests play the DaemonSet controller and the scheduler (pods are
// created bound), the model plays every kubelet and the CNI data plane.

let cluster: ModelTestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

async function start(opts: Parameters<typeof ModelTestCluster.start>[0] = {}): Promise<ModelTestCluster> {
  cluster = await ModelTestCluster.start(opts);
  return cluster;
}

/** Canal on every node, then `perNode` workload pods on each; returns the pod names. */
async function canalCluster(c: ModelTestCluster, perNode = 2): Promise<string[]> {
  await Promise.all(c.nodeNames.map((n) => c.waitRunning('kube-system', c.runAgent('canal', n))));
  const names: string[] = [];
  for (const n of c.nodeNames) {
    for (let i = 0; i < perNode; i++) {
      const name = `w-${n}-${i}`;
      c.createPod('default', name, n);
      names.push(name);
    }
  }
  await Promise.all(names.map((n) => c.waitRunning('default', n)));
  return names;
}

/** The seed's prepare step at the pod level: cilium (99-cilium.conf) and kube-multus-canal on every node. */
async function prepare(c: ModelTestCluster): Promise<void> {
  await Promise.all(c.nodeNames.flatMap((n) => [c.waitRunning('kube-system', c.runAgent('cilium', n)), c.waitRunning('kube-system', c.runAgent('kube-multus-canal', n))]));
}

/** Replaces a workload pod by a new one on the same node (a node roll, for one pod). */
async function roll(c: ModelTestCluster, name: string, node: string, newName: string): Promise<void> {
  await c.deletePod('default', name);
  await c.waitGone('default', name);
  c.createPod('default', newName, node);
  await c.waitRunning('default', newName);
}

function allPairsReachable(c: ModelTestCluster, names: string[]): boolean {
  return names.every((a) => names.every((b) => a === b || c.model.canReach('default', a, c.pod('default', b)!.status.podIP as string).ok));
}

describe('NetworkModel: nodes', () => {
  it('registers nodes for kubectl get nodes -o wide, with a /24 pod CIDR each', async () => {
    const c = await start();
    const node = c.store.get('nodes', undefined, 'node-2')!;
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'node-2', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
    expect(node.spec).toEqual({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
    expect(node.status.addresses).toEqual([
      { type: 'InternalIP', address: '192.168.0.3' },
      { type: 'Hostname', address: 'node-2' },
    ]);
    expect(node.status.conditions.find((x: { type: string }) => x.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(node.status.nodeInfo).toMatchObject({ operatingSystem: 'linux', architecture: 'amd64', kubeletVersion: expect.stringMatching(/^v1\./) as unknown });
    expect(node.status.allocatable.pods).toBe('110');
  });
});

describe('NetworkModel: scenarios', () => {
  it('(a) canal-only: pods get 10.244.x IPs from their node, every pair reaches every other', async () => {
    const c = await start();
    const names = await canalCluster(c);
    for (const [i, n] of c.nodeNames.entries()) {
      expect(c.pod('default', `w-${n}-0`)!.status.podIP).toMatch(new RegExp(`^10\\.244\\.${i}\\.\\d+$`));
    }
    expect(allPairsReachable(c, names)).toBe(true);
    const p = c.pod('default', 'w-node-1-0')!;
    expect(p.status).toMatchObject({ phase: 'Running', hostIP: '192.168.0.2', podIPs: [{ ip: p.status.podIP as string }] });
    expect(p.status.containerStatuses[0]).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0, containerID: expect.stringMatching(/^containerd:\/\/[0-9a-f]{64}$/) as unknown });
    expect(c.pod('kube-system', c.agentPods('canal', 'node-1')[0]!)!.status.podIP).toBe('192.168.0.2');
    expect(c.model.podInterfaces('default', 'w-node-1-0')).toEqual([{ name: 'eth0', network: 'flannel', cniName: 'k8s-pod-network', ip: p.status.podIP as string }]);
    await c.settleGroundTruth();
    expect(c.model.groundTruth.violations()).toEqual([]);
    expect(c.model.nodeState('node-1')).toMatchObject({ files: [{ name: '10-calico.conflist' }], datapaths: [{ network: 'flannel', overlay: { port: 8472 } }] });
  });

  it('(b) with cilium(99) and kube-multus-canal: new pods get a flannel primary and a cilium extra', async () => {
    const c = await start();
    await canalCluster(c, 1);
    await prepare(c);
    c.createPod('default', 'dual', 'node-2');
    const ip = await c.waitRunning('default', 'dual');
    expect(ip).toMatch(/^10\.244\.1\./);
    const ifs = c.model.podInterfaces('default', 'dual')!;
    expect(ifs.map((i) => [i.name, i.network, i.cniName])).toEqual([
      ['eth0', 'flannel', 'k8s-pod-network'],
      ['net1', 'cilium', 'cilium'],
    ]);
    expect(ifs[1]!.ip).toMatch(/^172\.29\.1\./);
    const status = JSON.parse(c.pod('default', 'dual')!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!) as unknown[];
    expect(status).toMatchObject([
      { name: 'k8s-pod-network', interface: 'eth0', ips: [ip], default: true },
      { name: 'cilium', interface: 'net1', ips: [ifs[1]!.ip] },
    ]);
    // Pods started before Multus keep their single interface: interfaces are fixed for a pod's life.
    expect(c.model.podInterfaces('default', 'w-node-1-0')!.map((i) => i.network)).toEqual(['flannel']);
  });

  it('(c) blocking UDP 6081 breaks cross-node cilium addresses but not the flannel primary', async () => {
    const c = await start();
    await canalCluster(c, 0);
    await prepare(c);
    c.createPod('default', 'a', 'node-1');
    c.createPod('default', 'b', 'node-2');
    c.createPod('default', 'c', 'node-1');
    await Promise.all(['a', 'b', 'c'].map((n) => c.waitRunning('default', n)));
    const ciliumIp = (name: string) => c.model.podInterfaces('default', name)!.find((i) => i.network === 'cilium')!.ip;
    expect(c.model.canReach('default', 'a', ciliumIp('b'))).toMatchObject({ ok: true, network: 'cilium' });
    c.setFirewall([{ protocol: 'udp', port: 6081 }]);
    expect(c.model.canReach('default', 'a', ciliumIp('b'))).toMatchObject({ ok: false, network: 'cilium', reason: 'overlay-blocked-by-firewall' });
    expect(c.model.canReach('default', 'a', ciliumIp('c'))).toMatchObject({ ok: true, network: 'cilium' });
    expect(c.model.canReach('default', 'a', c.pod('default', 'b')!.status.podIP as string)).toMatchObject({ ok: true, network: 'flannel' });
    await c.settleGroundTruth();
    // Primary IPs are flannel's, so the ground truth stays clean.
    expect(c.model.groundTruth.violations()).toEqual([]);
    // A rule limited to another node leaves node-1 ↔ node-2 alone.
    c.setFirewall([{ protocol: 'udp', port: 6081, nodes: ['node-3'] }]);
    expect(c.model.canReach('default', 'a', ciliumIp('b')).ok).toBe(true);
  });

  it('(c2) once primaries are Cilium\'s, blocking GENEVE shows in the ground truth', async () => {
    const c = await start();
    await canalCluster(c, 0);
    await Promise.all(c.nodeNames.flatMap((n) => [c.waitRunning('kube-system', c.runAgent('cilium', n)), c.waitRunning('kube-system', c.runAgent('kube-multus-cilium', n))]));
    for (const n of c.nodeNames) c.createPod('default', `app-${n}`, n);
    await Promise.all(c.nodeNames.map((n) => c.waitRunning('default', `app-${n}`)));
    expect(c.pod('default', 'app-node-1')!.status.podIP).toMatch(/^172\.29\.0\./);
    await c.settleGroundTruth();
    expect(c.model.groundTruth.violations()).toEqual([]);
    c.setFirewall([{ protocol: 'udp', port: 6081 }]);
    await c.settleGroundTruth();
    expect(c.model.groundTruth.current().unreachableCount).toBe(6);
    expect(c.model.groundTruth.violations().at(-1)?.added[0]).toMatchObject({ network: 'cilium', reason: 'overlay-blocked-by-firewall' });
    c.setFirewall([]);
    await c.settleGroundTruth();
    expect(c.model.groundTruth.entries().at(-1)).toMatchObject({ unreachableCount: 0, removedCount: 6 });
  });

  it('(d) a pod whose Multus config needs cilium stays ContainerCreating until the cilium agent runs', async () => {
    const c = await start();
    await canalCluster(c, 0);
    await c.waitRunning('kube-system', c.runAgent('kube-multus-canal', 'node-1'));
    c.createPod('default', 'waiting', 'node-1');
    const pending = await waitFor('sandbox failure reported', () => {
      const p = c.pod('default', 'waiting');
      return p?.status?.containerStatuses?.[0]?.state?.waiting ? p : undefined;
    });
    expect(pending.status.phase).toBe('Pending');
    expect(pending.status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
    // Multus resolves "cilium" by name: without 99-cilium.conf it cannot even find the network.
    expect(pending.status.containerStatuses[0].state.waiting.message).toMatch(/^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="multus".*cilium/);
    const events = c.store.list('events', 'default').items.filter((e) => e.involvedObject.name === 'waiting');
    expect(events.map((e) => e.reason)).toContain('FailedCreatePodSandBox');
    // The cilium agent arrives: its file appears, its datapath comes up, the pod starts.
    c.runAgent('cilium', 'node-1');
    await c.waitRunning('default', 'waiting');
    expect(c.model.podInterfaces('default', 'waiting')!.map((i) => i.network)).toEqual(['flannel', 'cilium']);
  });

  it('(d2) with 99-cilium.conf left behind by an agent that is gone, the failure is the cilium socket', async () => {
    const c = await start({ agentReplacementGraceMs: 50 });
    // An agent without the preStop cni-uninstall hook leaves its file behind when it goes.
    const ds = c.manifests.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'cilium')!;
    delete ds.spec.template.spec.containers[0].lifecycle.preStop;
    await canalCluster(c, 0);
    await prepare(c);
    const [agent] = c.agentPods('cilium', 'node-1');
    await c.deletePod('kube-system', agent!, 0);
    c.createPod('default', 'p', 'node-1');
    const msg = await waitFor('sandbox failure', () => c.pod('default', 'p')?.status?.containerStatuses?.[0]?.state?.waiting?.message as string | undefined);
    expect(msg).toContain('error adding container to network "cilium"');
    expect(msg).toContain('dial unix /var/run/cilium/cilium.sock: connect: no such file or directory');
    expect(c.model.nodeState('node-1')!.files.map((f) => f.name)).toContain('99-cilium.conf');
    expect(c.pod('default', 'p')!.status.phase).toBe('Pending');
  });

  it('(e) removing the canal agent from a node cuts that node off; replacing it does not', async () => {
    const c = await start({ settings: { timings: { podStartMs: 5, podStopMs: 150, agentReadyMs: 5 } } });
    const names = await canalCluster(c, 1);
    // Replacement: the old pod terminates while the new one is already bound.
    const [old] = c.agentPods('canal', 'node-2');
    await c.deletePod('kube-system', old!, 5);
    const replacement = c.runAgent('canal', 'node-2');
    await c.waitGone('kube-system', old!);
    await c.waitRunning('kube-system', replacement);
    await c.settleGroundTruth();
    expect(allPairsReachable(c, names)).toBe(true);
    expect(c.model.groundTruth.violations()).toEqual([]);
    // Removal: nothing replaces it; after the replacement grace node-2 leaves the flannel network.
    await c.deletePod('kube-system', replacement, 0);
    const target = c.pod('default', 'w-node-2-0')!.status.podIP as string;
    await waitFor('node-2 leaves flannel', () => !c.model.canReach('default', 'w-node-1-0', target).ok);
    expect(c.model.canReach('default', 'w-node-1-0', target)).toMatchObject({ reason: 'datapath-down-on-target-node', network: 'flannel' });
    expect(c.model.canReach('default', 'w-node-1-0', c.pod('default', 'w-node-3-0')!.status.podIP as string).ok).toBe(true);
    await c.settleGroundTruth();
    const v = c.model.groundTruth.violations();
    expect(v.at(-1)?.unreachableCount).toBe(4);
    expect(v.at(-1)?.added).toEqual(expect.arrayContaining([{ from: 'default/w-node-1-0', to: 'default/w-node-2-0', network: 'flannel', reason: 'datapath-down-on-target-node' }]));
  });

  it("(e2) a DaemonSet's delete-then-create of a grace-0 agent stays within the replacement grace", async () => {
    const c = await start({ agentReplacementGraceMs: 1000 });
    const names = await canalCluster(c, 1);
    const [old] = c.agentPods('canal', 'node-2');
    await c.deletePod('kube-system', old!, 0);
    await c.waitRunning('kube-system', c.runAgent('canal', 'node-2'));
    await c.settleGroundTruth();
    expect(allPairsReachable(c, names)).toBe(true);
    expect(c.model.groundTruth.violations()).toEqual([]);
  });

  it('(e3) while its DaemonSet still wants the node, a slow replacement keeps the datapath; once it does not, the datapath goes after the grace', async () => {
    const c = await start({ agentReplacementGraceMs: 50 });
    const names = await canalCluster(c, 1);
    // The DaemonSet the agent pods belong to, as the controller would see it.
    const ds = structuredClone(c.manifests.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'canal')!);
    c.store.create('apps/daemonsets', ds);
    const target = c.pod('default', 'w-node-2-0')!.status.podIP as string;
    const [old] = c.agentPods('canal', 'node-2');
    await c.deletePod('kube-system', old!, 0);
    await c.waitGone('kube-system', old!);
    await new Promise((r) => setTimeout(r, 300)); // six replacement graces, no replacement yet
    expect(c.model.canReach('default', 'w-node-1-0', target).ok).toBe(true);
    const replacement = c.runAgent('canal', 'node-2');
    await c.waitRunning('kube-system', replacement);
    await c.settleGroundTruth();
    expect(allPairsReachable(c, names)).toBe(true);
    // Taken off the node (its nodeSelector no longer matches): nothing will replace it.
    c.store.mutate('apps/daemonsets', 'kube-system', 'canal', (o) => void (o.spec.template.spec.nodeSelector = { 'cni-migration.io/nowhere': 'true' }));
    await c.deletePod('kube-system', replacement, 0);
    await waitFor('node-2 leaves flannel', () => !c.model.canReach('default', 'w-node-1-0', target).ok);
    expect(c.model.canReach('default', 'w-node-1-0', target)).toMatchObject({ reason: 'datapath-down-on-target-node', network: 'flannel' });
  });

  it('(f) a Cilium-only pod and Flannel-only pods reach each other through Cilium on both nodes, and lose each other when its tunnel is blocked', async () => {
    const c = await start();
    await canalCluster(c, 0);
    for (const n of c.nodeNames) c.createPod('default', `app-${n}`, n);
    await Promise.all(c.nodeNames.map((n) => c.waitRunning('default', `app-${n}`)));
    // Cilium on every node (the seed's 99-cilium.conf: no pod uses it), cilium-migrated on node-3.
    await Promise.all(c.nodeNames.map((n) => c.waitRunning('kube-system', c.runAgent('cilium', n))));
    for (const p of [...c.agentPods('canal', 'node-3'), ...c.agentPods('cilium', 'node-3')]) await c.deletePod('kube-system', p, 1);
    await c.waitRunning('kube-system', c.runAgent('cilium-migrated', 'node-3'));
    await c.deletePod('default', 'app-node-3');
    await c.waitGone('default', 'app-node-3');
    c.createPod('default', 'app-node-3b', 'node-3');
    await c.waitRunning('default', 'app-node-3b');
    expect(c.model.podInterfaces('default', 'app-node-3b')!.map((i) => i.network)).toEqual(['cilium']);
    expect(c.model.podInterfaces('default', 'app-node-1')!.map((i) => i.network)).toEqual(['flannel']);
    const ip = (name: string) => c.pod('default', name)!.status.podIP as string;
    // Cilium's ipcache knows every pod: out over its tunnel, delivered by node-1's host routing.
    expect(c.model.canReach('default', 'app-node-3b', ip('app-node-1'))).toMatchObject({ ok: true, network: 'flannel', detail: expect.stringContaining("through cilium's host routing") as unknown });
    // And back: node-1 routes Cilium's range through cilium_host.
    expect(c.model.canReach('default', 'app-node-1', ip('app-node-3b'))).toMatchObject({ ok: true, network: 'cilium' });
    await c.settleGroundTruth();
    expect(c.model.groundTruth.current().unreachableCount).toBe(0);
    // Negative control: with Cilium's GENEVE port blocked, every cross-CNI pair is cut.
    c.settings.applyLive(c.base, { firewall: { blocked: [{ protocol: 'udp', port: 6081 }] } });
    expect(c.model.canReach('default', 'app-node-3b', ip('app-node-1'))).toMatchObject({ ok: false, reason: 'overlay-blocked-by-firewall' });
    expect(c.model.canReach('default', 'app-node-2', ip('app-node-3b'))).toMatchObject({ ok: false, reason: 'overlay-blocked-by-firewall' });
    expect(c.model.canReach('default', 'app-node-1', ip('app-node-2')).ok).toBe(true);
    await c.settleGroundTruth();
    expect(c.model.groundTruth.current().unreachableCount).toBe(4);
  });

  it('(f2) without a Cilium agent on the other node there is no path between the two networks', async () => {
    const c = await start();
    await canalCluster(c, 0);
    c.createPod('default', 'app-node-1', 'node-1');
    await c.waitRunning('default', 'app-node-1');
    for (const p of c.agentPods('canal', 'node-3')) await c.deletePod('kube-system', p, 1);
    await c.waitRunning('kube-system', c.runAgent('cilium-migrated', 'node-3'));
    c.createPod('default', 'app-node-3', 'node-3');
    await c.waitRunning('default', 'app-node-3');
    expect(c.model.canReach('default', 'app-node-3', c.pod('default', 'app-node-1')!.status.podIP as string)).toMatchObject({ ok: false, reason: 'no-interface-on-network' });
    await c.settleGroundTruth();
    expect(c.model.groundTruth.current().unreachableCount).toBe(2);
  });

  it("the seed's steps in order keep every pair reachable (empty ground-truth log)", async () => {
    const c = await start({ settings: { timings: { podStartMs: 5, podStopMs: 20, agentReadyMs: 5 } } });
    await canalCluster(c, 0);
    for (const n of c.nodeNames) c.createPod('default', `app-${n}-0`, n);
    await Promise.all(c.nodeNames.map((n) => c.waitRunning('default', `app-${n}-0`)));
    let gen = 0;
    const app = new Map(c.nodeNames.map((n) => [n, `app-${n}-0`]));
    const rollNode = async (n: string) => {
      const next = `app-${n}-${++gen}`;
      await roll(c, app.get(n)!, n, next);
      app.set(n, next);
    };
    // 1. prepare, 2. roll
    await prepare(c);
    for (const n of c.nodeNames) await rollNode(n);
    // 3. priority: kube-multus-canal leaves, kube-multus-cilium arrives (bound before the old one is gone), roll.
    for (const n of c.nodeNames) {
      const old = c.agentPods('kube-multus-canal', n);
      const next = c.runAgent('kube-multus-cilium', n);
      for (const p of old) await c.deletePod('kube-system', p);
      await c.waitRunning('kube-system', next);
      await rollNode(n);
      expect(c.model.podInterfaces('default', app.get(n)!)!.map((i) => i.network)).toEqual(['cilium', 'flannel']);
    }
    // 4. migrate: the node's pods go, canal and cilium leave, cilium-migrated arrives and 00-cilium.conf wins.
    for (const n of c.nodeNames) {
      await c.deletePod('default', app.get(n)!);
      const migrated = c.runAgent('cilium-migrated', n);
      for (const p of [...c.agentPods('canal', n), ...c.agentPods('cilium', n)]) await c.deletePod('kube-system', p, 1);
      await c.waitRunning('kube-system', migrated);
      await c.waitGone('default', app.get(n)!);
      const next = `app-${n}-${++gen}`;
      c.createPod('default', next, n);
      await c.waitRunning('default', next);
      app.set(n, next);
      expect(c.model.podInterfaces('default', next)!.map((i) => i.network)).toEqual(['cilium']);
    }
    // 5. clean-up: the Multus pods go.
    for (const n of c.nodeNames) for (const p of c.agentPods('kube-multus-cilium', n)) await c.deletePod('kube-system', p);
    await waitFor('multus gone', () => c.nodeNames.every((n) => !c.agentPods('kube-multus-cilium', n).length));
    await new Promise((r) => setTimeout(r, 150)); // past the replacement grace: flannel is down everywhere now
    await c.settleGroundTruth();
    expect(allPairsReachable(c, [...app.values()])).toBe(true);
    expect(c.model.groundTruth.violations()).toEqual([]);
    expect(c.model.nodeState('node-1')!.datapaths.map((d) => d.network)).toEqual(['cilium']);
  });

  it('a second overlay on a UDP port the first holds fails; the first keeps working', async () => {
    const c = await start();
    const vxlan = c.store.get('configmaps', 'kube-system', 'cilium-config')!;
    c.store.update('configmaps', { ...vxlan, data: { ...vxlan.data, tunnel: 'vxlan' } });
    const names = await canalCluster(c, 1);
    expect(allPairsReachable(c, names)).toBe(true);
    await Promise.all(c.nodeNames.map((n) => c.waitRunning('kube-system', c.runAgent('cilium', n))));
    // Cilium's VXLAN on 8472 came up after flannel.1 held the port: Cilium's overlay fails.
    expect(c.model.nodeState('node-1')!.datapaths.find((d) => d.network === 'cilium')).toMatchObject({ conflictsWith: ['flannel'] });
    expect(c.model.nodeState('node-1')!.datapaths.find((d) => d.network === 'flannel')).toMatchObject({ conflictsWith: [] });
    expect(allPairsReachable(c, names)).toBe(true);
    c.createPod('default', 'c-node-1', 'node-1', { 'k8s.v1.cni.cncf.io/networks': '' });
    await c.settleGroundTruth();
    expect(c.model.groundTruth.current().unreachableCount).toBe(0);
  });
});

describe('NetworkModel: kubelet details', () => {
  it('keeps an agent with a missing ConfigMap in ContainerCreating until the ConfigMap exists', async () => {
    const c = await start();
    const cm = c.store.get('configmaps', 'kube-system', 'multus-cni-config')!;
    c.store.delete('configmaps', 'kube-system', 'multus-cni-config');
    const name = c.runAgent('kube-multus-canal', 'node-1');
    const msg = await waitFor('mount failure', () => c.pod('kube-system', name)?.status?.containerStatuses?.[0]?.state?.waiting?.message as string | undefined);
    expect(msg).toBe('MountVolume.SetUp failed for volume "multus-cfg" : configmap "multus-cni-config" not found');
    expect(c.pod('kube-system', name)!.status.initContainerStatuses[0].state.waiting.reason).toBe('PodInitializing');
    c.store.create('configmaps', { ...cm, metadata: { name: 'multus-cni-config', namespace: 'kube-system' } });
    await c.waitRunning('kube-system', name);
    expect(c.model.nodeState('node-1')!.files.map((f) => f.name)).toEqual(['00-multus.conflist']);
  });

  it('makes agents ready only after agentReadyMs and deletes stopped pods with grace 0', async () => {
    const c = await start({ settings: { timings: { podStartMs: 5, podStopMs: 5, agentReadyMs: 300 } } });
    const name = c.runAgent('canal', 'node-1');
    const running = await waitFor('agent running', () => (c.pod('kube-system', name)?.status?.phase === 'Running' ? c.pod('kube-system', name) : undefined));
    expect(running.status.conditions.find((x: { type: string }) => x.type === 'Ready').status).toBe('False');
    await c.waitRunning('kube-system', name);
    await c.deletePod('kube-system', name, 30);
    await c.waitGone('kube-system', name);
  });

  it('serves pods/proxy through registered handlers, and refuses like kube-apiserver otherwise', async () => {
    const c = await start();
    await canalCluster(c, 1);
    const off = c.model.registerPodHandler(
      (p) => p.metadata.name === 'w-node-1-0',
      (p, req) => Promise.resolve({ status: 200, headers: { 'content-type': 'text/plain' }, body: `${p.metadata.name} ${req.method} ${req.port} ${req.path}` }),
    );
    const body = { method: 'GET', path: '/status', query: '', headers: {}, body: Buffer.alloc(0) };
    await expect(c.model.proxy('default', 'w-node-1-0', undefined, body)).resolves.toMatchObject({ status: 200, body: 'w-node-1-0 GET 8080 /status' });
    await expect(c.model.proxy('default', 'w-node-1-0', 'http', body)).resolves.toMatchObject({ body: 'w-node-1-0 GET 8080 /status' });
    const ip = c.pod('default', 'w-node-2-0')!.status.podIP as string;
    const refused = await c.model.proxy('default', 'w-node-2-0', '9000', body).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 503, message: `error trying to reach service: dial tcp ${ip}:9000: connect: connection refused` });
    off();
    await expect(c.model.proxy('default', 'w-node-1-0', undefined, body)).rejects.toMatchObject({ code: 503 });
  });
});
