import { describe, expect, it } from 'vitest';
import type { Overlay } from './agentRecognizer.js';
import { canReach, judgePath, networkProfile, type ReachPod, type ReachView } from './reachability.js';

const geneve: Overlay = { kind: 'tunnel', mode: 'geneve', protocol: 'udp', port: 6081 };
const vxlan: Overlay = { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 };

describe('networkProfile', () => {
  it('fails the overlay that came up second on a UDP port the first holds', () => {
    const overlays = new Map([
      ['flannel', vxlan],
      ['cilium', vxlan],
    ]);
    expect(networkProfile('n1', 'flannel', overlays, []).conflictsWith).toEqual([]);
    expect(networkProfile('n1', 'cilium', overlays, []).conflictsWith).toEqual(['flannel']);
    const reversed = new Map([
      ['cilium', vxlan],
      ['flannel', vxlan],
    ]);
    expect(networkProfile('n1', 'flannel', reversed, []).conflictsWith).toEqual(['cilium']);
    // Calico's CrossSubnet VXLAN device holds its port without carrying traffic between these nodes.
    const calico = new Map<string, Overlay>([
      ['calico', { kind: 'native', mode: 'vxlan-crosssubnet', binds: { protocol: 'udp', port: 4789 } }],
      ['cilium', { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 4789 }],
    ]);
    expect(networkProfile('n1', 'cilium', calico, []).conflictsWith).toEqual(['calico']);
    expect(networkProfile('n1', 'calico', calico, []).conflictsWith).toEqual([]);
  });

  it('applies firewall rules by protocol, port and node', () => {
    const overlays = new Map([['cilium', geneve]]);
    expect(networkProfile('n1', 'cilium', overlays, [{ protocol: 'udp', port: 6081 }]).blocked).toBe(true);
    expect(networkProfile('n1', 'cilium', overlays, [{ protocol: 'tcp', port: 6081 }]).blocked).toBe(false);
    expect(networkProfile('n1', 'cilium', overlays, [{ protocol: 'udp', port: 6081, nodes: ['n2'] }]).blocked).toBe(false);
    expect(networkProfile('n2', 'cilium', overlays, [{ protocol: 'udp', port: 6081, nodes: ['n2'] }]).blocked).toBe(true);
  });
});

describe('judgePath', () => {
  const up = (overlay: Overlay, extra = {}) => ({ up: true, overlay, conflictsWith: [], blocked: false, ...extra });
  const down = { up: false, conflictsWith: [], blocked: false };
  const both = new Set(['flannel', 'cilium']);

  it('needs an interface on the network and the datapath on both ends', () => {
    expect(judgePath(new Set(['flannel']), 'cilium', up(geneve), up(geneve), false).reason).toBe('no-interface-on-network');
    expect(judgePath(both, 'cilium', down, up(geneve), false).reason).toBe('datapath-down-on-source-node');
    expect(judgePath(both, 'cilium', up(geneve), down, true).reason).toBe('datapath-down-on-target-node');
  });

  it('needs no overlay on the same node', () => {
    expect(judgePath(both, 'cilium', up(geneve, { blocked: true }), up(geneve, { blocked: true }), true).reason).toBe('reachable');
  });

  it('across nodes: same overlay, no conflict, not blocked', () => {
    expect(judgePath(both, 'cilium', up(geneve), up(geneve), false).reason).toBe('reachable');
    expect(judgePath(both, 'cilium', up(geneve), up(vxlan), false).reason).toBe('overlay-mismatch');
    expect(judgePath(both, 'cilium', up(vxlan, { conflictsWith: ['flannel'] }), up(vxlan), false).reason).toBe('overlay-port-conflict');
    expect(judgePath(both, 'cilium', up(geneve), up(geneve, { blocked: true }), false).reason).toBe('overlay-blocked-by-firewall');
  });
});

describe('canReach', () => {
  const pods: Record<string, ReachPod> = {
    'default/a': { label: 'default/a', node: 'n1', running: true, hostNetwork: false, networks: new Set(['flannel']) },
    'default/b': { label: 'default/b', node: 'n2', running: true, hostNetwork: false, networks: new Set(['flannel', 'cilium']) },
    'default/h': { label: 'default/h', node: 'n1', running: true, hostNetwork: true, networks: new Set() },
  };
  const owners: Record<string, { pod: ReachPod; network: string } | { node: string }> = {
    '10.244.2.2': { pod: pods['default/b']!, network: 'flannel' },
    '172.29.2.2': { pod: pods['default/b']!, network: 'cilium' },
    '192.168.0.3': { node: 'n2' },
  };
  const view: ReachView = {
    pod: (ns, name) => pods[`${ns}/${name}`],
    addressOwner: (ip) => owners[ip],
    profile: (_node, network) => ({ up: true, overlay: network === 'cilium' ? geneve : vxlan, conflictsWith: [], blocked: false }),
    // No Cilium agent bridges here: pods reach only the networks they have an interface on.
    bridges: () => [],
  };

  it('answers by the network the address is on', () => {
    expect(canReach(view, 'default', 'a', '10.244.2.2')).toMatchObject({ ok: true, network: 'flannel' });
    expect(canReach(view, 'default', 'a', '172.29.2.2')).toMatchObject({ ok: false, network: 'cilium', reason: 'no-interface-on-network' });
    expect(canReach(view, 'default', 'h', '172.29.2.2')).toMatchObject({ ok: true, network: 'cilium' });
    expect(canReach(view, 'default', 'a', '192.168.0.3')).toMatchObject({ ok: true, network: 'host' });
    expect(canReach(view, 'default', 'a', '10.9.9.9')).toMatchObject({ ok: false, reason: 'no-such-address' });
    expect(canReach(view, 'default', 'zz', '10.244.2.2')).toMatchObject({ ok: false, reason: 'unknown-source' });
  });
});
