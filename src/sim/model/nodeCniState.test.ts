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

// Cilium ≥1.14's in-agent CNI config manager (write-cni-conf-when-ready): write when ready, rename a
// legacy 05-cilium.conf, with cni-exclusive every other config, and — exclusive only — keep doing so
// on every later change of the directory while the agent runs (its fsnotify watcher).
describe('NodeCniState: Cilium CNI config manager', () => {
  const managed = (exclusive: boolean, opts: { removeOnExit?: boolean; content?: string } = {}): AgentSpec => ({
    datapath: { network: 'cilium', pool: { cidr: '10.245.0.0/16', nodePrefix: 24, useNodePodCidr: false }, overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8473 }, source: 'test', ipam: 'cluster-pool' },
    files: [{ name: '05-cilium.conflist', content: opts.content ?? '{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni"}]}', writtenBy: 'cilium-agent', when: 'ready', removeOnExit: opts.removeOnExit ?? false, manager: { exclusive } }],
    exclusive,
    ignoredWrites: [],
  });
  const writer = (name: string, content = '{}'): AgentSpec => ({ files: [{ name, content, writtenBy: 'install-cni', when: 'running', removeOnExit: false }], exclusive: false, ignoredWrites: [] });
  const names = (s: NodeCniState) => s.allFiles().map((f) => f.name).sort();

  it('exclusive: renames every other config (Cilium-named ones and 05-cilium.conf too) once ready, and every later one while it runs', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('f1', 'kube-flannel/flannel-1', writer('10-flannel.conflist'));
    s.agentStarted('old', 'kube-system/old-cilium', writer('05-cilium.conf'));
    s.agentStarted('x', 'kube-system/other', { files: [{ name: '99-cilium.conf', content: '{}', writtenBy: 'x', when: 'running', removeOnExit: false }, { name: 'calico-kubeconfig', content: 'k', writtenBy: 'x', when: 'running', removeOnExit: false }], exclusive: false, ignoredWrites: [] });
    s.agentStarted('c', 'kube-system/cilium-a', managed(true));
    // Not ready yet: nothing written, nothing renamed, and no watcher.
    s.agentStarted('f2', 'kube-flannel/flannel-2', writer('10-flannel.conflist'));
    expect(names(s)).toEqual(['05-cilium.conf', '10-flannel.conflist', '99-cilium.conf', 'calico-kubeconfig']);
    s.agentReady('c');
    expect(names(s)).toEqual(['05-cilium.conf.cilium_bak', '05-cilium.conflist', '10-flannel.conflist.cilium_bak', '99-cilium.conf.cilium_bak', 'calico-kubeconfig']);
    expect(s.configFiles().map((f) => f.name)).toEqual(['05-cilium.conflist']);
    // The source CNI's pod is re-created: its install-cni writes the config again, the watcher renames it.
    s.agentExited('f2');
    s.agentStarted('f3', 'kube-flannel/flannel-3', writer('10-flannel.conflist', '{"new":true}'));
    expect(s.configFiles().map((f) => f.name)).toEqual(['05-cilium.conflist']);
    expect(s.allFiles().find((f) => f.name === '10-flannel.conflist.cilium_bak')).toMatchObject({ writtenBy: 'kube-flannel/flannel-3', content: '{"new":true}' });
    // Another writer replacing the managed file gets it rewritten.
    s.agentStarted('i', 'istio/cni', writer('05-cilium.conflist', '{"istio":true}'));
    expect(s.allFiles().find((f) => f.name === '05-cilium.conflist')).toMatchObject({ writtenBy: 'kube-system/cilium-a' });
    // Once the agent has exited (cni-uninstall off: its file stays), nothing watches any more; backups are never restored.
    s.agentExited('c');
    s.agentStarted('f4', 'kube-flannel/flannel-4', writer('10-flannel.conflist'));
    expect(s.configFiles().map((f) => f.name)).toEqual(['05-cilium.conflist', '10-flannel.conflist']);
    expect(names(s)).toContain('99-cilium.conf.cilium_bak');
  });

  it('not exclusive: only 05-cilium.conf is renamed, and later writes by others stay (no watcher)', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('f1', 'kube-flannel/flannel-1', writer('10-flannel.conflist'));
    s.agentStarted('old', 'kube-system/old-cilium', writer('05-cilium.conf'));
    s.agentStarted('c', 'kube-system/cilium-a', managed(false));
    s.agentReady('c');
    expect(names(s)).toEqual(['05-cilium.conf.cilium_bak', '05-cilium.conflist', '10-flannel.conflist']);
    s.agentStarted('m', 'kube-system/multus', writer('00-multus.conflist'));
    s.agentStarted('i', 'istio/cni', writer('05-cilium.conflist', '{"istio":true}'));
    expect(s.configFiles().map((f) => f.name)).toEqual(['00-multus.conflist', '05-cilium.conflist', '10-flannel.conflist']);
    expect(s.allFiles().find((f) => f.name === '05-cilium.conflist')).toMatchObject({ writtenBy: 'istio/cni' });
  });

  it("file operations of a one-shot pod (a rollback's mv/rm): an exclusive agent still running undoes them, a latent one does not", () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('f1', 'kube-flannel/flannel-1', writer('10-flannel.conflist', '{"flannel":1}'));
    s.agentStarted('c', 'kube-system/cilium-a', managed(true));
    s.agentReady('c');
    // Restoring the backup while the exclusive agent runs: its watcher renames it straight back.
    s.applyFileOps([{ op: 'move', from: '10-flannel.conflist.cilium_bak', to: '10-flannel.conflist' }], 'kube-system/restore-1');
    expect(s.configFiles().map((f) => f.name)).toEqual(['05-cilium.conflist']);
    // Removing its file gets it rewritten.
    s.applyFileOps([{ op: 'remove', name: '05-cilium.conflist' }], 'kube-system/restore-1');
    expect(s.configFiles().map((f) => f.name)).toEqual(['05-cilium.conflist']);
    // The agent restarted without CNI management (label removed): the same operations stick.
    s.agentExited('c');
    s.agentStarted('c2', 'kube-system/cilium-b', { ...managed(false), files: [] });
    s.agentReady('c2');
    s.applyFileOps(
      [
        { op: 'remove', name: '05-cilium.conflist' },
        { op: 'move', from: '10-flannel.conflist.cilium_bak', to: '10-flannel.conflist' },
        { op: 'move', from: 'missing.conf', to: 'x.conf' },
      ],
      'kube-system/restore-2',
    );
    expect(s.allFiles()).toMatchObject([{ name: '10-flannel.conflist', content: '{"flannel":1}', writtenBy: 'kube-system/restore-2' }]);
  });

  it('removes its file on exit only when told to (cni-uninstall "true"), restoring nothing', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('f1', 'kube-flannel/flannel-1', writer('10-flannel.conflist'));
    s.agentStarted('c', 'kube-system/cilium-a', managed(true, { removeOnExit: true }));
    s.agentReady('c');
    s.agentExited('c');
    expect(names(s)).toEqual(['10-flannel.conflist.cilium_bak']);
    expect(s.configFiles()).toEqual([]);
  });

  it('does not rewrite identical bytes (writtenAt and writer stay) when a new agent manages the same file', () => {
    const s = new NodeCniState('n1', '/etc/cni/net.d');
    s.agentStarted('a', 'kube-system/cilium-a', managed(true));
    s.agentReady('a');
    const first = s.allFiles()[0]!;
    s.agentExited('a');
    s.agentStarted('b', 'kube-system/cilium-b', managed(true));
    s.agentReady('b');
    expect(s.allFiles()).toEqual([first]);
    s.agentStarted('c', 'kube-system/cilium-c', managed(true, { content: '{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni","enable-debug":true}]}' }));
    s.agentReady('c');
    expect(s.allFiles()[0]).toMatchObject({ name: '05-cilium.conflist', writtenBy: 'kube-system/cilium-c' });
  });
});
