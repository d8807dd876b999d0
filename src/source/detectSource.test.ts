import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, type MigrationConfig } from '../config/configSchema.js';
import type { DaemonSet, KubeObject, Node } from '../kube/kubeTypes.js';
import { parseManifestDocuments } from '../kube/manifestParser.js';
import { detectSource, networkNameOf, type SourceDetection, type SourceInventory } from './detectSource.js';
import { resolveSource, SourceDetectionError, SourceOverrideError } from './discoverSource.js';
import { templateSpecOf, type TemplateContainer } from './podTemplateReader.js';
import type { SourceDescription } from './sourceTypes.js';

// Source detection on the stock upstream installs of scenarios/sources (each file's header says
// what it reproduces and lists its key facts), and on edits of them that real clusters carry.

const SOURCES = join(import.meta.dirname, '..', '..', 'scenarios', 'sources');
const FILES = {
  canal: 'canal-v3.31.yaml',
  calico: 'calico-v3.31.yaml',
  calicoVxlan: 'calico-vxlan-v3.31.yaml',
  operator: 'calico-operator-v3.31.yaml',
  flannel: 'flannel-v0.28.yaml',
} as const;
type Fixture = keyof typeof FILES;

const parsed = new Map<Fixture, KubeObject[]>();
/** The objects of a fixture file (a fresh copy each call: tests edit them). */
function objectsOf(f: Fixture): KubeObject[] {
  if (!parsed.has(f)) {
    const path = join(SOURCES, FILES[f]);
    parsed.set(f, parseManifestDocuments(readFileSync(path, 'utf8'), path).map((d) => d.value as KubeObject));
  }
  return structuredClone(parsed.get(f)!);
}

function node(name: string, podCIDR?: string, annotations?: Record<string, string>): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, ...(annotations ? { annotations } : {}) }, spec: podCIDR ? { podCIDR } : {} };
}
/** Two nodes as kube-controller-manager --cluster-cidr=10.244.0.0/16 leaves them. */
const NODES = [node('node-1', '10.244.0.0/24'), node('node-2', '10.244.1.0/24')];

/**
 * An inventory as readSourceInventory builds it from a cluster holding these objects: a Calico kind
 * is listed (possibly empty) when its CRD is there, undefined when it is not served.
 */
function inventoryOf(objects: KubeObject[], nodes: Node[] = NODES): SourceInventory {
  const served = (crd: string) => objects.some((o) => o.kind === 'CustomResourceDefinition' && o.metadata.name === crd);
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    daemonSets: ofKind('DaemonSet'),
    configMaps: ofKind('ConfigMap'),
    installations: served('installations.operator.tigera.io') ? ofKind('Installation') : undefined,
    ipPools: served('ippools.crd.projectcalico.org') ? ofKind('IPPool') : undefined,
    felixConfigurations: served('felixconfigurations.crd.projectcalico.org') ? ofKind('FelixConfiguration') : undefined,
    nodes,
  };
}
const inv = (...fixtures: Fixture[]) => inventoryOf(fixtures.flatMap(objectsOf));

function ok(d: SourceDetection): SourceDescription {
  if (!d.ok) throw new Error(`expected a source, got ${d.problem}: ${d.message}`);
  return d.source;
}
function failure(d: SourceDetection): Extract<SourceDetection, { ok: false }> {
  if (d.ok) throw new Error(`expected no source, got ${d.source.kind} (DaemonSet ${d.source.daemonSet.namespace}/${d.source.daemonSet.name})`);
  return d;
}

/** A container of a DaemonSet of the inventory, as stored (edits stick). */
function containerOf(i: SourceInventory, ds: string, name: string): TemplateContainer {
  const spec = templateSpecOf(i.daemonSets.find((d) => d.metadata.name === ds)!);
  const c = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} in DaemonSet ${ds}`);
  return c;
}
/** Sets (or, with undefined, removes) an env var of a container. */
function setEnv(c: TemplateContainer, name: string, value: string | undefined): void {
  c.env = (c.env ?? []).filter((e) => e.name !== name);
  if (value !== undefined) c.env.push({ name, value });
}
function dataOf(i: SourceInventory, configMap: string): Record<string, string> {
  const cm = i.configMaps.find((c) => c.metadata.name === configMap);
  if (!cm) throw new Error(`no ConfigMap ${configMap}`);
  return cm.data as Record<string, string>;
}
function installationOf(i: SourceInventory): { spec: { calicoNetwork: Record<string, unknown> } } {
  return i.installations![0] as unknown as { spec: { calicoNetwork: Record<string, unknown> } };
}
/** The cni section of a configuration holding these settings, defaults filled in. */
function cniConfig(cni: Record<string, unknown>): MigrationConfig['cni'] {
  return ConfigSchema.parse({ cni }).cni;
}

const CALICO_CONF_DIR_FROM = 'hostPath of volume cni-net-dir mounted at /host/etc/cni/net.d in container install-cni';
const CALICO_NODE_SETTING = 'env IP_AUTODETECTION_METHOD of container calico-node in DaemonSet kube-system/calico-node';

describe('detectSource on the stock installs (scenarios/sources)', () => {
  it('Canal v3.31: flannel VXLAN from net-conf.json, Calico policy, 10-canal.conflist', () => {
    expect(ok(detectSource(inv('canal')))).toEqual({
      kind: 'canal',
      install: 'manifest',
      daemonSet: { namespace: 'kube-system', name: 'canal' },
      installation: undefined,
      confDir: { value: '/etc/cni/net.d', from: CALICO_CONF_DIR_FROM },
      confFile: { value: '10-canal.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      networkName: { value: 'k8s-pod-network', from: '"name" of the CNI config in ConfigMap canal-config key cni_network_config (env CNI_NETWORK_CONFIG of container install-cni)' },
      podCIDRs: { value: ['10.244.0.0/16'], from: '"Network" of net-conf.json in ConfigMap canal-config key net-conf.json' },
      overlay: { value: { type: 'vxlan', port: 8472, vni: 1, crossSubnet: false }, from: '"Backend" of net-conf.json in ConfigMap canal-config key net-conf.json' },
      // veth_mtu "0": automatic.
      mtu: undefined,
      // Canal's calico-node does no address autodetection (IP "", backend none).
      ipAutodetection: undefined,
      policyEnforcement: 'calico',
      warnings: [],
    });
  });

  it('Calico v3.31 manifest: IP-in-IP from the IPPool, first-found autodetection', () => {
    expect(ok(detectSource(inv('calico')))).toEqual({
      kind: 'calico',
      install: 'manifest',
      daemonSet: { namespace: 'kube-system', name: 'calico-node' },
      installation: undefined,
      confDir: { value: '/etc/cni/net.d', from: CALICO_CONF_DIR_FROM },
      confFile: { value: '10-calico.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      networkName: { value: 'k8s-pod-network', from: '"name" of the CNI config in ConfigMap calico-config key cni_network_config (env CNI_NETWORK_CONFIG of container install-cni)' },
      podCIDRs: { value: ['192.168.0.0/16'], from: 'enabled IPPools default-ipv4-ippool' },
      overlay: { value: { type: 'ipip', crossSubnet: false }, from: 'enabled IPPools default-ipv4-ippool' },
      mtu: undefined,
      ipAutodetection: { method: 'first-found', setting: CALICO_NODE_SETTING, picksCiliumHost: true },
      policyEnforcement: 'calico',
      warnings: [],
    });
  });

  it("Calico v3.31 VXLAN manifest: VXLAN CrossSubnet, port and VNI from Felix's defaults (FelixConfiguration sets neither)", () => {
    const s = ok(detectSource(inv('calicoVxlan')));
    expect(s).toMatchObject({ kind: 'calico', install: 'manifest', daemonSet: { namespace: 'kube-system', name: 'calico-node' }, policyEnforcement: 'calico', warnings: [] });
    expect([s.confDir.value, s.confFile.value, s.networkName.value]).toEqual(['/etc/cni/net.d', '10-calico.conflist', 'k8s-pod-network']);
    expect(s.podCIDRs).toEqual({ value: ['192.168.0.0/16'], from: 'enabled IPPools default-ipv4-ippool' });
    expect(s.overlay).toEqual({
      value: { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true },
      from: "vxlanMode CrossSubnet of enabled IPPools default-ipv4-ippool; port and VNI from Felix's defaults",
    });
    expect(s.mtu).toBeUndefined();
    expect(s.ipAutodetection).toEqual({ method: 'first-found', setting: CALICO_NODE_SETTING, picksCiliumHost: true });
  });

  it('Calico v3.31 by the Tigera operator: calico-system/calico-node rendered from Installation default, FelixConfiguration port/VNI', () => {
    expect(ok(detectSource(inv('operator')))).toEqual({
      kind: 'calico',
      install: 'operator',
      daemonSet: { namespace: 'calico-system', name: 'calico-node' },
      installation: { name: 'default' },
      confDir: { value: '/etc/cni/net.d', from: CALICO_CONF_DIR_FROM },
      confFile: { value: '10-calico.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      networkName: { value: 'k8s-pod-network', from: '"name" of the CNI config in ConfigMap cni-config key config (env CNI_NETWORK_CONFIG of container install-cni)' },
      podCIDRs: { value: ['192.168.0.0/16'], from: 'enabled IPPools default-ipv4-ippool' },
      overlay: { value: { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true }, from: 'vxlanMode CrossSubnet of enabled IPPools default-ipv4-ippool; port and VNI from FelixConfiguration default' },
      mtu: undefined,
      // The Installation sets no nodeAddressAutodetectionV4: the operator defaults it to firstFound.
      ipAutodetection: { method: 'first-found', setting: 'spec.calicoNetwork.nodeAddressAutodetectionV4 of Installation default', picksCiliumHost: true },
      policyEnforcement: 'calico',
      warnings: [],
    });
  });

  it('Flannel v0.28.9: install-conf copies cni-conf.json as 10-flannel.conflist ("cbr0"), VXLAN defaults, no policy engine', () => {
    expect(ok(detectSource(inv('flannel')))).toEqual({
      kind: 'flannel',
      install: 'manifest',
      daemonSet: { namespace: 'kube-flannel', name: 'kube-flannel-ds' },
      installation: undefined,
      confDir: { value: '/etc/cni/net.d', from: 'hostPath of volume cni, where container install-cni copies 10-flannel.conflist' },
      confFile: { value: '10-flannel.conflist', from: 'cp destination of container install-cni' },
      networkName: { value: 'cbr0', from: '"name" in ConfigMap kube-flannel-cfg key cni-conf.json' },
      podCIDRs: { value: ['10.244.0.0/16'], from: '"Network" of net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json' },
      overlay: { value: { type: 'vxlan', port: 8472, vni: 1, crossSubnet: false }, from: '"Backend" of net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json' },
      mtu: undefined,
      ipAutodetection: undefined,
      policyEnforcement: 'none',
      warnings: [],
    });
  });

  it('Flannel v0.28.0-v0.28.5 (`cp -f` instead of install-conf) reads the same', () => {
    const i = inv('flannel');
    const c = containerOf(i, 'kube-flannel-ds', 'install-cni');
    c.command = ['cp'];
    c.args = ['-f', '/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/10-flannel.conflist'];
    const s = ok(detectSource(i));
    expect([s.confDir.value, s.confFile.value, s.networkName.value]).toEqual(['/etc/cni/net.d', '10-flannel.conflist', 'cbr0']);
  });

  it('warns about a node whose spec.podCIDR lies outside the flannel network', () => {
    const s = ok(detectSource(inventoryOf(objectsOf('flannel'), [node('node-1', '10.244.0.0/24'), node('node-2', '10.96.4.0/24')])));
    expect(s.warnings).toEqual(["node node-2 has spec.podCIDR 10.96.4.0/24, outside flannel's network 10.244.0.0/16"]);
  });
});

describe('negative controls: the facts are read from the objects, not assumed', () => {
  it("Canal's CNI_CONF_NAME decides confFile; without it Calico's default is reported as a default", () => {
    const i = inv('canal');
    setEnv(containerOf(i, 'canal', 'install-cni'), 'CNI_CONF_NAME', '05-canal.conflist');
    expect(ok(detectSource(i)).confFile).toEqual({ value: '05-canal.conflist', from: 'env CNI_CONF_NAME of container install-cni' });
    setEnv(containerOf(i, 'canal', 'install-cni'), 'CNI_CONF_NAME', undefined);
    expect(ok(detectSource(i)).confFile).toEqual({ value: '10-calico.conflist', from: "Calico's default (container install-cni sets no CNI_CONF_NAME)" });
  });

  it('the hostPath of the volume behind /host/etc/cni/net.d decides confDir', () => {
    const i = inv('calico');
    const vol = templateSpecOf(i.daemonSets[0]!).volumes!.find((v) => v.name === 'cni-net-dir')!;
    vol.hostPath = { path: '/etc/kubernetes/cni/net.d/' };
    expect(ok(detectSource(i)).confDir.value).toBe('/etc/kubernetes/cni/net.d');
  });

  it('the "name" of the CNI config template decides networkName; net-conf.json decides the pod CIDR', () => {
    const i = inv('canal');
    const data = dataOf(i, 'canal-config');
    data.cni_network_config = data.cni_network_config!.replace('"k8s-pod-network"', '"canal-net"');
    data['net-conf.json'] = data['net-conf.json']!.replace('10.244.0.0/16', '10.42.0.0/16');
    const s = ok(detectSource({ ...i, nodes: [node('node-1', '10.42.0.0/24')] }));
    expect(s.networkName.value).toBe('canal-net');
    expect(s.podCIDRs.value).toEqual(['10.42.0.0/16']);
  });

  it("the flannel installer's destination decides confFile", () => {
    const i = inv('flannel');
    containerOf(i, 'kube-flannel-ds', 'install-cni').args = ['/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/05-flannel.conflist'];
    expect(ok(detectSource(i)).confFile.value).toBe('05-flannel.conflist');
  });

  it("the operator's FelixConfiguration decides the VXLAN port and VNI", () => {
    const i = inv('operator');
    Object.assign(i.felixConfigurations![0]!.spec as object, { vxlanPort: 4790, vxlanVNI: 7 });
    expect(ok(detectSource(i)).overlay.value).toEqual({ type: 'vxlan', port: 4790, vni: 7, crossSubnet: true });
  });

  it("the enabled IPPools decide pod CIDRs and encapsulation (a disabled one is left out), not calico-node's env", () => {
    const i = inv('calico');
    i.ipPools!.push({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'old-pool' }, spec: { cidr: '10.99.0.0/16', ipipMode: 'Always', disabled: true } });
    i.ipPools!.push({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'extra' }, spec: { cidr: '10.50.0.0/16', ipipMode: 'Never', vxlanMode: 'Never' } });
    (i.ipPools![0]!.spec as Record<string, unknown>).ipipMode = 'CrossSubnet';
    const s = ok(detectSource(i));
    expect(s.podCIDRs).toEqual({ value: ['192.168.0.0/16', '10.50.0.0/16'], from: 'enabled IPPools default-ipv4-ippool, extra' });
    expect(s.overlay.value).toEqual({ type: 'ipip', crossSubnet: true });
  });
});

describe('no source, several sources, embedded flannel', () => {
  const plainDaemonSet = (namespace: string, name: string, image: string): DaemonSet => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { namespace, name },
    spec: { template: { spec: { containers: [{ name, image }] } } },
  });

  it('no CNI at all: the message says what was looked for and lists the DaemonSets seen', () => {
    const d = failure(detectSource({ daemonSets: [plainDaemonSet('kube-system', 'kube-proxy', 'registry.k8s.io/kube-proxy:v1.33.0'), plainDaemonSet('monitoring', 'node-exporter', 'quay.io/prometheus/node-exporter:v1.9.0')], configMaps: [], nodes: NODES }));
    expect(d).toEqual({
      ok: false,
      problem: 'none',
      message: 'no source CNI found: looked for a DaemonSet running calico-node (Canal, Calico) or flanneld (Flannel) in every namespace; the cluster has DaemonSets kube-system/kube-proxy, monitoring/node-exporter',
      candidates: [],
    });
    expect(failure(detectSource({ daemonSets: [], configMaps: [], nodes: NODES })).message).toBe(
      'no source CNI found: looked for a DaemonSet running calico-node (Canal, Calico) or flanneld (Flannel) in every namespace; the cluster has no DaemonSets',
    );
  });

  it('lists at most 8 DaemonSets', () => {
    const many = Array.from({ length: 10 }, (_, n) => plainDaemonSet('ops', `agent-${n}`, 'busybox'));
    expect(failure(detectSource({ daemonSets: many, configMaps: [], nodes: NODES })).message).toMatch(/the cluster has DaemonSets ops\/agent-0, .*, ops\/agent-7, …$/);
  });

  it('Canal and Flannel together: "several", both named, and how to pick one', () => {
    const d = failure(detectSource(inv('canal', 'flannel')));
    expect(d).toEqual({
      ok: false,
      problem: 'several',
      message:
        'found more than one source CNI: canal (DaemonSet kube-system/canal), flannel (DaemonSet kube-flannel/kube-flannel-ds); a cluster being migrated must run exactly one. Remove the stale one, or name the one in use with cni.daemonSet (namespace/name) in the config',
      candidates: ['canal (DaemonSet kube-system/canal)', 'flannel (DaemonSet kube-flannel/kube-flannel-ds)'],
    });
  });

  it('k3s/RKE2 embedded flannel (no DaemonSet, annotated nodes) is named as unsupported', () => {
    const k3s = (name: string) =>
      node(name, '10.42.0.0/24', {
        'flannel.alpha.coreos.com/backend-type': 'vxlan',
        'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"a6:1b:2c:3d:4e:5f"}',
        'flannel.alpha.coreos.com/public-ip': '10.0.0.11',
        'k3s.io/node-args': '["server"]',
      });
    const d = failure(detectSource({ daemonSets: [plainDaemonSet('kube-system', 'svclb-traefik', 'rancher/klipper-lb:v0.4.13')], configMaps: [], nodes: [k3s('k3s-server'), k3s('k3s-agent-1')] }));
    expect(d.problem).toBe('none');
    expect(d.message).toBe(
      'no source CNI DaemonSet found, but 2 node(s) carry flannel annotations (e.g. k3s-server): flannel embedded in the node agent (k3s, RKE2) is not supported; looked for a DaemonSet running calico-node (Canal, Calico) or flanneld (Flannel) in every namespace',
    );
  });

  it("the flannel-cni-plugin init container alone (`cp -f /flannel ...`) is no flanneld", () => {
    const i = inv('flannel');
    const spec = templateSpecOf(i.daemonSets[0]!);
    spec.containers = [];
    spec.initContainers = spec.initContainers!.filter((c) => c.name === 'install-cni-plugin');
    expect(failure(detectSource(i)).problem).toBe('none');
  });
});

describe('Calico without readable IPPools: calico-node environment', () => {
  const WARNING = "no Calico IPPool could be read; the pod CIDR 192.168.0.0/16 and encapsulation come from calico-node's environment";

  it('falls back to the default pool and CALICO_IPV4POOL_IPIP, with a warning (kind not served, or no pool yet)', () => {
    for (const ipPools of [undefined, []]) {
      const i = { ...inv('calico'), ipPools };
      const s = ok(detectSource(i));
      expect(s.podCIDRs).toEqual({ value: ['192.168.0.0/16'], from: "Calico's default pool (no IPPool readable, container calico-node sets no CALICO_IPV4POOL_CIDR)" });
      expect(s.overlay.value).toEqual({ type: 'ipip', crossSubnet: false });
      expect(s.warnings).toEqual([WARNING]);
    }
  });

  it('reads CALICO_IPV4POOL_CIDR and CALICO_IPV4POOL_VXLAN when set', () => {
    const i = { ...inv('calicoVxlan'), ipPools: undefined };
    setEnv(containerOf(i, 'calico-node', 'calico-node'), 'CALICO_IPV4POOL_CIDR', '10.48.0.0/16');
    const s = ok(detectSource(i));
    expect(s.podCIDRs).toEqual({ value: ['10.48.0.0/16'], from: 'env CALICO_IPV4POOL_CIDR of container calico-node' });
    expect(s.overlay).toEqual({ value: { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true }, from: "vxlanMode CrossSubnet of env CALICO_IPV4POOL_CIDR of container calico-node; port and VNI from Felix's defaults" });
    expect(s.warnings).toEqual(["no Calico IPPool could be read; the pod CIDR 10.48.0.0/16 and encapsulation come from calico-node's environment"]);
  });

  it('reads the pool modes as calico-node does: any case, "off"/"cross-subnet", unset = Never', () => {
    const cases: [string | undefined, string | undefined, SourceDescription['overlay']['value']][] = [
      [undefined, undefined, { type: 'bgp' }],
      ['off', undefined, { type: 'bgp' }],
      ['never', 'NEVER', { type: 'bgp' }],
      ['always', undefined, { type: 'ipip', crossSubnet: false }],
      ['cross-subnet', undefined, { type: 'ipip', crossSubnet: true }],
      ['Never', 'crosssubnet', { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true }],
      ['Never', 'Always', { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: false }],
    ];
    for (const [ipip, vxlan, overlay] of cases) {
      const i = { ...inv('calico'), ipPools: undefined };
      const c = containerOf(i, 'calico-node', 'calico-node');
      setEnv(c, 'CALICO_IPV4POOL_IPIP', ipip);
      setEnv(c, 'CALICO_IPV4POOL_VXLAN', vxlan);
      expect(ok(detectSource(i)).overlay.value, `IPIP ${ipip} VXLAN ${vxlan}`).toEqual(overlay);
    }
  });

  it('operator install without IPPools: the Installation pools, no warning', () => {
    const i = { ...inv('operator'), ipPools: [] };
    const s = ok(detectSource(i));
    expect(s.podCIDRs).toEqual({ value: ['192.168.0.0/16'], from: 'spec.calicoNetwork.ipPools of Installation default' });
    expect(s.overlay.value).toEqual({ type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true });
    expect(s.warnings).toEqual([]);
    (installationOf(i).spec.calicoNetwork.ipPools as { encapsulation: string }[])[0]!.encapsulation = 'None';
    expect(ok(detectSource(i)).overlay.value).toEqual({ type: 'bgp' });
  });

  it("the Installation's calicoNetwork.mtu is the MTU", () => {
    const i = inv('operator');
    installationOf(i).spec.calicoNetwork.mtu = 1450;
    expect(ok(detectSource(i)).mtu).toEqual({ value: 1450, from: 'spec.calicoNetwork.mtu of Installation default' });
  });

  it("a manifest install's CNI_MTU (veth_mtu) is the MTU when not 0", () => {
    const i = inv('calico');
    dataOf(i, 'calico-config').veth_mtu = '1440';
    expect(ok(detectSource(i)).mtu).toEqual({ value: 1440, from: 'ConfigMap calico-config key veth_mtu (env CNI_MTU of container install-cni)' });
  });
});

describe("flannel's net-conf.json", () => {
  const withNetConf = (netConf: object, f: Fixture = 'flannel') => {
    const i = inv(f);
    dataOf(i, f === 'flannel' ? 'kube-flannel-cfg' : 'canal-config')['net-conf.json'] = JSON.stringify(netConf);
    return detectSource(i);
  };

  it('a custom VXLAN Port, VNI and MTU', () => {
    const s = ok(withNetConf({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan', Port: 4790, VNI: 42, MTU: 1400 } }));
    expect(s.overlay.value).toEqual({ type: 'vxlan', port: 4790, vni: 42, crossSubnet: false });
    expect(s.mtu).toEqual({ value: 1400, from: '"Backend.MTU" of net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json' });
  });

  it('host-gw, and a backend the migration does not know', () => {
    expect(ok(withNetConf({ Network: '10.244.0.0/16', Backend: { Type: 'host-gw' } })).overlay.value).toEqual({ type: 'host-gw' });
    expect(ok(withNetConf({ Network: '10.244.0.0/16', Backend: { Type: 'WireGuard' } }, 'canal')).overlay.value).toEqual({ type: 'other', backend: 'wireguard' });
  });

  it('no Backend means flannel\'s default, VXLAN', () => {
    expect(ok(withNetConf({ Network: '10.244.0.0/16' })).overlay.value).toEqual({ type: 'vxlan', port: 8472, vni: 1, crossSubnet: false });
  });

  it('--net-config-path is honoured', () => {
    const i = inv('flannel');
    dataOf(i, 'kube-flannel-cfg')['custom.json'] = JSON.stringify({ Network: '10.50.0.0/16', Backend: { Type: 'host-gw' } });
    containerOf(i, 'kube-flannel-ds', 'kube-flannel').args!.push('--net-config-path=/etc/kube-flannel/custom.json');
    const s = ok(detectSource({ ...i, nodes: [] }));
    expect(s.podCIDRs).toEqual({ value: ['10.50.0.0/16'], from: '"Network" of net-conf.json in ConfigMap kube-flannel-cfg key custom.json' });
  });

  it('a Network that is not an IPv4 CIDR, or not JSON, is unreadable with where it was read', () => {
    const bad = failure(withNetConf({ Network: 'fd00::/64' }));
    expect(bad).toEqual({
      ok: false,
      problem: 'unreadable',
      message: 'net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json: "Network" is not an IPv4 CIDR',
      candidates: ['flannel (DaemonSet kube-flannel/kube-flannel-ds)'],
    });
    const i = inv('flannel');
    dataOf(i, 'kube-flannel-cfg')['net-conf.json'] = '{ "Network": ';
    expect(failure(detectSource(i)).message).toMatch(/^net-conf\.json in ConfigMap kube-flannel-cfg key net-conf\.json: not JSON \(/);
  });
});

describe('Calico IP autodetection and cilium_host (cilium#31273)', () => {
  const withMethod = (method: string | undefined, ip = 'autodetect') => {
    const i = inv('calico');
    const c = containerOf(i, 'calico-node', 'calico-node');
    setEnv(c, 'IP', ip);
    setEnv(c, 'IP_AUTODETECTION_METHOD', method);
    return ok(detectSource(i)).ipAutodetection;
  };

  it.each([
    ['first-found', 'first-found', true],
    ['', 'first-found', true],
    ['kubernetes-internal-ip', 'kubernetes-internal-ip', false],
    ['interface=eth.*', 'interface=eth.*', false],
    ['interface=.*', 'interface=.*', true],
    ['interface=eth0,cilium_.*', 'interface=eth0,cilium_.*', true],
    // calico-node splits the list on /\s*,\s*/
    ['interface=eth0, cilium_host', 'interface=eth0, cilium_host', true],
    ['skip-interface=cilium_.*', 'skip-interface=cilium_.*', false],
    ['skip-interface=eth1', 'skip-interface=eth1', true],
    ['skip-interface=eth1, cilium.*', 'skip-interface=eth1, cilium.*', false],
    ['can-reach=8.8.8.8', 'can-reach=8.8.8.8', false],
    ['cidr=10.0.0.0/16', 'cidr=10.0.0.0/16', false],
  ])('IP_AUTODETECTION_METHOD=%s → %s, picks cilium_host: %s', (env, method, picks) => {
    expect(withMethod(env)).toEqual({ method, setting: CALICO_NODE_SETTING, picksCiliumHost: picks });
  });

  it('a literal IP does no autodetection', () => {
    expect(withMethod('first-found', '10.0.0.5')).toEqual({ method: 'literal', setting: CALICO_NODE_SETTING, picksCiliumHost: false });
    // "" and "autodetect" both autodetect.
    expect(withMethod('first-found', '')?.picksCiliumHost).toBe(true);
  });

  it('the method may come from a ConfigMap', () => {
    const i = inv('calico');
    const c = containerOf(i, 'calico-node', 'calico-node');
    setEnv(c, 'IP_AUTODETECTION_METHOD', undefined);
    c.env!.push({ name: 'IP_AUTODETECTION_METHOD', valueFrom: { configMapKeyRef: { name: 'calico-config', key: 'ip_autodetection' } } });
    dataOf(i, 'calico-config').ip_autodetection = 'skip-interface=cilium_host';
    expect(ok(detectSource(i)).ipAutodetection).toEqual({ method: 'skip-interface=cilium_host', setting: CALICO_NODE_SETTING, picksCiliumHost: false });
  });

  it("operator: the Installation's nodeAddressAutodetectionV4, not calico-node's rendered env", () => {
    const setting = 'spec.calicoNetwork.nodeAddressAutodetectionV4 of Installation default';
    const cases: [Record<string, unknown>, string, boolean][] = [
      [{ kubernetes: 'NodeInternalIP' }, 'kubernetes: "NodeInternalIP"', false],
      [{ firstFound: true }, 'first-found', true],
      [{ interface: 'ens.*' }, 'interface: ens.*', false],
      [{ interface: 'cilium.*' }, 'interface: cilium.*', true],
      [{ skipInterface: 'cilium_.*' }, 'skipInterface: cilium_.*', false],
      [{ skipInterface: 'docker.*' }, 'skipInterface: docker.*', true],
      [{ canReach: '8.8.8.8' }, 'canReach: "8.8.8.8"', false],
      [{ cidrs: ['10.0.0.0/16'] }, 'cidrs: ["10.0.0.0/16"]', false],
    ];
    for (const [a, method, picks] of cases) {
      const i = inv('operator');
      installationOf(i).spec.calicoNetwork.nodeAddressAutodetectionV4 = a;
      // The rendered DaemonSet still says first-found: the Installation is what the operator reconciles to.
      expect(ok(detectSource(i)).ipAutodetection, JSON.stringify(a)).toEqual({ method, setting, picksCiliumHost: picks });
    }
  });
});

describe('unreadable sources say which setting to give', () => {
  it('a Calico installer writing into a non-hostPath volume', () => {
    const i = inv('calico');
    const vol = templateSpecOf(i.daemonSets[0]!).volumes!.find((v) => v.name === 'cni-net-dir')!;
    delete vol.hostPath;
    vol.emptyDir = {};
    expect(failure(detectSource(i))).toEqual({
      ok: false,
      problem: 'unreadable',
      message: 'DaemonSet kube-system/calico-node: container install-cni writes into /host/etc/cni/net.d, which is not a hostPath mount; set cni.confDir',
      candidates: ['calico (DaemonSet kube-system/calico-node)'],
    });
  });

  it('a CNI_NETWORK_CONFIG whose ConfigMap key is missing', () => {
    const i = inv('canal');
    delete dataOf(i, 'canal-config').cni_network_config;
    expect(failure(detectSource(i)).message).toBe('DaemonSet kube-system/canal: cannot read the CNI network name from CNI_NETWORK_CONFIG of container install-cni; set cni.networkName');
  });

  it("networkNameOf reads Calico's templates with unquoted placeholders", () => {
    expect(networkNameOf('{"name": "k8s-pod-network", "plugins": [{"mtu": __CNI_MTU__, "nodename": "__KUBERNETES_NODE_NAME__"}]}')).toBe('k8s-pod-network');
    expect(networkNameOf('{"plugins": []}')).toBeUndefined();
    expect(networkNameOf('not json')).toBeUndefined();
  });
});

describe('resolveSource: the cni.* settings', () => {
  it('a cni.confDir that disagrees wins, with a warning naming both values and where the discovered one came from', () => {
    const s = resolveSource(inv('canal'), cniConfig({ confDir: '/etc/kubernetes/cni/net.d/' }));
    expect(s.confDir).toEqual({ value: '/etc/kubernetes/cni/net.d', from: 'cni.confDir in the configuration' });
    expect(s.warnings).toEqual([`cni.confDir "/etc/kubernetes/cni/net.d" overrides what the cluster says: "/etc/cni/net.d" (${CALICO_CONF_DIR_FROM})`]);
  });

  it('settings that agree produce no warning', () => {
    const s = resolveSource(inv('canal'), cniConfig({ confDir: '/etc/cni/net.d', confFile: '10-canal.conflist', networkName: 'k8s-pod-network', podCIDR: '10.244.3.0/16' }));
    expect(s.warnings).toEqual([]);
    expect(s.confDir).toEqual({ value: '/etc/cni/net.d', from: 'cni.confDir in the configuration' });
    expect(s.podCIDRs).toEqual({ value: ['10.244.0.0/16'], from: 'cni.podCIDR in the configuration' });
  });

  it('no settings: the detected description, unchanged', () => {
    expect(resolveSource(inv('flannel'), cniConfig({}))).toEqual(ok(detectSource(inv('flannel'))));
  });

  it('each disagreeing setting warns', () => {
    const s = resolveSource(inv('flannel'), cniConfig({ confFile: '10-flannel.conf', networkName: 'flannel', podCIDR: '10.42.0.0/16' }));
    expect(s.warnings).toEqual([
      'cni.confFile "10-flannel.conf" overrides what the cluster says: "10-flannel.conflist" (cp destination of container install-cni)',
      'cni.networkName "flannel" overrides what the cluster says: "cbr0" ("name" in ConfigMap kube-flannel-cfg key cni-conf.json)',
      'cni.podCIDR ["10.42.0.0/16"] overrides what the cluster says: ["10.244.0.0/16"] ("Network" of net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json)',
    ]);
  });

  it('a bad confDir, confFile or podCIDR is a SourceOverrideError naming the key', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ confDir: 'not absolute' }, 'cni.confDir', 'cni.confDir in the configuration: "not absolute" must be an absolute path of letters, digits and . _ - /'],
      [{ confDir: '/etc/cni/net.d; rm -rf /' }, 'cni.confDir', 'cni.confDir in the configuration: "/etc/cni/net.d; rm -rf /" must be an absolute path of letters, digits and . _ - /'],
      [{ confFile: '../10-canal.conflist' }, 'cni.confFile', 'cni.confFile in the configuration: "../10-canal.conflist" must be a file name ending .conf, .conflist or .json'],
      [{ confFile: '10-canal.yaml' }, 'cni.confFile', 'cni.confFile in the configuration: "10-canal.yaml" must be a file name ending .conf, .conflist or .json'],
      [{ podCIDR: '10.244.0.0' }, 'cni.podCIDR', 'cni.podCIDR in the configuration: "10.244.0.0" is not an IPv4 CIDR such as 10.244.0.0/16'],
    ];
    for (const [cni, keyPath, message] of cases) {
      const e = (() => {
        try {
          resolveSource(inv('canal'), cniConfig(cni));
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, JSON.stringify(cni)).toBeInstanceOf(SourceOverrideError);
      expect((e as SourceOverrideError).keyPath).toBe(keyPath);
      expect((e as SourceOverrideError).message).toBe(message);
    }
  });

  it('cni.daemonSet picks one of two sources (and canalDaemonSet, its older name, one in kube-system)', () => {
    const both = inv('canal', 'flannel');
    expect(() => resolveSource(both, cniConfig({}))).toThrow(/^found more than one source CNI/);
    const f = resolveSource(both, cniConfig({ daemonSet: 'kube-flannel/kube-flannel-ds' }));
    expect([f.kind, f.daemonSet, f.networkName.value, f.warnings]).toEqual(['flannel', { namespace: 'kube-flannel', name: 'kube-flannel-ds' }, 'cbr0', []]);
    const c = resolveSource(both, cniConfig({ daemonSet: 'kube-system/canal' }));
    expect([c.kind, c.confFile.value]).toEqual(['canal', '10-canal.conflist']);
    expect(resolveSource(both, cniConfig({ canalDaemonSet: 'canal' })).kind).toBe('canal');
  });

  it('cni.daemonSet naming a DaemonSet that does not exist, or one that runs no CNI', () => {
    const err = (cni: Record<string, unknown>) => {
      try {
        resolveSource(inv('canal'), cniConfig(cni));
      } catch (e) {
        return e as SourceDetectionError;
      }
      throw new Error('resolveSource did not throw');
    };
    const missing = err({ daemonSet: 'kube-system/calico-node' });
    expect(missing).toBeInstanceOf(SourceDetectionError);
    expect([missing.problem, missing.message, missing.candidates]).toEqual(['none', 'DaemonSet kube-system/calico-node (cni.daemonSet) does not exist', []]);
    const i = inv('canal');
    i.daemonSets.push({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { namespace: 'kube-system', name: 'kube-proxy' }, spec: { template: { spec: { containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.33.0' }] } } } });
    expect(() => resolveSource(i, cniConfig({ daemonSet: 'kube-system/kube-proxy' }))).toThrow(
      'DaemonSet kube-system/kube-proxy (cni.daemonSet) runs neither calico-node nor flanneld; if it is the source CNI, say which with cni.kind (canal, calico or flannel)',
    );
  });

  /** The stock install with its agent images rebuilt in-house under other names (flanneld renamed too). */
  function unfamiliar(f: Fixture): SourceInventory {
    const i = inv(f);
    for (const c of templateSpecOf(i.daemonSets[0]!).containers!) {
      c.image = `registry.example/acme/${c.name}-fips:1.0`;
      c.name = `acme-${c.name}`;
      if (c.command) c.command = c.command.map((a) => a.replace('flanneld', 'netd'));
    }
    return i;
  }

  it('cni.kind with cni.daemonSet reads an agent whose images detection does not know', () => {
    for (const [f, daemonSet, kind] of [
      ['calico', 'kube-system/calico-node', 'calico'],
      ['canal', 'kube-system/canal', 'canal'],
      ['flannel', 'kube-flannel/kube-flannel-ds', 'flannel'],
    ] as const) {
      const i = unfamiliar(f);
      expect(failure(detectSource(i)).problem, f).toBe('none');
      const s = resolveSource(i, cniConfig({ daemonSet, kind }));
      const stock = ok(detectSource(inv(f)));
      expect({ ...s, ipAutodetection: undefined }, f).toEqual({ ...stock, ipAutodetection: undefined });
      if (kind === 'calico') expect(s.ipAutodetection).toEqual({ ...stock.ipAutodetection, setting: 'env IP_AUTODETECTION_METHOD of container acme-calico-node in DaemonSet kube-system/calico-node' });
    }
  });

  it('cni.kind that the DaemonSet cannot be is unreadable, naming the DaemonSet', () => {
    expect(() => resolveSource(unfamiliar('flannel'), cniConfig({ daemonSet: 'kube-flannel/kube-flannel-ds', kind: 'canal' }))).toThrow(
      "DaemonSet kube-flannel/kube-flannel-ds (cni.kind canal): no container to read calico-node's settings from",
    );
    expect(() => resolveSource(inv('calico'), cniConfig({ kind: 'flannel' }))).toThrow(
      'DaemonSet kube-system/calico-node (cni.kind flannel): no container runs flanneld or reads its net-conf.json from a ConfigMap',
    );
  });
});
