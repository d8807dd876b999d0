import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ipInCidrText } from '../../net/ipv4.js';
import { SimCluster } from '../simCluster.js';
import type { KubeObject } from '../store/kubeObject.js';
import { InProcessBackend } from './clusterBackend.js';
import { waitFor } from './testing/waitFor.js';

// The Cilium 1.18 Helm chart output applied next to a stock flannel install on a simulated
// cluster (controllers, scheduler and the node model as every kubelet): what the agents do to each
// node's CNI directory and pod addresses, from the manifests alone — and what CiliumNodeConfigs,
// node labels and agent restarts change.

const SCENARIOS = join(import.meta.dirname, '..', '..', '..', 'scenarios');
const FLANNEL = join(SCENARIOS, 'sources', 'flannel-v0.28.yaml');
const LABEL = 'io.cilium.migration/cilium-default';
const CNCS = 'cilium.io/ciliumnodeconfigs';
const MIGRATION_DEFAULTS = { 'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist', 'custom-cni-conf': 'false', 'cni-chaining-mode': 'none', 'cni-exclusive': 'true' };
const cnc = (name: string, namespace: string, nodeSelector: object, defaults: Record<string, string>, apiVersion = 'cilium.io/v2'): KubeObject => ({ apiVersion, kind: 'CiliumNodeConfig', metadata: { name, namespace }, spec: { nodeSelector, defaults } });

function scenario(chart: string): string {
  return `apiVersion: sim.cni-migration.dev/v1alpha1
kind: Simulation
nodes: 3
defaultCluster: false
timings: {podStartMs: 10, podStopMs: 10, agentReadyMs: 150}
include: [${FLANNEL}, ${join(SCENARIOS, 'cilium', chart)}]
`;
}

/**
 * Creates CiliumNodeConfigs once cilium-operator has registered their CRD (the chart ships none).
 * Straight into the store: the in-process backend does not make the API server serve a CRD it creates.
 */
async function createNodeConfigs(c: SimCluster, ...objects: KubeObject[]): Promise<void> {
  await waitFor('CiliumNodeConfig CRD registered', () => c.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, 'ciliumnodeconfigs.cilium.io'));
  for (const o of objects) c.store.create(CNCS, o);
}

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function start(text: string, settle = true): Promise<SimCluster> {
  const c = await SimCluster.start({ scenarioText: text });
  cluster = c;
  if (settle) await c.waitUntilSettled();
  return c;
}

const isReady = (p: KubeObject | undefined) => (p?.status?.conditions ?? []).some((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True');
const podOf = (c: SimCluster, namespace: string, [key, value]: [string, string], node: string) =>
  c.store.list('pods', namespace).items.find((p) => p.spec.nodeName === node && p.metadata.labels?.[key] === value && !p.metadata.deletionTimestamp);
const ciliumPod = (c: SimCluster, node: string) => podOf(c, 'kube-system', ['k8s-app', 'cilium'], node);
const flannelPod = (c: SimCluster, node: string) => podOf(c, 'kube-flannel', ['app', 'flannel'], node);
const configFiles = (c: SimCluster, node: string) => c.model.nodeState(node)!.files.map((f) => f.name).filter((n) => /\.(conf|conflist|json)$/.test(n));
const allFiles = (c: SimCluster, node: string) => c.model.nodeState(node)!.files.map((f) => f.name);

/** Deletes a pod as kubectl does (graceful) and waits for its DaemonSet's replacement to be Ready. */
async function recreate(c: SimCluster, pod: KubeObject, find: () => KubeObject | undefined): Promise<KubeObject> {
  await new InProcessBackend(c.store).delete('pods', pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 1 });
  return waitFor(`replacement of ${pod.metadata.name}`, () => {
    const p = find();
    return p && p.metadata.uid !== pod.metadata.uid && isReady(p) ? p : undefined;
  });
}

function workload(c: SimCluster, name: string, node: string): void {
  c.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.example/probe:v1' }] } });
}
const podIP = (c: SimCluster, name: string) => waitFor(`default/${name} running`, () => c.store.get('pods', 'default', name)?.status?.podIP as string | undefined);

describe('Cilium 1.18 chart with default values, next to flannel', () => {
  it('writes 05-cilium.conflist only once the agent is Ready, renames flannel\'s config away, and again after flannel\'s pod is re-created', async () => {
    const c = await start(scenario('cilium-1.18-default.yaml'), false);
    // Running but not Ready yet: the agent has written nothing.
    await waitFor('cilium agent on node-1 running, not ready', () => {
      const p = ciliumPod(c, 'node-1');
      return p?.status?.phase === 'Running' && !isReady(p);
    });
    expect(allFiles(c, 'node-1')).not.toContain('05-cilium.conflist');
    await waitFor('cilium agent on node-1 ready', () => isReady(ciliumPod(c, 'node-1')));
    expect(allFiles(c, 'node-1')).toContain('05-cilium.conflist');
    await c.waitUntilSettled();
    for (const n of ['node-1', 'node-2', 'node-3']) {
      expect(configFiles(c, n), n).toEqual(['05-cilium.conflist']);
      expect(allFiles(c, n), n).toContain('10-flannel.conflist.cilium_bak');
    }
    expect(c.model.nodeState('node-1')!.datapaths.find((d) => d.network === 'cilium')).toMatchObject({ pool: { cidr: '10.0.0.0/8', nodePrefix: 24 }, overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 } });

    // flannel's install-cni writes 10-flannel.conflist again on pod re-creation; the exclusive agent's watcher renames it.
    const before = flannelPod(c, 'node-2')!;
    const after = await recreate(c, before, () => flannelPod(c, 'node-2'));
    expect(configFiles(c, 'node-2')).toEqual(['05-cilium.conflist']);
    expect(c.model.nodeState('node-2')!.files.find((f) => f.name === '10-flannel.conflist.cilium_bak')?.writtenBy).toBe(`kube-flannel/${after.metadata.name}`);

    // New pods go to Cilium; the agent's exit (cni.uninstall=false) leaves the file.
    workload(c, 'w1', 'node-2');
    expect(ipInCidrText(await podIP(c, 'w1'), '10.0.0.0/8')).toBe(true);
    await recreate(c, ciliumPod(c, 'node-3')!, () => ciliumPod(c, 'node-3'));
    expect(configFiles(c, 'node-3')).toEqual(['05-cilium.conflist']);
  });
});

describe('Cilium 1.18 chart with the migration values, next to flannel', () => {
  it('stays latent: writes no config, its datapath on VXLAN 8473 with the 10.245.0.0/16 pool; new pods stay on flannel', async () => {
    const c = await start(scenario('cilium-1.18-migration.yaml'));
    for (const n of ['node-1', 'node-2', 'node-3']) expect(allFiles(c, n), n).toEqual(['10-flannel.conflist']);
    const cilium = c.model.nodeState('node-1')!.datapaths.find((d) => d.network === 'cilium');
    expect(cilium).toMatchObject({ pool: { cidr: '10.245.0.0/16', nodePrefix: 24 }, overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8473 } });
    workload(c, 'w1', 'node-1');
    expect(ipInCidrText(await podIP(c, 'w1'), '10.244.0.0/16')).toBe(true);
  });

  it('the operator registers the cilium.io CRDs and gives every node a CiliumNode with the podCIDR its Cilium pods get addresses from', async () => {
    const c = await start(scenario('cilium-1.18-migration.yaml'));
    const crd = await waitFor('CiliumNodeConfig CRD', () => c.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, 'ciliumnodeconfigs.cilium.io'));
    expect(crd.spec).toMatchObject({ group: 'cilium.io', scope: 'Namespaced', versions: [{ name: 'v2', storage: true }, { name: 'v2alpha1', served: true }] });
    for (const name of ['ciliumnodes', 'ciliumendpoints', 'ciliumidentities', 'ciliumnetworkpolicies', 'ciliumclusterwidenetworkpolicies']) {
      expect(c.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, `${name}.cilium.io`), name).toBeDefined();
    }
    const cns = await waitFor('three CiliumNodes', () => {
      const items = c.store.list('cilium.io/ciliumnodes').items;
      return items.length === 3 ? items : undefined;
    });
    expect(Object.fromEntries(cns.map((n) => [n.metadata.name, n.spec.ipam.podCIDRs]))).toEqual({ 'node-1': ['10.245.0.0/24'], 'node-2': ['10.245.1.0/24'], 'node-3': ['10.245.2.0/24'] });
    // A pod on a migrated node gets its address from that node's podCIDR.
    await createNodeConfigs(c, cnc('all', 'kube-system', {}, MIGRATION_DEFAULTS));
    await recreate(c, ciliumPod(c, 'node-2')!, () => ciliumPod(c, 'node-2'));
    workload(c, 'w2', 'node-2');
    expect(ipInCidrText(await podIP(c, 'w2'), '10.245.1.0/24')).toBe(true);
  });

  it('a CiliumNodeConfig takes over a labelled node only once its agent pod is re-created; unlabelled nodes and a CNC in another namespace change nothing', async () => {
    const c = await start(scenario('cilium-1.18-migration.yaml'));
    await createNodeConfigs(c, cnc('cilium-default', 'kube-system', { matchLabels: { [LABEL]: 'true' } }, MIGRATION_DEFAULTS), cnc('everywhere', 'default', {}, MIGRATION_DEFAULTS, 'cilium.io/v2alpha1'));
    c.store.mutate('nodes', undefined, 'node-2', (n) => void (n.metadata.labels = { ...n.metadata.labels, [LABEL]: 'true' }));
    // Labelled, but the agent resolved its config at start: still latent.
    workload(c, 'before', 'node-2');
    expect(ipInCidrText(await podIP(c, 'before'), '10.244.0.0/16')).toBe(true);
    expect(allFiles(c, 'node-2')).toEqual(['10-flannel.conflist']);

    await recreate(c, ciliumPod(c, 'node-2')!, () => ciliumPod(c, 'node-2'));
    expect(configFiles(c, 'node-2')).toEqual(['05-cilium.conflist']);
    expect(allFiles(c, 'node-2')).toContain('10-flannel.conflist.cilium_bak');
    expect(c.model.nodeState('node-2')!.datapaths.find((d) => d.network === 'cilium')?.source).toMatch(/cilium-node-config:kube-system\/cilium-default$/);
    workload(c, 'after', 'node-2');
    expect(ipInCidrText(await podIP(c, 'after'), '10.245.1.0/24')).toBe(true);
    // Exclusive: flannel's pod restart on the migrated node does not bring its config back.
    await recreate(c, flannelPod(c, 'node-2')!, () => flannelPod(c, 'node-2'));
    expect(configFiles(c, 'node-2')).toEqual(['05-cilium.conflist']);

    // An unlabelled node stays latent across an agent restart (the kube-system CNC does not select
    // it, and the one in "default" is ignored).
    await recreate(c, ciliumPod(c, 'node-1')!, () => ciliumPod(c, 'node-1'));
    expect(allFiles(c, 'node-1')).toEqual(['10-flannel.conflist']);
    workload(c, 'other', 'node-1');
    expect(ipInCidrText(await podIP(c, 'other'), '10.244.0.0/16')).toBe(true);
  });
});
