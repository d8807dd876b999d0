import { afterEach, describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../api/resourceRegistry.js';
import type { KubeObject } from '../store/kubeObject.js';
import { ObjectStore } from '../store/objectStore.js';
import { storeInfoFrom } from '../store/storeInfo.js';
import type { DatapathSpec } from './agentRecognizer.js';
import { ciliumCrds, ciliumNodeFor, isCiliumOperatorPod, startCiliumOperatorEffects, type CiliumOperatorEffects, type CiliumOperatorModelView } from './ciliumOperatorEffects.js';
import { InProcessBackend } from './clusterBackend.js';
import { waitFor } from './testing/waitFor.js';

// cilium-operator's effects on the cluster, over the in-process backend with a fake model view:
// the tests bind pods with a Running status (as the kubelets would post it).

const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';
const NODES = ['node-1', 'node-2', 'node-3'];
const pool = (cidr: string, ipam = 'cluster-pool'): DatapathSpec => ({ network: 'cilium', pool: { cidr, nodePrefix: 24, useNodePodCidr: false }, overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8473 }, source: 'test', ipam });

function viewOf(datapaths: Record<string, DatapathSpec>): CiliumOperatorModelView {
  return {
    nodeNames: () => NODES,
    ciliumDatapath: (n) => datapaths[n],
    addressingOf: (n) => (NODES.includes(n) ? { index: NODES.indexOf(n), internalIP: `192.168.0.${NODES.indexOf(n) + 2}`, podCIDR: `10.244.${NODES.indexOf(n)}.0/24` } : undefined),
  };
}

function pod(name: string, node: string, container: { image: string; command?: string[] }, phase = 'Running'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system' }, spec: { nodeName: node, hostNetwork: true, containers: [{ name: 'c', ...container }] }, status: { phase } };
}
const OPERATOR = { image: 'quay.io/cilium/operator-generic:v1.18.12@sha256:86899c7', command: ['cilium-operator-generic'] };
const AGENT = { image: 'quay.io/cilium/cilium:v1.18.12', command: ['cilium-agent'] };

let effects: CiliumOperatorEffects | undefined;
afterEach(() => {
  effects?.();
  effects = undefined;
});

async function setup(datapaths: Record<string, DatapathSpec>) {
  const store = new ObjectStore(storeInfoFrom(new ResourceRegistry()));
  const log: string[] = [];
  effects = await startCiliumOperatorEffects(new InProcessBackend(store), viewOf(datapaths), (l) => log.push(l));
  return { store, log, idle: effects.idle };
}

describe('cilium-operator effects', () => {
  it('recognises the operator by image or command, not cilium agents or other operators', () => {
    expect(isCiliumOperatorPod(pod('a', 'node-1', OPERATOR))).toBe(true);
    expect(isCiliumOperatorPod(pod('b', 'node-1', { image: 'docker.io/cilium/operator:v1.7.4' }))).toBe(true);
    expect(isCiliumOperatorPod(pod('c', 'node-1', { image: 'registry.local:5000/mirror/x:1', command: ['/usr/bin/cilium-operator-aws'] }))).toBe(true);
    expect(isCiliumOperatorPod(pod('d', 'node-1', AGENT))).toBe(false);
    expect(isCiliumOperatorPod(pod('e', 'node-1', { image: 'quay.io/tigera/operator:v1.38.0', command: ['operator'] }))).toBe(false);
  });

  it('defines the cilium.io CRDs with upstream names, scopes and versions', () => {
    const byName = new Map(ciliumCrds().map((c) => [c.metadata.name, c.spec]));
    expect([...byName.keys()].sort()).toEqual([
      'ciliumclusterwidenetworkpolicies.cilium.io',
      'ciliumendpoints.cilium.io',
      'ciliumidentities.cilium.io',
      'ciliumnetworkpolicies.cilium.io',
      'ciliumnodeconfigs.cilium.io',
      'ciliumnodes.cilium.io',
    ]);
    expect(byName.get('ciliumnodeconfigs.cilium.io')).toMatchObject({
      group: 'cilium.io',
      scope: 'Namespaced',
      names: { kind: 'CiliumNodeConfig', plural: 'ciliumnodeconfigs', singular: 'ciliumnodeconfig', listKind: 'CiliumNodeConfigList' },
      versions: [
        { name: 'v2', served: true, storage: true },
        { name: 'v2alpha1', served: true, storage: false, deprecated: true },
      ],
    });
    expect(byName.get('ciliumnodes.cilium.io')).toMatchObject({ scope: 'Cluster', names: { kind: 'CiliumNode', shortNames: ['cn', 'ciliumn'] }, versions: [{ name: 'v2', subresources: { status: {} } }] });
    expect(byName.get('ciliumendpoints.cilium.io')).toMatchObject({ scope: 'Namespaced', names: { shortNames: ['cep', 'ciliumep'] } });
    expect(byName.get('ciliumidentities.cilium.io')).toMatchObject({ scope: 'Cluster', names: { shortNames: ['ciliumid'] } });
    expect(byName.get('ciliumnetworkpolicies.cilium.io')).toMatchObject({ scope: 'Namespaced', names: { kind: 'CiliumNetworkPolicy', shortNames: ['cnp', 'ciliumnp'] } });
    expect(byName.get('ciliumclusterwidenetworkpolicies.cilium.io')).toMatchObject({ scope: 'Cluster', names: { kind: 'CiliumClusterwideNetworkPolicy', shortNames: ['ccnp'] } });
  });

  it('registers nothing until an operator pod runs on one of our nodes, then every CRD, keeping existing ones', async () => {
    const { store, log, idle } = await setup({});
    const existing = store.create(CRDS, { ...ciliumCrds()[1]!, metadata: { name: 'ciliumnodes.cilium.io', labels: { keep: 'me' } } });
    store.create('pods', pod('op-pending', 'node-1', OPERATOR, 'Pending'));
    store.create('pods', pod('op-elsewhere', 'real-node', OPERATOR));
    store.create('pods', pod('agent', 'node-1', AGENT));
    await idle();
    expect(store.list(CRDS).items.map((c) => c.metadata.name)).toEqual(['ciliumnodes.cilium.io']);
    store.mutate('pods', 'kube-system', 'op-pending', (p) => void (p.status = { phase: 'Running' }), { part: 'status' });
    await waitFor('all CRDs', () => store.list(CRDS).items.length === 6);
    expect(store.get(CRDS, undefined, 'ciliumnodes.cilium.io')).toMatchObject({ metadata: { labels: { keep: 'me' }, resourceVersion: existing.metadata.resourceVersion } });
    // A second replica, or the operator restarted: the CRDs exist already, which is no error.
    store.create('pods', pod('op-2', 'node-2', OPERATOR));
    await idle();
    expect(store.list(CRDS).items).toHaveLength(6);
    expect(log).toEqual([]);
  });

  it("gives each node running a cluster-pool agent a CiliumNode with its share of the pool, filling an existing one's empty podCIDRs only", async () => {
    const dps = { 'node-1': pool('10.245.0.0/16'), 'node-2': pool('10.245.0.0/16'), 'node-3': pool('10.245.0.0/16', 'kubernetes') };
    const { store, log } = await setup(dps);
    const node1 = store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } } });
    store.create('cilium.io/ciliumnodes', { apiVersion: 'cilium.io/v2', kind: 'CiliumNode', metadata: { name: 'node-2' }, spec: { ipam: {} } });
    for (const n of NODES) store.create('pods', pod(`cilium-${n}`, n, AGENT));
    store.create('pods', pod('op', 'node-3', OPERATOR));
    await waitFor('node-1 CiliumNode', () => store.get('cilium.io/ciliumnodes', undefined, 'node-1'));
    await waitFor('node-2 podCIDRs', () => store.get('cilium.io/ciliumnodes', undefined, 'node-2')?.spec.ipam.podCIDRs);
    expect(store.get('cilium.io/ciliumnodes', undefined, 'node-1')).toMatchObject({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNode',
      metadata: { labels: { 'kubernetes.io/hostname': 'node-1' }, ownerReferences: [{ kind: 'Node', name: 'node-1', uid: node1.metadata.uid }] },
      spec: { addresses: [{ type: 'InternalIP', ip: '192.168.0.2' }, { type: 'CiliumInternalIP', ip: '10.245.0.1' }], ipam: { podCIDRs: ['10.245.0.0/24'] } },
    });
    expect(store.get('cilium.io/ciliumnodes', undefined, 'node-2')?.spec.ipam.podCIDRs).toEqual(['10.245.1.0/24']);
    // ipam kubernetes: no allocation by the operator.
    expect(store.get('cilium.io/ciliumnodes', undefined, 'node-3')).toBeUndefined();
    expect(log).toEqual([]);
  });

  it('never re-allocates a CiliumNode that has podCIDRs', () => {
    const view = viewOf({ 'node-1': pool('10.245.0.0/16') });
    expect(ciliumNodeFor('node-1', view)?.spec.ipam.podCIDRs).toEqual(['10.245.0.0/24']);
    expect(ciliumNodeFor('node-1', viewOf({ 'node-1': pool('10.245.0.0/16', 'hostscope-legacy') }))).toBeUndefined();
  });
});
