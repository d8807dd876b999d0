import { describe, expect, it } from 'vitest';
import type { AgentSpec } from './agentRecognizer.js';
import { NodeCniState } from './nodeCniState.js';

const ciliumSpec = (name: string, removeOnExit = true): AgentSpec => ({
  datapath: { network: 'cilium', pool: { cidr: '172.29.0.0/16', nodePrefix: 24, useNodePodCidr: false }, overlay: { kind: 'tunnel', mode: 'geneve', protocol: 'udp', port: 6081 }, source: 'test' },
  files: [{ name, content: '{"name":"cilium","type":"cilium-cni"}', writtenBy: 'cilium-agent', when: 'running', removeOnExit }],
  exclusive: false,
  ignoredWrites: [],
});

describe('NodeCniState', () => {
  it('keeps the datapath up while any agent pod for it is bound, and only then lets it go', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentPodBound('old', 'cilium');
    s.agentStarted('old', 'kube-system/cilium-old', ciliumSpec('99-cilium.conf'));
    // The replacement is bound (pending) before the old pod is gone: no gap.
    s.agentPodBound('new', 'cilium');
    s.agentExited('old');
    expect(s.agentPodUnbound('old', 'cilium')).toBe(false);
    expect(s.datapath('cilium')).toBeDefined();
    expect(s.runningNetworks().has('cilium')).toBe(false);
    // Taken off the node: the last bound pod goes.
    expect(s.agentPodUnbound('new', 'cilium')).toBe(true);
    expect(s.takeDownIfUnbound('cilium')).toBe(true);
    expect(s.datapath('cilium')).toBeUndefined();
  });

  it('does not take the datapath down if a replacement was bound during the grace', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentPodBound('old', 'cilium');
    s.agentStarted('old', 'kube-system/cilium-old', ciliumSpec('99-cilium.conf'));
    expect(s.agentPodUnbound('old', 'cilium')).toBe(true);
    s.agentPodBound('new', 'cilium');
    expect(s.takeDownIfUnbound('cilium')).toBe(false);
  });

  it('removes only the files its agent removes on exit, sorted lexically for the kubelet', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('a', 'kube-system/cilium-a', ciliumSpec('99-cilium.conf'));
    s.agentStarted('m', 'kube-system/multus', { files: [{ name: '00-multus.conflist', content: '{}', writtenBy: 'kube-multus', when: 'running', removeOnExit: false }], exclusive: false, ignoredWrites: [] });
    expect(s.configFiles().map((f) => f.name)).toEqual(['00-multus.conflist', '99-cilium.conf']);
    s.agentExited('m');
    s.agentExited('a');
    expect(s.configFiles().map((f) => f.name)).toEqual(['00-multus.conflist']);
  });

  it('renames other configs away for an exclusive agent, and writes ready-time files on readiness', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('c', 'kube-system/canal', { files: [{ name: '10-calico.conflist', content: '{}', writtenBy: 'install-cni', when: 'running', removeOnExit: false }], exclusive: false, ignoredWrites: [] });
    const spec = ciliumSpec('05-cilium.conflist');
    spec.exclusive = true;
    spec.files[0]!.when = 'ready';
    s.agentStarted('x', 'kube-system/cilium-x', spec);
    expect(s.configFiles().map((f) => f.name)).toEqual(['10-calico.conflist']);
    s.agentReady('x');
    expect(s.configFiles().map((f) => f.name)).toEqual(['05-cilium.conflist']);
    expect(s.allFiles().map((f) => f.name).sort()).toEqual(['05-cilium.conflist', '10-calico.conflist.cilium_bak']);
  });

  it('writes a Multus "auto" config once there is a network config to delegate to', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('m', 'kube-system/multus', { files: [{ name: '00-multus.conf', content: '', writtenBy: 'kube-multus', when: 'running', removeOnExit: true, generate: 'multus-auto' }], exclusive: false, ignoredWrites: [] });
    expect(s.configFiles()).toEqual([]);
    s.agentStarted('c', 'kube-system/cilium', ciliumSpec('05-cilium.conf'));
    const multus = JSON.parse(s.configFiles()[0]!.content) as { type: string; delegates: { name: string }[] };
    expect(s.configFiles().map((f) => f.name)).toEqual(['00-multus.conf', '05-cilium.conf']);
    expect(multus).toMatchObject({ type: 'multus', delegates: [{ name: 'cilium' }] });
  });
});
