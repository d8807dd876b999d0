import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cidrCovers, parseCidr, parseIp } from '../../net/ipv4.js';
import { SimCluster } from '../simCluster.js';
import { SimulationSettingsSchema, type FirewallRuleSettings } from '../simSettings.js';
import type { KubeObject } from '../store/kubeObject.js';
import { datapathNetworkOf, recognizeAgent, type Overlay } from './agentRecognizer.js';
import { WATCHED_CUSTOM, type CustomResourceLookup } from './clusterCache.js';
import { networkProfile } from './reachability.js';
import { configMapLookupOf, findObject, loadManifest, podFromDaemonSet } from './testing/modelFixtures.js';
import { waitFor } from './testing/waitFor.js';

// Plain Calico's calico-node as a datapath ("calico"), read from the stock install fixtures: pool
// and block size from the IPPools (else calico-node's env), and the overlay the pool asks for —
// IPIP (IP protocol 4), VXLAN (UDP), CrossSubnet (native here: the simulation's nodes share one
// subnet) or plain BGP routing (native, routes learnt over TCP 179).

const SOURCES = join(import.meta.dirname, '..', '..', '..', 'scenarios', 'sources');
const CNI_DIR = '/etc/cni/net.d';
const fixture = (file: string) => loadManifest(join(SOURCES, file));

function customResourcesOf(objects: readonly KubeObject[]): CustomResourceLookup {
  return (resource) =>
    objects.filter((o) => (resource === WATCHED_CUSTOM.ipPools && o.kind === 'IPPool') || (resource === WATCHED_CUSTOM.felixConfigurations && o.kind === 'FelixConfiguration'));
}

/** calico-node (or another DaemonSet) of a fixture as recognised on node-1. */
function agentOf(objects: KubeObject[], opts: { daemonSet?: string; withCustomResources?: boolean; edit?: (pod: KubeObject) => void } = {}) {
  const pod = podFromDaemonSet(findObject(objects, 'DaemonSet', opts.daemonSet ?? 'calico-node'), 'node-1');
  opts.edit?.(pod);
  const customResources = opts.withCustomResources === false ? undefined : customResourcesOf(objects);
  return { pod, agent: recognizeAgent(pod, configMapLookupOf(objects), { cniConfDir: CNI_DIR, nodeName: 'node-1', clusterCIDR: '10.244.0.0/16', customResources }) };
}

function setEnv(pod: KubeObject, container: string, name: string, value: string): void {
  const c = (pod.spec.containers as { name: string; env?: { name: string; value?: string }[] }[]).find((x) => x.name === container)!;
  c.env = [...(c.env ?? []).filter((e) => e.name !== name), { name, value }];
}

describe('calico-node as a datapath, from the stock fixtures', () => {
  it('calico.yaml: network calico, 192.168.0.0/16 in /26 blocks from the IPPool, IP-in-IP with routes over BGP', () => {
    const { pod, agent } = agentOf(fixture('calico-v3.31.yaml'));
    expect(datapathNetworkOf(pod)).toBe('calico');
    expect(agent?.datapath).toEqual({
      network: 'calico',
      pool: { cidr: '192.168.0.0/16', nodePrefix: 26, useNodePodCidr: false },
      overlay: { kind: 'tunnel', mode: 'ipip', protocol: 'ip', port: 4, control: { protocol: 'tcp', port: 179 } },
      source: 'IPPool (crd.projectcalico.org/v1)',
      // The pool's natOutgoing: pod traffic to addresses outside the pools is masqueraded.
      masquerades: true,
    });
    expect(agent?.files.map((f) => f.name)).toEqual(['10-calico.conflist']);
  });

  it('calico.yaml without the IPPool: the same pool and overlay seeded from calico-node\'s env', () => {
    const { agent } = agentOf(fixture('calico-v3.31.yaml'), { withCustomResources: false });
    expect(agent?.datapath).toMatchObject({ pool: { cidr: '192.168.0.0/16', nodePrefix: 26 }, overlay: { mode: 'ipip', protocol: 'ip' }, source: 'calico-node env (CALICO_IPV4POOL_*, default pool)' });
  });

  it('calico-vxlan.yaml: VXLAN CrossSubnet routes natively between one subnet\'s nodes, the vxlan device holding udp/4789, no BGP', () => {
    const { agent } = agentOf(fixture('calico-vxlan-v3.31.yaml'));
    expect(agent?.datapath).toMatchObject({ network: 'calico', pool: { cidr: '192.168.0.0/16', nodePrefix: 26 } });
    expect(agent?.datapath?.overlay).toEqual({ kind: 'native', mode: 'vxlan-crosssubnet', binds: { protocol: 'udp', port: 4789 } });
  });

  it('calico-operator.yaml: no default pool (NO_DEFAULT_POOLS) until the operator\'s IPPool exists', () => {
    const objects = fixture('calico-operator-v3.31.yaml');
    expect(findObject(objects, 'DaemonSet', 'calico-node').metadata.namespace).toBe('calico-system');
    expect(agentOf(objects, { withCustomResources: false }).agent?.datapath).toBeUndefined();
    expect(agentOf(objects).agent?.datapath).toMatchObject({ network: 'calico', pool: { cidr: '192.168.0.0/16', nodePrefix: 26 }, overlay: { kind: 'native', mode: 'vxlan-crosssubnet', binds: { protocol: 'udp', port: 4789 } } });
  });

  it('canal.yaml: calico-node only enforces policy there; flannel is the datapath', () => {
    const objects = fixture('canal-v3.31.yaml');
    const { pod, agent } = agentOf(objects, { daemonSet: 'canal' });
    expect(datapathNetworkOf(pod)).toBe('flannel');
    expect(agent?.datapath).toMatchObject({ network: 'flannel', overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 } });
    // Even without its flannel container, Canal's calico-node (CALICO_NETWORKING_BACKEND none) is no datapath.
    const alone = agentOf(objects, { daemonSet: 'canal', edit: (p) => (p.spec.containers = (p.spec.containers as { name: string }[]).filter((c) => c.name === 'calico-node')) });
    expect(alone.agent?.datapath).toBeUndefined();
    // Negative control: the same container with a routing backend would be one.
    const bird = agentOf(objects, {
      daemonSet: 'canal',
      edit: (p) => {
        p.spec.containers = (p.spec.containers as { name: string }[]).filter((c) => c.name === 'calico-node');
        setEnv(p, 'calico-node', 'CALICO_NETWORKING_BACKEND', 'bird');
      },
    });
    expect(bird.agent?.datapath?.network).toBe('calico');
  });

  it('takes the VXLAN port from FelixConfiguration, and FELIX_VXLANPORT over it (env wins in Felix)', () => {
    const objects = fixture('calico-vxlan-v3.31.yaml').map((o) => {
      if (o.kind === 'IPPool') return { ...o, spec: { ...o.spec, vxlanMode: 'Always' } };
      if (o.kind === 'FelixConfiguration') return { ...o, spec: { ...o.spec, vxlanPort: 4790 } };
      return o;
    });
    expect(agentOf(objects).agent?.datapath?.overlay).toEqual({ kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 4790 });
    const env = agentOf(objects, { edit: (p) => setEnv(p, 'calico-node', 'FELIX_VXLANPORT', '4791') });
    expect(env.agent?.datapath?.overlay).toMatchObject({ mode: 'vxlan', port: 4791 });
  });
});

describe('networkProfile for Calico overlays', () => {
  const crossSubnet: Overlay = { kind: 'native', mode: 'vxlan-crosssubnet', binds: { protocol: 'udp', port: 4789 } };
  const bgp: Overlay = { kind: 'native', mode: 'bgp', control: { protocol: 'tcp', port: 179 } };
  const ciliumOn4789: Overlay = { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 4789 };

  it('CrossSubnet needs no port itself but its vxlan device takes udp/4789 from another network\'s tunnel', () => {
    const overlays = new Map<string, Overlay>([
      ['calico', crossSubnet],
      ['cilium', ciliumOn4789],
    ]);
    expect(networkProfile('n1', 'calico', overlays, [{ protocol: 'udp', port: 4789 }])).toEqual({ up: true, overlay: crossSubnet, conflictsWith: [], blocked: false });
    expect(networkProfile('n1', 'cilium', overlays, [])).toMatchObject({ up: true, conflictsWith: ['calico'], blocked: false });
    // Negative control: without the calico device the port is free.
    expect(networkProfile('n1', 'cilium', new Map([['cilium', ciliumOn4789]]), []).conflictsWith).toEqual([]);
  });

  it('BGP is blocked by a tcp/179 rule (on that node only, when the rule names nodes), not by udp/179', () => {
    const overlays = new Map([['calico', bgp]]);
    const rules = (r: FirewallRuleSettings[]) => networkProfile('n1', 'calico', overlays, r).blocked;
    expect(rules([{ protocol: 'tcp', port: 179 }])).toBe(true);
    expect(rules([{ protocol: 'udp', port: 179 }])).toBe(false);
    expect(rules([{ protocol: 'tcp', port: 179, nodes: ['n2'] }])).toBe(false);
    expect(rules([{ protocol: 'tcp', port: 179, nodes: ['n1'] }])).toBe(true);
  });
});

// The same datapaths on a running simulated cluster: calico-node from the stock fixture on three
// nodes, pods bound to nodes, the firewall changed through the live settings.

const PODS = [
  ['a', 'node-1'],
  ['b', 'node-2'],
  ['c', 'node-1'],
] as const;

function calicoScenario(source: string, extra = ''): string {
  const pods = PODS.map(([name, node]) => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: probe}\nspec:\n  nodeName: ${node}\n  containers: [{name: app, image: registry.example/probe:v1}]\n`).join('');
  return `apiVersion: sim.cni-migration.dev/v1alpha1
kind: Simulation
nodes: 3
nodeCIDR: 10.0.0.0/16
defaultCluster: false
include: [${join(SOURCES, source)}]
---
apiVersion: v1
kind: Namespace
metadata: {name: probe}
${pods}${extra}`;
}

/** An IPPool replacing the fixture's default-ipv4-ippool (as calico-node would have created it). */
function pool(ipipMode: string, vxlanMode: string): string {
  return `---\napiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: default-ipv4-ippool}\nspec: {cidr: 192.168.0.0/16, blockSize: 26, ipipMode: ${ipipMode}, vxlanMode: ${vxlanMode}, natOutgoing: true, nodeSelector: all()}\n`;
}

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function start(text: string): Promise<SimCluster> {
  cluster = await SimCluster.start({ scenarioText: text });
  await cluster.waitUntilSettled();
  return cluster;
}

const ipOf = (c: SimCluster, name: string) => c.store.get('pods', 'probe', name)!.status.podIP as string;
const reach = (c: SimCluster, from: string, to: string) => c.model.canReach('probe', from, ipOf(c, to));
const setFirewall = (c: SimCluster, blocked: FirewallRuleSettings[]) => c.settings.applyLive(c.baseSettings, { firewall: { blocked } });
const block26 = (ip: string) => (parseIp(ip)! & ~63) >>> 0;

describe('Calico on a simulated cluster', () => {
  it('IP-in-IP: pods on two nodes get addresses from different /26 blocks of 192.168.0.0/16 and reach each other', async () => {
    const c = await start(calicoScenario('calico-v3.31.yaml'));
    const range = parseCidr('192.168.0.0/16')!;
    for (const [name] of PODS) expect(cidrCovers(range, parseCidr(`${ipOf(c, name)}/32`)!), name).toBe(true);
    expect(block26(ipOf(c, 'a'))).toBe(block26(ipOf(c, 'c')));
    expect(block26(ipOf(c, 'a'))).not.toBe(block26(ipOf(c, 'b')));
    expect(c.model.podInterfaces('probe', 'a')).toEqual([{ name: 'eth0', network: 'calico', cniName: 'k8s-pod-network', ip: ipOf(c, 'a') }]);
    expect(reach(c, 'a', 'b')).toMatchObject({ ok: true, network: 'calico', reason: 'reachable' });
    expect(reach(c, 'b', 'a').ok).toBe(true);
    expect(c.model.nodeState('node-2')?.datapaths).toMatchObject([{ network: 'calico', overlay: { kind: 'tunnel', mode: 'ipip', protocol: 'ip', port: 4 } }]);
  });

  it('IP-in-IP cannot be blocked by a port: no "ip" protocol in firewall rules, and udp/tcp port 4 leave it alone', async () => {
    expect(SimulationSettingsSchema.safeParse({ firewall: { blocked: [{ protocol: 'ip', port: 4 }] } }).success).toBe(false);
    const c = await start(calicoScenario('calico-v3.31.yaml'));
    setFirewall(c, [
      { protocol: 'udp', port: 4 },
      { protocol: 'tcp', port: 4 },
      { protocol: 'udp', port: 4789 },
    ]);
    expect(reach(c, 'a', 'b')).toMatchObject({ ok: true, network: 'calico' });
  });

  it('IP-in-IP routes come from BIRD: blocking tcp/179 cuts cross-node pairs', async () => {
    const c = await start(calicoScenario('calico-v3.31.yaml'));
    setFirewall(c, [{ protocol: 'tcp', port: 179 }]);
    expect(reach(c, 'a', 'b')).toMatchObject({ ok: false, network: 'calico', reason: 'overlay-blocked-by-firewall' });
    expect(reach(c, 'a', 'c').ok).toBe(true);
  });

  it('BGP only (ipipMode and vxlanMode Never): tcp/179 blocked makes cross-node pairs unreachable, same-node pairs stay', async () => {
    const c = await start(calicoScenario('calico-v3.31.yaml', pool('Never', 'Never')));
    expect(c.model.nodeState('node-1')?.datapaths).toMatchObject([{ network: 'calico', overlay: { kind: 'native', mode: 'bgp', control: { protocol: 'tcp', port: 179 } }, source: 'IPPool (crd.projectcalico.org/v1)' }]);
    expect(reach(c, 'a', 'b').ok).toBe(true);
    await waitFor('ground truth clean', () => c.model.groundTruth.current().unreachableCount === 0);
    // Negative control: a UDP rule on the same port, or a rule on other nodes only, changes nothing.
    setFirewall(c, [{ protocol: 'udp', port: 179 }, { protocol: 'tcp', port: 179, nodes: ['node-3'] }]);
    expect(reach(c, 'a', 'b').ok).toBe(true);
    setFirewall(c, [{ protocol: 'tcp', port: 179 }]);
    expect(reach(c, 'a', 'b')).toMatchObject({ ok: false, network: 'calico', reason: 'overlay-blocked-by-firewall' });
    expect(reach(c, 'b', 'c')).toMatchObject({ ok: false, reason: 'overlay-blocked-by-firewall' });
    expect(reach(c, 'a', 'c')).toMatchObject({ ok: true, network: 'calico', reason: 'reachable' });
    expect(reach(c, 'c', 'a').ok).toBe(true);
    await waitFor('ground truth shows the cut', () => c.model.groundTruth.current().unreachableCount > 0);
    expect(c.model.groundTruth.violations().at(-1)?.added[0]).toMatchObject({ network: 'calico', reason: 'overlay-blocked-by-firewall' });
    setFirewall(c, []);
    expect(reach(c, 'a', 'b').ok).toBe(true);
  });

  it('VXLAN Always: blocking udp/4789 cuts cross-node traffic, same-node pairs stay', async () => {
    const c = await start(calicoScenario('calico-vxlan-v3.31.yaml', pool('Never', 'Always')));
    expect(c.model.nodeState('node-1')?.datapaths).toMatchObject([{ network: 'calico', overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 4789 } }]);
    expect(reach(c, 'a', 'b').ok).toBe(true);
    // calico-vxlan.yaml runs without BIRD: TCP 179 is not what carries its routes.
    setFirewall(c, [{ protocol: 'tcp', port: 179 }]);
    expect(reach(c, 'a', 'b').ok).toBe(true);
    setFirewall(c, [{ protocol: 'udp', port: 4789 }]);
    expect(reach(c, 'a', 'b')).toMatchObject({ ok: false, network: 'calico', reason: 'overlay-blocked-by-firewall' });
    expect(reach(c, 'a', 'c').ok).toBe(true);
  });

  it('VXLAN CrossSubnet (the stock calico-vxlan.yaml): native between the nodes, so udp/4789 blocked changes nothing', async () => {
    const c = await start(calicoScenario('calico-vxlan-v3.31.yaml'));
    setFirewall(c, [{ protocol: 'udp', port: 4789 }]);
    expect(reach(c, 'a', 'b')).toMatchObject({ ok: true, network: 'calico' });
    expect(block26(ipOf(c, 'a'))).not.toBe(block26(ipOf(c, 'b')));
  });
});
