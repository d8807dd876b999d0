import { describe, expect, it } from 'vitest';
import { ciliumSettingsOf } from '../../../cilium/ciliumSettings.js';
import { ConfigSchema } from '../../../config/configSchema.js';
import { seedCanalSource } from '../../../source/testing/sourceFixtures.js';
import type { SourceDescription } from '../../../source/sourceTypes.js';
import type { ClusterFacts } from '../../clusterFacts.js';
import type { StrategyContext } from '../../strategy.js';
import { dualOverlayPreflight, plannedCilium } from './dualOverlayPreflight.js';

const stockCanal = seedCanalSource({ confDir: { value: '/etc/cni/net.d', from: 't' }, confFile: { value: '10-canal.conflist', from: 't' } });
const calico = seedCanalSource({
  kind: 'calico',
  daemonSet: { namespace: 'kube-system', name: 'calico-node' },
  podCIDRs: { value: ['192.168.0.0/16'], from: 'IPPool default-ipv4-ippool' },
  overlay: { value: { type: 'ipip', crossSubnet: false }, from: 'IPPool default-ipv4-ippool' },
  ipAutodetection: { method: 'first-found', setting: 'env IP_AUTODETECTION_METHOD of container calico-node in DaemonSet kube-system/calico-node', picksCiliumHost: true },
});
const nodes: ClusterFacts['nodes'] = [
  { name: 'node-1', internalIP: '192.168.100.2' },
  { name: 'node-2', internalIP: '192.168.100.3' },
];

function ctx(raw: unknown, source: SourceDescription = stockCanal, facts: Partial<ClusterFacts> = {}): StrategyContext {
  return { config: ConfigSchema.parse(raw), source, bundles: {}, facts: { nodes, serviceCIDRs: { value: ['10.96.0.0/12'], from: 'ServiceCIDR kubernetes' }, ...facts } };
}
const verdicts = (c: StrategyContext) => Object.fromEntries(dualOverlayPreflight(c).map((x) => [x.name, x.verdict]));
const failing = (c: StrategyContext) => dualOverlayPreflight(c).filter((x) => x.verdict === 'fail');

describe('dual-overlay preflight', () => {
  it("passes the defaults on stock Canal: Cilium's own pool, VXLAN on 8473", () => {
    expect(plannedCilium(ctx({}))).toMatchObject({ pool: ['172.29.0.0/16'], tunnelProtocol: 'vxlan', tunnelPort: 8473, installed: false });
    expect(failing(ctx({}))).toEqual([]);
    expect(verdicts(ctx({}))).toEqual({ "Cilium's pool is a range of its own": 'pass', "Cilium's tunnel port differs from the source overlay's": 'pass' });
  });

  it("refuses Cilium's VXLAN on flannel's 8472, naming the setting, where the source's port was read and the fix", () => {
    const f = failing(ctx({ cilium: { tunnelProtocol: 'vxlan', tunnelPort: 8472 } }));
    expect(f).toHaveLength(1);
    expect(f[0]!.detail).toBe("cilium.tunnelPort: VXLAN on UDP 8472 is the canal overlay's port (VXLAN, UDP 8472, VNI 1, test fixture); the second device on one port fails to come up");
    expect(f[0]!.fix).toContain('VXLAN on 8473');
  });

  it('refuses a pool overlapping the pod CIDR, the Service CIDR, the kubernetes Service IP or node addresses', () => {
    expect(failing(ctx({ cilium: { podCIDR: '10.244.128.0/17' } }))[0]!.detail).toBe("cilium.podCIDR: 10.244.128.0/17 overlaps the canal pod CIDR 10.244.0.0/16 (test fixture)");
    expect(failing(ctx({ cilium: { podCIDR: '10.96.0.0/16' } }))[0]!.detail).toContain('overlaps the Service CIDR 10.96.0.0/12 (ServiceCIDR kubernetes)');
    expect(failing(ctx({ cilium: { podCIDR: '172.30.0.0/16' } }, stockCanal, { serviceCIDRs: undefined, kubernetesServiceIP: '172.30.0.1' }))[0]!.detail).toContain("holds the kubernetes Service's ClusterIP 172.30.0.1");
    expect(failing(ctx({ cilium: { podCIDR: '192.168.0.0/16' } }))[0]!.detail).toContain('holds node addresses (node-1 192.168.100.2, node-2 192.168.100.3)');
    // The default pool (Cilium's 10.0.0.0/8) of an installed chart overlaps flannel's 10.244/16.
    const installed = { namespace: 'kube-system', daemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' }, settings: ciliumSettingsOf({ 'custom-cni-conf': 'true', 'enable-policy': 'never', 'unmanaged-pod-watcher-interval': '0' }, 'ConfigMap kube-system/cilium-config'), config: {}, managedByHelm: true, installedByUs: false, nodeConfigApiVersion: 'cilium.io/v2' };
    expect(failing(ctx({}, stockCanal, { cilium: installed })).map((x) => x.detail)).toEqual([
      'cluster-pool-ipv4-cidr in ConfigMap kube-system/cilium-config (Helm: ipam.operator.clusterPoolIPv4PodCIDRList): 10.0.0.0/8 overlaps the canal pod CIDR 10.244.0.0/16 (test fixture); 10.0.0.0/8 overlaps the Service CIDR 10.96.0.0/12 (ServiceCIDR kubernetes)',
      "tunnel-port in ConfigMap kube-system/cilium-config (Helm: tunnelPort): VXLAN on UDP 8472 is the canal overlay's port (VXLAN, UDP 8472, VNI 1, test fixture); the second device on one port fails to come up",
    ]);
  });

  it('refuses an installed Cilium that is not latent, and a missing CiliumNodeConfig API', () => {
    const installed = (data: Record<string, string>, api: string | undefined) => ({
      namespace: 'kube-system',
      daemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' },
      settings: ciliumSettingsOf({ 'cluster-pool-ipv4-cidr': '10.245.0.0/16', 'tunnel-port': '8473', ...data }, 'ConfigMap kube-system/cilium-config'),
      config: data,
      managedByHelm: true,
      installedByUs: false,
      nodeConfigApiVersion: api,
    });
    const chartDefaults = { 'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist', 'custom-cni-conf': 'false', 'enable-policy': 'default', 'unmanaged-pod-watcher-interval': '15' };
    const f = failing(ctx({}, stockCanal, { cilium: installed(chartDefaults, 'cilium.io/v2') }));
    expect(f.map((x) => x.name)).toEqual(['the installed Cilium is latent']);
    expect(f[0]!.detail).toContain('write-cni-conf-when-ready is /host/etc/cni/net.d/05-cilium.conflist');
    expect(f[0]!.detail).toContain('enable-policy is default');
    expect(f[0]!.detail).toContain('unmanaged-pod-watcher-interval is 15');
    const latent = { 'custom-cni-conf': 'true', 'enable-policy': 'never', 'unmanaged-pod-watcher-interval': '0' };
    expect(failing(ctx({}, stockCanal, { cilium: installed(latent, 'cilium.io/v2alpha1') }))).toEqual([]);
    expect(failing(ctx({}, stockCanal, { cilium: installed(latent, undefined) })).map((x) => x.name)).toEqual(['CiliumNodeConfig API served']);
    // On a resumed run finalize may already have changed cilium-config: not judged again.
    expect(failing({ ...ctx({}, stockCanal, { cilium: installed(chartDefaults, 'cilium.io/v2') }), started: true })).toEqual([]);
  });

  it("refuses Calico's first-found autodetection unless the tool may fix it, and nodes already captured", () => {
    const f = failing(ctx({}, calico));
    expect(f.map((x) => x.name)).toEqual(["Calico's address autodetection leaves cilium_host alone"]);
    expect(f[0]!.detail).toBe('env IP_AUTODETECTION_METHOD of container calico-node in DaemonSet kube-system/calico-node is first-found: once Cilium creates cilium_host, calico-node takes its address within a minute and the node\'s Calico routes break (cilium#31273)');
    expect(f[0]!.fix).toContain('--fix-calico-autodetection');
    expect(failing(ctx({ cni: { fixCalicoAutodetection: true } }, calico))).toEqual([]);
    const captured = ctx({ cni: { fixCalicoAutodetection: true } }, calico, { nodes: [{ name: 'node-1', internalIP: '10.0.0.2', calicoAddress: '172.29.0.1/32' }] });
    expect(failing(captured)[0]!.detail).toBe("nodes whose Calico address is inside Cilium's pool: node-1 172.29.0.1/32");
  });
});
