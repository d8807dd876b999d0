import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigSchema, type MigrationConfig } from '../config/configSchema.js';
import { ConfigError } from '../config/loadConfig.js';
import { ManifestError, parseManifestDocuments } from '../kube/manifestParser.js';
import { seedCanalSource } from '../source/testing/sourceFixtures.js';
import {
  bundledManifestPath,
  fillPlaceholders,
  isLabelKey,
  loadMigrationManifests,
  loadUserManifests,
  placeholdersIn,
  renderBundledManifests,
  type ManifestObject,
} from './renderManifests.js';

const config = (raw: unknown = {}): MigrationConfig => ConfigSchema.parse(raw);
/** The seed's Canal, or (for CUSTOM) one whose kubelets read the CRI default directory. */
const SEED = seedCanalSource();
const CRI_DEFAULT = seedCanalSource({ confDir: { value: '/etc/cni/net.d', from: 'test' } });
const sourceFor = (raw: unknown) => (raw === CUSTOM ? CRI_DEFAULT : SEED);
const render = (c: MigrationConfig, raw: unknown = {}) => renderBundledManifests(c, sourceFor(raw));

const CUSTOM = {
  labels: {
    'canal-cilium': 'example.com/canal-cilium',
    'cni-priority-canal': 'example.com/prio-canal',
    'cni-priority-cilium': 'example.com/prio-cilium',
    rolled: 'example.com/rolled',
    cilium: 'example.com/cilium',
    migrated: 'example.com/migrated',
    value: 'yes',
  },
  images: { registryMirror: 'mirror.local:5000/proxy' },
  cilium: { podCIDR: '10.50.0.0/16' },
};

const find = (objects: ManifestObject[], kind: string, name: string): any => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind} ${name} not rendered`);
  return o;
};
const podSpec = (objects: ManifestObject[], name: string): any => find(objects, 'DaemonSet', name).spec.template.spec;
const allContainers = (objects: ManifestObject[]): any[] =>
  objects.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment').flatMap((o: any) => [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers]);
const multusData = (objects: ManifestObject[]): Record<string, string> => find(objects, 'ConfigMap', 'multus-cni-config').data;

describe('renderBundledManifests', () => {
  it('finds the templates from the package root', () => {
    expect(existsSync(bundledManifestPath('cilium'))).toBe(true);
    expect(existsSync(bundledManifestPath('multus'))).toBe(true);
  });

  it("renders the seed's topology with every placeholder filled", () => {
    const { cilium, multus } = render(config(), {});
    expect(placeholdersIn([...cilium, ...multus])).toEqual([]);
    expect(cilium.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining(['ConfigMap/cilium-config', 'DaemonSet/cilium', 'DaemonSet/cilium-migrated', 'Deployment/cilium-operator', 'ClusterRole/cilium', 'ClusterRole/cilium-operator']),
    );
    expect(multus.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining(['CustomResourceDefinition/network-attachment-definitions.k8s.cni.cncf.io', 'DaemonSet/kube-multus-canal', 'DaemonSet/kube-multus-cilium', 'ClusterRole/multus']),
    );
    for (const o of [...cilium, ...multus]) {
      if (o.kind.startsWith('ClusterRole')) expect(o.apiVersion).toBe('rbac.authorization.k8s.io/v1');
      if (o.kind === 'CustomResourceDefinition') expect(o.apiVersion).toBe('apiextensions.k8s.io/v1');
    }
  });

  it('configures Cilium for the migration: GENEVE, its own pool, never exclusive', () => {
    const data = find(render(config(), {}).cilium, 'ConfigMap', 'cilium-config').data;
    expect(data).toMatchObject({
      'routing-mode': 'tunnel',
      'tunnel-protocol': 'geneve',
      'tunnel-port': '6081',
      ipam: 'cluster-pool',
      'cluster-pool-ipv4-cidr': '172.29.0.0/16',
      'cluster-pool-ipv4-mask-size': '24',
      'cni-exclusive': 'false',
      'cni-uninstall': 'false',
      'kube-proxy-replacement': 'false',
      'unmanaged-pod-watcher-interval': '0',
    });
    expect(Object.values(data).every((v) => typeof v === 'string')).toBe(true);
  });

  it('makes the first Cilium write 99-cilium.conflist and cilium-migrated 00-cilium.conflist', () => {
    const { cilium } = render(config(), {});
    const args = (name: string) => podSpec(cilium, name).containers[0].args as string[];
    expect(args('cilium')).toContain('--write-cni-conf-when-ready=/host/etc/cni/net.d/99-cilium.conflist');
    expect(args('cilium-migrated')).toContain('--write-cni-conf-when-ready=/host/etc/cni/net.d/00-cilium.conflist');
    // The two DaemonSets must not select each other's pods.
    const selector = (name: string) => find(cilium, 'DaemonSet', name).spec.selector.matchLabels;
    expect(selector('cilium')).not.toEqual(selector('cilium-migrated'));
  });

  it('puts the label keys and value, images and defaults where the seed had them', () => {
    const c = config();
    const { cilium, multus } = render(c);
    expect(podSpec(cilium, 'cilium').nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/canal-cilium': 'true' });
    expect(podSpec(cilium, 'cilium-migrated').nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/cilium': 'true' });
    expect(podSpec(multus, 'kube-multus-canal').nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/priority-canal': 'true' });
    expect(podSpec(multus, 'kube-multus-cilium').nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/priority-cilium': 'true' });
    const images = new Set(allContainers([...cilium, ...multus]).map((x) => x.image as string));
    expect([...images].sort()).toEqual([c.images.cilium, c.images.cniPlugins, c.images.multus, c.images.ciliumOperator].sort());
  });

  it('substitutes custom label keys and value, the registry mirror, pod CIDR and CNI directory', () => {
    const { cilium, multus } = render(config(CUSTOM), CUSTOM);
    const all = [...cilium, ...multus];
    expect(placeholdersIn(all)).toEqual([]);
    expect(podSpec(cilium, 'cilium').nodeSelector['example.com/canal-cilium']).toBe('yes');
    expect(podSpec(cilium, 'cilium-migrated').nodeSelector['example.com/cilium']).toBe('yes');
    expect(podSpec(cilium, 'cilium-migrated').tolerations).toContainEqual({ key: 'example.com/cilium', operator: 'Exists', effect: 'NoExecute' });
    expect(podSpec(multus, 'kube-multus-canal').nodeSelector['example.com/prio-canal']).toBe('yes');
    expect(podSpec(multus, 'kube-multus-cilium').nodeSelector['example.com/prio-cilium']).toBe('yes');
    expect(JSON.stringify(all)).not.toContain('node-role.kubernetes.io/');
    for (const c of allContainers(all)) expect(c.image, c.name).toMatch(/^mirror\.local:5000\/proxy\/(cilium\/cilium|cilium\/operator-generic|k8snetworkplumbingwg\/multus-cni|siderolabs\/install-cni):v/);
    expect(find(cilium, 'ConfigMap', 'cilium-config').data['cluster-pool-ipv4-cidr']).toBe('10.50.0.0/16');
    const hostPaths = all.filter((o) => o.kind === 'DaemonSet').flatMap((o: any) => o.spec.template.spec.volumes.filter((v: any) => v.name === 'cni' || v.name === 'etc-cni-netd').map((v: any) => v.hostPath.path));
    expect(hostPaths).toEqual(['/etc/cni/net.d', '/etc/cni/net.d', '/etc/cni/net.d', '/etc/cni/net.d']);
    const canalPrimary = JSON.parse(multusData(multus)['canal-primary.conflist']!);
    expect(canalPrimary.plugins[0]).toMatchObject({ confDir: '/etc/cni/net.d', kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig' });
  });

  it('writes Multus configs that are valid JSON with the seed networks', () => {
    const data = multusData(render(config(), {}).multus);
    const canal = JSON.parse(data['canal-primary.conflist']!);
    const cil = JSON.parse(data['cilium-primary.conflist']!);
    const flannel = JSON.parse(data['flannel.conflist']!);
    expect(canal.plugins[0]).toMatchObject({ type: 'multus', clusterNetwork: 'k8s-pod-network', defaultNetworks: ['cilium'], systemNamespaces: [], confDir: '/etc/kubernetes/cni/net.d' });
    expect(cil.plugins[0]).toMatchObject({ type: 'multus', clusterNetwork: 'cilium', defaultNetworks: ['cbr0'], systemNamespaces: [] });
    expect(flannel.name).toBe('cbr0');
    expect(flannel.plugins.map((p: { type: string }) => p.type)).toEqual(['flannel', 'portmap', 'sbr']);
  });

  it('points each Multus at its own config file and keeps it off NoExecute-tainted nodes', () => {
    const { multus } = render(config(), {});
    for (const [ds, key] of [
      ['kube-multus-canal', 'canal-primary.conflist'],
      ['kube-multus-cilium', 'cilium-primary.conflist'],
    ] as const) {
      const spec = podSpec(multus, ds);
      const main = spec.containers.find((c: any) => c.name === 'kube-multus');
      expect(main.args).toContain('--multus-conf-file=/tmp/multus-conf/00-multus.conflist');
      expect(spec.volumes.find((v: any) => v.name === 'multus-conf').configMap.items).toEqual([{ key, path: '00-multus.conflist' }]);
      expect(spec.tolerations).toEqual([{ operator: 'Exists', effect: 'NoSchedule' }]);
    }
    const install = podSpec(multus, 'kube-multus-cilium').initContainers.find((c: any) => c.name === 'install-flannel-conf');
    expect(install.command).toEqual(['cp', '/tmp/flannel-conf/99-flannel.conflist', '/host/etc/cni/net.d/99-flannel.conflist']);
  });

  it('picks a VXLAN port other than Flannel’s and honours an explicit one', () => {
    const port = (raw: unknown) => find(render(config(raw), raw).cilium, 'ConfigMap', 'cilium-config').data['tunnel-port'];
    expect(port({ cilium: { tunnelProtocol: 'vxlan' } })).toBe('8473');
    expect(port({ cilium: { tunnelPort: 7000 } })).toBe('7000');
  });

  it('produces valid YAML: the rendered objects survive a YAML 1.1 round trip', () => {
    const { cilium, multus } = render(config(CUSTOM), CUSTOM);
    const text = [...cilium, ...multus].map((o) => stringify(o, { version: '1.1' })).join('---\n');
    expect(parseManifestDocuments(text, 'round-trip').map((d) => d.value)).toEqual([...cilium, ...multus]);
  });

  it.each([
    [{ labels: { cilium: 'not a key' } }, 'labels.cilium'],
    [{ labels: { value: 'with space' } }, 'labels.value'],
    [{ cilium: { podCIDR: '172.29.1.0/16' } }, 'cilium.podCIDR'],
    [{ cilium: { podCIDR: '10.1.2.0/24' } }, 'cilium.podCIDR'],
    [{ cilium: { podCIDR: 'fd00::/64' } }, 'cilium.podCIDR'],
    [{ cilium: { tunnelProtocol: 'vxlan', tunnelPort: 8472 } }, 'cilium.tunnelPort'],
    [{ cilium: { podCIDR: '10.244.128.0/17' } }, 'cilium.podCIDR'],
    [{ cilium: { podCIDR: '10.0.0.0/8' } }, 'cilium.podCIDR'],
    [{ images: { cilium: 'quay.io/cilium/cilium:v1 "x"' } }, 'images.cilium'],
    [{ images: { registryMirror: 'https://mirror' } }, 'images.registryMirror'],
  ])('rejects %j naming %s', (raw, keyPath) => {
    const run = () => render(config(raw), raw);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(new RegExp(`${keyPath.replace('.', '\\.')}: `));
  });
});

describe('rendering from the discovered source', () => {
  const calico = seedCanalSource({
    kind: 'calico',
    daemonSet: { namespace: 'kube-system', name: 'calico-node' },
    confDir: { value: '/etc/cni/net.d', from: 'test' },
    confFile: { value: '10-calico.conflist', from: 'test' },
    podCIDRs: { value: ['192.168.0.0/16'], from: 'test' },
    overlay: { value: { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: false }, from: 'IPPool default-ipv4-ippool' },
  });
  const flannel = seedCanalSource({ kind: 'flannel', daemonSet: { namespace: 'kube-flannel', name: 'kube-flannel-ds' }, confDir: { value: '/etc/cni/net.d', from: 'test' }, confFile: { value: '10-flannel.conflist', from: 'test' }, networkName: { value: 'cbr0', from: 'test' } });

  it('attaches a Calico source by its own network name and file, without the Canal-only flannel network', () => {
    const { multus } = renderBundledManifests(config(), calico);
    const data = multusData(multus);
    expect(JSON.parse(data['canal-primary.conflist']!).plugins[0]).toMatchObject({ clusterNetwork: 'k8s-pod-network', defaultNetworks: ['cilium'], confDir: '/etc/cni/net.d' });
    expect(JSON.parse(data['cilium-primary.conflist']!).plugins[0]).toMatchObject({ clusterNetwork: 'cilium', defaultNetworks: ['k8s-pod-network'] });
    expect(data['ensure-sbr.sh']).toContain('"$dir/10-calico.conflist"');
    const spec = podSpec(multus, 'kube-multus-cilium');
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['install-cni-plugins']);
    expect(spec.volumes.map((v: any) => v.name)).not.toContain('flannel-conf');
  });

  it("attaches a Flannel source as cbr0 from its 10-flannel.conflist", () => {
    const data = multusData(renderBundledManifests(config(), flannel).multus);
    expect(JSON.parse(data['canal-primary.conflist']!).plugins[0].clusterNetwork).toBe('cbr0');
    expect(JSON.parse(data['cilium-primary.conflist']!).plugins[0].defaultNetworks).toEqual(['cbr0']);
    expect(data['ensure-sbr.sh']).toContain('"$dir/10-flannel.conflist"');
  });

  it("refuses Cilium on the source overlay's UDP port, naming where that port was read", () => {
    const run = () => renderBundledManifests(config({ cilium: { tunnelProtocol: 'vxlan', tunnelPort: 4789 } }), calico);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/cilium\.tunnelPort: UDP 4789 is the calico overlay's port \(VXLAN, UDP 4789, VNI 4096, IPPool default-ipv4-ippool\)/);
    // The same port is fine against a source that does not use it.
    expect(() => renderBundledManifests(config({ cilium: { tunnelProtocol: 'vxlan', tunnelPort: 4789 } }), SEED)).not.toThrow();
  });

  it("refuses a Cilium pool overlapping the source's pod CIDR", () => {
    expect(() => renderBundledManifests(config({ cilium: { podCIDR: '192.168.128.0/17' } }), calico)).toThrow(/cilium\.podCIDR: 192\.168\.128\.0\/17 overlaps the calico pod CIDR 192\.168\.0\.0\/16/);
  });
});

describe('fillPlaceholders', () => {
  it('fills mapping keys and substrings and leaves unknown names', () => {
    expect(fillPlaceholders({ '__A__': 'x/__A__/__B__', list: ['__A__', 1, true, null] }, { A: 'a' })).toEqual({ a: 'x/a/__B__', list: ['a', 1, true, null] });
    expect(placeholdersIn({ k: '__B__', __C__: 1 })).toEqual(['B', 'C']);
  });
});

describe('isLabelKey', () => {
  it.each([
    ['node-role.kubernetes.io/canal-cilium', true],
    ['simple', true],
    ['Example.com/x', false],
    ['/x', false],
    ['a/b/c', false],
    [`x/${'a'.repeat(64)}`, false],
  ])('%s → %s', (key, ok) => expect(isLabelKey(key)).toBe(ok));
});

describe('loadUserManifests and loadMigrationManifests', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const tmp = () => (dir = mkdtempSync(join(tmpdir(), 'cni-migration-manifests-')));

  it('reads a copy of a bundled template, filling its placeholders from the configuration', () => {
    const d = tmp();
    writeFileSync(join(d, 'cilium.yaml'), readFileSync(bundledManifestPath('cilium'), 'utf8'));
    const c = config(CUSTOM);
    expect(loadUserManifests('cilium.yaml', { config: c, source: CRI_DEFAULT, baseDir: d })).toEqual(render(c, CUSTOM).cilium);
  });

  it('refuses a bundled placeholder it cannot fill, but keeps foreign __X__ strings as content', () => {
    const d = tmp();
    writeFileSync(join(d, 'own.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\ndata: {cni: "{\\"mtu\\": __CNI_MTU__}", dir: __CNI_CONF_DIR__}\n');
    expect(() => loadUserManifests(join(d, 'own.yaml'))).toThrow(ManifestError);
    expect(() => loadUserManifests(join(d, 'own.yaml'))).toThrow(/__CNI_CONF_DIR__ left unfilled/);
    const [cm] = loadUserManifests(join(d, 'own.yaml'), { config: config(), source: SEED });
    expect(cm!.data).toEqual({ cni: '{"mtu": __CNI_MTU__}', dir: '/etc/kubernetes/cni/net.d' });
  });

  it('uses the user file as is when it has no placeholders, whatever the Cilium settings', () => {
    const d = tmp();
    writeFileSync(join(d, 'mine.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: mine, namespace: kube-system}\n');
    // A pod CIDR the bundled templates would refuse does not matter to a file that does not use it.
    expect(loadUserManifests(join(d, 'mine.yaml'), { config: config({ cilium: { podCIDR: '10.1.2.0/24' } }), source: SEED })).toHaveLength(1);
  });

  it('reports a missing file and an object without kind', () => {
    const d = tmp();
    expect(() => loadUserManifests(join(d, 'nope.yaml'))).toThrow(/nope\.yaml: no such file/);
    writeFileSync(join(d, 'bad.yaml'), 'apiVersion: v1\nmetadata: {name: x}\n');
    expect(() => loadUserManifests(join(d, 'bad.yaml'))).toThrow(/document 1.*apiVersion, kind and metadata\.name/);
  });

  it("takes the user's file where paths names one and the bundled one otherwise", () => {
    const d = tmp();
    writeFileSync(join(d, 'my-cilium.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: mine, namespace: kube-system}\n');
    const c = config({ paths: { cilium: './my-cilium.yaml' } });
    const loaded = loadMigrationManifests(c, SEED, { baseDir: d });
    expect(loaded.cilium.map((o) => o.metadata.name)).toEqual(['mine']);
    expect(loaded.sources).toEqual({ cilium: join(d, 'my-cilium.yaml'), multus: 'bundled' });
    expect(loaded.multus).toEqual(render(c).multus);
  });
});
