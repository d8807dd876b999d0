import { describe, expect, it } from 'vitest';
import { probePod, snapshotOf, endpointsOf } from '../testing/probeBuilders.js';
import { discoverPeers, podNetworkInterfaces } from './peerDiscovery.js';

const self = { pod: 'a1', namespace: 'cni-migration-probe', node: 'n1', podIP: '10.244.1.2' };

describe('discoverPeers', () => {
  it('probes every ready peer in the Endpoints on its primary IP, excluding itself', () => {
    const pods = [probePod('a1', 'n1', '10.244.1.2'), probePod('b1', 'n1', '10.244.1.3'), probePod('a2', 'n2', '10.244.2.2')];
    const d = discoverPeers(self, snapshotOf(pods));
    expect(d.targets.map((t) => [t.pod, t.node, t.ip, t.network, t.primary])).toEqual([
      ['b1', 'n1', '10.244.1.3', 'default', true],
      ['a2', 'n2', '10.244.2.2', 'default', true],
    ]);
    expect(d.self.ips).toEqual(['10.244.1.2']);
  });

  it("adds a peer's extra Multus interface only on a network this pod has an interface on", () => {
    const mine = probePod('a1', 'n1', '10.244.1.2', { interfaces: [['k8s-pod-network', '10.244.1.2'], ['cilium', '172.29.1.2']] });
    const both = probePod('a2', 'n2', '10.244.2.2', { interfaces: [['k8s-pod-network', '10.244.2.2'], ['cilium', '172.29.2.2']] });
    // Primary Cilium, Flannel as the seed's "cbr0": the same Flannel network under another name.
    const swapped = probePod('a3', 'n3', '172.29.3.2', { interfaces: [['cilium', '172.29.3.2'], ['cbr0', '10.244.3.2']] });
    const other = probePod('a4', 'n4', '10.244.4.2', { interfaces: [['k8s-pod-network', '10.244.4.2'], ['macvlan-storage', '192.0.2.4']] });
    const d = discoverPeers(self, snapshotOf([mine, both, swapped, other]));
    expect(d.targets.map((t) => `${t.pod} ${t.ip} ${t.network} ${t.interface} ${t.primary ? 'primary' : 'extra'}`)).toEqual([
      'a2 10.244.2.2 flannel eth0 primary',
      'a2 172.29.2.2 cilium net1 extra',
      'a3 172.29.3.2 cilium eth0 primary',
      'a3 10.244.3.2 flannel net1 extra',
      'a4 10.244.4.2 flannel eth0 primary',
    ]);
    expect(d.self.interfaces.map((i) => i.network)).toEqual(['flannel', 'cilium']);
  });

  it('without an interface on cilium, a pod probes no cilium extra addresses', () => {
    const mine = probePod('a1', 'n1', '10.244.1.2');
    const peer = probePod('a2', 'n2', '10.244.2.2', { interfaces: [['k8s-pod-network', '10.244.2.2'], ['cilium', '172.29.2.2']] });
    expect(discoverPeers(self, snapshotOf([mine, peer])).targets.map((t) => t.ip)).toEqual(['10.244.2.2']);
  });

  it('skips pods missing from the pod list, terminating pods and not-ready addresses', () => {
    const mine = probePod('a1', 'n1', '10.244.1.2');
    const gone = probePod('gone', 'n2', '10.244.2.9');
    const terminating = probePod('t', 'n2', '10.244.2.8', { terminating: true });
    const notReady = probePod('nr', 'n3', '10.244.3.8');
    const endpoints = endpointsOf([mine, gone, terminating]);
    endpoints.subsets![0]!.notReadyAddresses = [{ ip: '10.244.3.8', targetRef: { name: 'nr' } }];
    const d = discoverPeers(self, { endpoints, pods: [mine, terminating, notReady] });
    expect(d.targets).toEqual([]);
  });

  it('finds nothing to probe without Endpoints, and still knows its own address', () => {
    const d = discoverPeers(self, { endpoints: undefined, pods: [] });
    expect(d.targets).toEqual([]);
    expect(d.self.interfaces).toEqual([{ network: 'default', interface: 'eth0', ips: ['10.244.1.2'], primary: true }]);
  });

  it('honours custom network aliases', () => {
    const mine = probePod('a1', 'n1', '10.0.0.1', { interfaces: [['k8s-pod-network', '10.0.0.1']] });
    const peer = probePod('a2', 'n2', '10.0.0.2', { interfaces: [['k8s-pod-network', '10.0.0.2']] });
    expect(discoverPeers(self, snapshotOf([mine, peer]), { networkAliases: { 'k8s-pod-network': 'canal' } }).targets[0]!.network).toBe('canal');
  });
});

describe('podNetworkInterfaces', () => {
  it('ignores an unreadable annotation and entries without addresses', () => {
    const bad = probePod('x', 'n1', '10.0.0.1');
    bad.metadata.annotations = { 'k8s.v1.cni.cncf.io/network-status': '{not json' };
    expect(podNetworkInterfaces(bad)).toBeUndefined();
    const partial = probePod('y', 'n1', '10.0.0.1');
    partial.metadata.annotations = { 'k8s.v1.cni.cncf.io/network-status': JSON.stringify([{ name: 'cilium', interface: 'net1', ips: [] }, { name: 'cbr0', interface: 'eth0', ips: ['10.0.0.1'] }]) };
    expect(podNetworkInterfaces(partial)).toEqual([{ network: 'flannel', interface: 'eth0', ips: ['10.0.0.1'], primary: true }]);
  });
});
