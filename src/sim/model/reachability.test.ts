import { describe, expect, it } from 'vitest';
import type { Overlay } from './agentRecognizer.js';
import { canReach, judgePath, networkProfile, reachClassKey, type NetworkProfile, type ReachPod, type ReachView } from './reachability.js';

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

describe('reachClassKey', () => {
  // Small random clusters: every profile flag, overlay and interface set mixed, pods running or not.
  function randomView(seed: number): { view: ReachView; sources: ReachPod[]; ips: string[] } {
    let x = seed * 2654435761 + 1;
    const rnd = (n: number) => {
      x = (Math.imul(x ^ (x >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
      return x % n;
    };
    const nets = ['flannel', 'cilium', 'calico'];
    // A small palette, so different nodes often share a profile (where a key must still tell them apart).
    const palette: NetworkProfile[] = [
      { up: false, conflictsWith: [], blocked: false },
      { up: true, overlay: geneve, conflictsWith: [], blocked: false },
      { up: true, overlay: geneve, conflictsWith: [], blocked: false, bridges: true },
      { up: true, overlay: vxlan, conflictsWith: [], blocked: false },
      { up: true, overlay: vxlan, conflictsWith: ['other'], blocked: false },
      { up: true, overlay: geneve, conflictsWith: [], blocked: true },
      { up: true, overlay: { kind: 'native', mode: 'routing' }, conflictsWith: [], blocked: false, broken: 'routes gone' },
    ];
    const profiles = new Map<string, NetworkProfile>();
    for (const node of ['n1', 'n2', 'n3']) for (const n of nets) profiles.set(`${node}/${n}`, palette[rnd(palette.length)]!);
    const pods: ReachPod[] = [];
    const owners = new Map<string, { pod: ReachPod; network: string } | { node: string }>();
    for (let i = 0; i < 14; i++) {
      const networks = new Set(nets.filter(() => rnd(2) === 0));
      const pod: ReachPod = { label: `default/p${i}`, node: `n${1 + rnd(3)}`, running: rnd(7) !== 0, hostNetwork: rnd(9) === 0, networks };
      pods.push(pod);
      [...networks].forEach((n, j) => owners.set(`10.${j}.0.${i}`, { pod, network: n }));
    }
    owners.set('192.168.0.1', { node: 'n1' });
    const view: ReachView = {
      pod: (_ns, name) => pods.find((p) => p.label === `default/${name}`),
      addressOwner: (ip) => owners.get(ip),
      profile: (node, network) => profiles.get(`${node}/${network}`) ?? { up: false, conflictsWith: [], blocked: false },
      bridges: (node) => nets.filter((n) => profiles.get(`${node}/${n}`)?.up && profiles.get(`${node}/${n}`)?.bridges),
    };
    return { view, sources: pods, ips: [...owners.keys(), '10.99.0.1'] };
  }

  it('gives addresses one key only when every source gets one verdict for them on each side of its node', () => {
    let grouped = 0;
    let addresses = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const { view, sources, ips } = randomView(seed);
      for (const src of sources) {
        const name = src.label.split('/')[1]!;
        const byKey = new Map<string, Set<string>>();
        for (const ip of ips) {
          const cls = reachClassKey(view, ip);
          const owner = view.addressOwner(ip);
          const key = cls === undefined || !owner || 'node' in owner ? undefined : `${cls}|${owner.pod.node === src.node ? 'same node' : 'other node'}`;
          if (key === undefined) {
            // Only node addresses and unknown ones are left to be judged one by one.
            expect(view.addressOwner(ip) === undefined || 'node' in view.addressOwner(ip)!).toBe(true);
            continue;
          }
          addresses++;
          const reasons = byKey.get(key) ?? new Set<string>();
          reasons.add(canReach(view, 'default', name, ip).reason);
          byKey.set(key, reasons);
        }
        for (const [key, reasons] of byKey) expect({ seed, source: src.label, key, reasons: [...reasons] }).toEqual({ seed, source: src.label, key, reasons: [...reasons].slice(0, 1) });
        grouped += byKey.size;
      }
    }
    // Not vacuous: the keys do group addresses (a key per address would pass the check above).
    expect(grouped).toBeLessThan(addresses * 0.8);
  });
});
