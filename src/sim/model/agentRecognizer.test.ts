import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { datapathNetworkOf, recognizeAgent, type AgentSpec } from './agentRecognizer.js';
import { WATCHED_CUSTOM, type CustomResourceLookup } from './clusterCache.js';
import { parseCniFile } from './cniConfig.js';
import { allCniManifests, configMapLookupOf, findObject, loadManifest, podFromDaemonSet, workloadPod } from './testing/modelFixtures.js';

const CNI_DIR = '/etc/kubernetes/cni/net.d';
const objects = allCniManifests(CNI_DIR);
const configMaps = configMapLookupOf(objects);
const ctx = { cniConfDir: CNI_DIR, nodeName: 'node-1', clusterCIDR: '10.244.0.0/16' };

function agentOf(dsName: string, cm = configMaps, c = ctx): AgentSpec | undefined {
  return recognizeAgent(podFromDaemonSet(findObject(objects, 'DaemonSet', dsName), 'node-1'), cm, c);
}

function fileContent(spec: AgentSpec | undefined, name: string): Record<string, unknown> {
  const f = spec?.files.find((x) => x.name === name);
  if (!f) throw new Error(`no file ${name} in ${JSON.stringify(spec?.files.map((x) => x.name))}`);
  return JSON.parse(f.content) as Record<string, unknown>;
}

describe('recognizeAgent on the seed and Canal manifests', () => {
  it('reads Canal: flannel datapath from net-conf.json, 10-calico.conflist from install-cni', () => {
    const canal = agentOf('canal');
    expect(canal?.datapath).toMatchObject({
      network: 'flannel',
      pool: { cidr: '10.244.0.0/16', nodePrefix: 24, useNodePodCidr: true },
      overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 },
    });
    expect(canal?.files.map((f) => f.name)).toEqual(['10-calico.conflist']);
    const conf = fileContent(canal, '10-calico.conflist');
    expect(conf.name).toBe('k8s-pod-network');
    expect((conf.plugins as { type: string; nodename?: string; mtu?: number }[])[0]).toMatchObject({ type: 'calico', nodename: 'node-1', mtu: 0 });
    expect(canal?.files[0]?.removeOnExit).toBe(false);
  });

  it("reads the seed's cilium DaemonSet: 99-cilium.conf, GENEVE on 6081, 172.29.0.0/16, removed on exit", () => {
    const cilium = agentOf('cilium');
    expect(cilium?.datapath).toMatchObject({ network: 'cilium', pool: { cidr: '172.29.0.0/16', nodePrefix: 24, useNodePodCidr: false }, overlay: { mode: 'geneve', protocol: 'udp', port: 6081 } });
    expect(cilium?.files.map((f) => f.name)).toEqual(['99-cilium.conf']);
    expect(fileContent(cilium, '99-cilium.conf')).toMatchObject({ name: 'cilium', type: 'cilium-cni' });
    expect(cilium?.files[0]).toMatchObject({ removeOnExit: true, when: 'running' });
  });

  it('reads cilium-migrated as the same network writing 00-cilium.conf', () => {
    const migrated = agentOf('cilium-migrated');
    expect(migrated?.datapath?.network).toBe('cilium');
    expect(migrated?.files.map((f) => f.name)).toEqual(['00-cilium.conf']);
  });

  it('reads kube-multus-canal: 00-multus.conflist with k8s-pod-network primary and cilium extra, no datapath', () => {
    const multus = agentOf('kube-multus-canal');
    expect(multus?.datapath).toBeUndefined();
    // Its init container edits 10-calico.conflist through shell variables: not a copy the model can follow.
    expect(multus?.files.map((f) => f.name)).toEqual(['00-multus.conflist']);
    const parsed = parseCniFile('00-multus.conflist', multus!.files[0]!.content);
    expect(parsed.ok && parsed.conf.multus).toMatchObject({ clusterNetwork: 'k8s-pod-network', defaultNetworks: ['cilium'], confDir: CNI_DIR, systemNamespaces: [''] });
  });

  it("reads kube-multus-cilium: cilium primary with cbr0 extra, plus 99-flannel.conflist from its init container's cat", () => {
    const multus = agentOf('kube-multus-cilium');
    expect(multus?.files.map((f) => f.name).sort()).toEqual(['00-multus.conflist', '99-flannel.conflist']);
    expect(fileContent(multus, '00-multus.conflist').plugins).toMatchObject([{ type: 'multus', clusterNetwork: 'cilium', defaultNetworks: ['cbr0'] }]);
    expect(fileContent(multus, '99-flannel.conflist')).toMatchObject({ name: 'cbr0', plugins: [{ type: 'flannel' }, { type: 'portmap' }, { type: 'sbr' }] });
  });

  it('does not treat the cilium operator or a workload as an agent', () => {
    const operator = findObject(objects, 'Deployment', 'cilium-operator');
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'op', namespace: 'kube-system' }, spec: { ...operator.spec.template.spec, nodeName: 'node-1' } };
    expect(recognizeAgent(pod, configMaps, ctx)).toBeUndefined();
    expect(datapathNetworkOf(pod)).toBeUndefined();
    expect(recognizeAgent(workloadPod('default', 'w', 'node-1'), configMaps, ctx)).toBeUndefined();
  });

  it('names the datapath from images alone (for pending pods)', () => {
    expect(datapathNetworkOf(podFromDaemonSet(findObject(objects, 'DaemonSet', 'canal'), 'n'))).toBe('flannel');
    expect(datapathNetworkOf(podFromDaemonSet(findObject(objects, 'DaemonSet', 'cilium-migrated'), 'n'))).toBe('cilium');
    expect(datapathNetworkOf(podFromDaemonSet(findObject(objects, 'DaemonSet', 'kube-multus-canal'), 'n'))).toBeUndefined();
  });

  it("ignores writes into a directory the kubelet does not read, and says why", () => {
    const cilium = agentOf('cilium', configMaps, { ...ctx, cniConfDir: '/etc/cni/net.d' });
    expect(cilium?.files).toEqual([]);
    expect(cilium?.ignoredWrites[0]).toMatchObject({ container: 'cilium-agent', reason: 'lands in /etc/kubernetes/cni/net.d on the node, but the kubelet reads /etc/cni/net.d' });
    expect(cilium?.datapath?.network).toBe('cilium');
  });

  it('follows the tunnel setting in cilium-config (vxlan → 8472) and honours a changed CNI_CONF_NAME', () => {
    const vxlan = configMapLookupOf(objects.map((o) => (o.kind === 'ConfigMap' && o.metadata.name === 'cilium-config' ? { ...o, data: { ...o.data, tunnel: 'vxlan' } } : o)));
    expect(agentOf('cilium', vxlan)?.datapath?.overlay).toEqual({ kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 });
    const disabled = configMapLookupOf(objects.map((o) => (o.kind === 'ConfigMap' && o.metadata.name === 'cilium-config' ? { ...o, data: { ...o.data, tunnel: 'disabled' } } : o)));
    expect(agentOf('cilium', disabled)?.datapath?.overlay).toEqual({ kind: 'native', mode: 'native' });
  });
});

describe('recognizeAgent on current manifests', () => {
  const kubeFlannel: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-flannel-ds-x', namespace: 'kube-flannel' },
    spec: {
      nodeName: 'node-1',
      hostNetwork: true,
      initContainers: [
        { name: 'install-cni-plugin', image: 'ghcr.io/flannel-io/flannel-cni-plugin:v1.6.2-flannel1', command: ['cp'], args: ['-f', '/flannel', '/opt/cni/bin/flannel'], volumeMounts: [{ name: 'cni-plugin', mountPath: '/opt/cni/bin' }] },
        {
          name: 'install-cni',
          image: 'ghcr.io/flannel-io/flannel:v0.26.4',
          command: ['cp'],
          args: ['-f', '/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/10-flannel.conflist'],
          volumeMounts: [
            { name: 'cni', mountPath: '/etc/cni/net.d' },
            { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
          ],
        },
      ],
      containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.26.4', command: ['/opt/bin/flanneld'], args: ['--ip-masq', '--kube-subnet-mgr'], volumeMounts: [{ name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' }] }],
      volumes: [
        { name: 'cni-plugin', hostPath: { path: '/opt/cni/bin' } },
        { name: 'cni', hostPath: { path: '/etc/cni/net.d' } },
        { name: 'flannel-cfg', configMap: { name: 'kube-flannel-cfg' } },
      ],
    },
  };
  const flannelCm = (netConf: string) => configMapLookupOf([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' }, data: { 'cni-conf.json': '{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel"}]}', 'net-conf.json': netConf } },
  ]);
  const modernCtx = { cniConfDir: '/etc/cni/net.d', nodeName: 'node-1', clusterCIDR: '10.244.0.0/16' };

  it('reads kube-flannel: 10-flannel.conflist copied by `cp -f`, vxlan port from net-conf.json', () => {
    const spec = recognizeAgent(kubeFlannel, flannelCm('{"Network":"10.42.0.0/16","Backend":{"Type":"vxlan","Port":4789}}'), modernCtx);
    expect(spec?.files.map((f) => f.name)).toEqual(['10-flannel.conflist']);
    expect(spec?.datapath).toMatchObject({ network: 'flannel', pool: { cidr: '10.42.0.0/16' }, overlay: { protocol: 'udp', port: 4789 } });
  });

  it('reads host-gw as native routing', () => {
    expect(recognizeAgent(kubeFlannel, flannelCm('{"Network":"10.42.0.0/16","Backend":{"Type":"host-gw"}}'), modernCtx)?.datapath?.overlay).toEqual({ kind: 'native', mode: 'host-gw' });
  });

  it('reads current Cilium: cluster pool, tunnel-protocol/port, write-cni-conf-when-ready, cni-exclusive', () => {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'cilium-x', namespace: 'kube-system' },
      spec: {
        nodeName: 'node-1',
        hostNetwork: true,
        containers: [
          {
            name: 'cilium-agent',
            image: 'quay.io/cilium/cilium:v1.17.5@sha256:abc',
            command: ['cilium-agent'],
            args: ['--config-dir=/tmp/cilium/config-map'],
            lifecycle: { preStop: { exec: { command: ['/cni-uninstall.sh'] } } },
            volumeMounts: [
              { name: 'etc-cni-netd', mountPath: '/host/etc/cni/net.d' },
              { name: 'cilium-config-path', mountPath: '/tmp/cilium/config-map', readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: 'etc-cni-netd', hostPath: { path: '/etc/cni/net.d', type: 'DirectoryOrCreate' } },
          { name: 'cilium-config-path', configMap: { name: 'cilium-config' } },
        ],
      },
    };
    const cm = configMapLookupOf([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cilium-config', namespace: 'kube-system' },
        data: {
          ipam: 'cluster-pool',
          'cluster-pool-ipv4-cidr': '10.245.0.0/16',
          'cluster-pool-ipv4-mask-size': '24',
          'routing-mode': 'tunnel',
          'tunnel-protocol': 'vxlan',
          'tunnel-port': '8473',
          'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist',
          'cni-exclusive': 'false',
          'cni-uninstall': 'true',
        },
      },
    ]);
    const spec = recognizeAgent(pod, cm, modernCtx);
    expect(spec?.datapath).toMatchObject({ pool: { cidr: '10.245.0.0/16', nodePrefix: 24 }, overlay: { mode: 'vxlan', port: 8473 } });
    expect(spec?.files).toMatchObject([{ name: '05-cilium.conflist', when: 'ready', removeOnExit: true }]);
    expect(spec?.exclusive).toBe(false);
  });
});

// The Cilium 1.18 Helm chart output: the agent's --config-dir (/tmp/cilium/config-map) is an
// emptyDir the "config" init container fills with `cilium-dbg build-config`, i.e. cilium-config
// overridden by the CiliumNodeConfigs of kube-system that select the node.
describe('recognizeAgent on the Cilium 1.18 chart (build-config)', () => {
  const CILIUM_DIR = join(import.meta.dirname, '..', '..', '..', 'scenarios', 'cilium');
  const chartDefault = loadManifest(join(CILIUM_DIR, 'cilium-1.18-default.yaml'));
  const chartMigration = loadManifest(join(CILIUM_DIR, 'cilium-1.18-migration.yaml'));
  const LABEL = 'io.cilium.migration/cilium-default';
  const nodeWith = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'uid-node-1', labels: { 'kubernetes.io/hostname': 'node-1', ...labels } } });
  const cnc = (name: string, namespace: string, nodeSelector: unknown, defaults: Record<string, string>, apiVersion = 'cilium.io/v2'): KubeObject => ({
    apiVersion,
    kind: 'CiliumNodeConfig',
    metadata: { name, namespace },
    spec: { ...(nodeSelector === undefined ? {} : { nodeSelector }), defaults },
  });
  const migrationDefaults = { 'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist', 'custom-cni-conf': 'false', 'cni-chaining-mode': 'none', 'cni-exclusive': 'true' };
  const ciliumDefault = cnc('cilium-default', 'kube-system', { matchLabels: { [LABEL]: 'true' } }, migrationDefaults);
  const lookupOf = (cncs: KubeObject[]): CustomResourceLookup => (resource) => (resource === WATCHED_CUSTOM.ciliumNodeConfigs ? cncs : []);
  const agent = (objects: KubeObject[], opts: { cncs?: KubeObject[]; node?: KubeObject; edit?: (pod: KubeObject) => void } = {}) => {
    const pod = podFromDaemonSet(findObject(objects, 'DaemonSet', 'cilium'), 'node-1');
    opts.edit?.(pod);
    return recognizeAgent(pod, configMapLookupOf(objects), { cniConfDir: '/etc/cni/net.d', nodeName: 'node-1', clusterCIDR: '10.244.0.0/16', customResources: lookupOf(opts.cncs ?? []), node: opts.node });
  };

  it('default values: 05-cilium.conflist written once ready, exclusive, kept on exit; pool 10.0.0.0/8 in /24s, VXLAN 8472', () => {
    const spec = agent(chartDefault);
    expect(spec?.datapath).toMatchObject({ network: 'cilium', ipam: 'cluster-pool', pool: { cidr: '10.0.0.0/8', nodePrefix: 24, useNodePodCidr: false }, overlay: { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 } });
    expect(spec?.datapath?.source).toBe('build-config (init container config) at /tmp/cilium/config-map: config-map:kube-system/cilium-config');
    expect(spec?.exclusive).toBe(true);
    // cni.uninstall is false by default: the chart renders no cni-uninstall key, so /cni-uninstall.sh leaves the file.
    expect(spec?.files).toMatchObject([{ name: '05-cilium.conflist', writtenBy: 'cilium-agent', when: 'ready', removeOnExit: false, manager: { exclusive: true } }]);
    expect(fileContent(spec, '05-cilium.conflist')).toEqual({ cniVersion: '0.3.1', name: 'cilium', plugins: [{ type: 'cilium-cni', 'enable-debug': false, 'log-file': '/var/run/cilium/cilium-cni.log' }] });
  });

  it('migration values: no CNI config at all (latent), VXLAN on 8473, pool 10.245.0.0/16', () => {
    const spec = agent(chartMigration);
    expect(spec?.files).toEqual([]);
    expect(spec?.ignoredWrites).toEqual([]);
    expect(spec?.exclusive).toBe(false);
    expect(spec?.datapath).toMatchObject({ ipam: 'cluster-pool', pool: { cidr: '10.245.0.0/16', nodePrefix: 24 }, overlay: { kind: 'tunnel', mode: 'vxlan', port: 8473 } });
  });

  it('without the init container the agent reads an empty --config-dir: no file, the defaults (not the ConfigMap)', () => {
    const spec = agent(chartDefault, { edit: (p) => (p.spec.initContainers = (p.spec.initContainers as { name: string }[]).filter((c) => c.name !== 'config')) });
    expect(spec?.files).toEqual([]);
    expect(spec?.datapath).toMatchObject({ source: 'defaults (nothing fills --config-dir /tmp/cilium/config-map)', overlay: { mode: 'vxlan', port: 8472 } });
    // build-config writing somewhere the agent does not read is the same.
    const elsewhere = agent(chartDefault, { edit: (p) => ((p.spec.initContainers as { name: string; args?: string[] }[]).find((c) => c.name === 'config')!.args = ['--dest=/tmp/other']) });
    expect(elsewhere?.files).toEqual([]);
  });

  it('a CiliumNodeConfig selecting the node turns the migration chart into an exclusive 05-cilium.conflist writer', () => {
    const spec = agent(chartMigration, { cncs: [ciliumDefault], node: nodeWith({ [LABEL]: 'true' }) });
    expect(spec?.files).toMatchObject([{ name: '05-cilium.conflist', when: 'ready', removeOnExit: false, manager: { exclusive: true } }]);
    expect(spec?.exclusive).toBe(true);
    expect(spec?.datapath?.source).toBe('build-config (init container config) at /tmp/cilium/config-map: config-map:kube-system/cilium-config, cilium-node-config:kube-system/cilium-default');
    // The rest of cilium-config still applies.
    expect(spec?.datapath).toMatchObject({ pool: { cidr: '10.245.0.0/16' }, overlay: { port: 8473 } });
  });

  it('leaves an unlabelled node latent, and a node whose labels are unknown (only {} selectors match then)', () => {
    expect(agent(chartMigration, { cncs: [ciliumDefault], node: nodeWith({}) })?.files).toEqual([]);
    expect(agent(chartMigration, { cncs: [ciliumDefault], node: nodeWith({ [LABEL]: 'false' }) })?.files).toEqual([]);
    expect(agent(chartMigration, { cncs: [ciliumDefault] })?.files).toEqual([]);
    const all = cnc('all-nodes', 'kube-system', {}, migrationDefaults);
    expect(agent(chartMigration, { cncs: [all] })?.files.map((f) => f.name)).toEqual(['05-cilium.conflist']);
  });

  it('ignores a CiliumNodeConfig in another namespace, one without a nodeSelector and one with empty defaults', () => {
    const node = nodeWith({ [LABEL]: 'true' });
    const elsewhere = cnc('cilium-default', 'default', { matchLabels: { [LABEL]: 'true' } }, migrationDefaults);
    const noSelector = cnc('no-selector', 'kube-system', undefined, migrationDefaults);
    const empty = cnc('zz-empty', 'kube-system', {}, {});
    const spec = agent(chartMigration, { cncs: [elsewhere, noSelector, empty], node });
    expect(spec?.files).toEqual([]);
    expect(spec?.datapath?.source).toMatch(/: config-map:kube-system\/cilium-config$/);
    // Negative control: the same object in kube-system applies.
    expect(agent(chartMigration, { cncs: [{ ...elsewhere, metadata: { ...elsewhere.metadata, namespace: 'kube-system' } }], node })?.files).toHaveLength(1);
  });

  it('merges several matching CiliumNodeConfigs in name order, the last name winning; v2alpha1 objects count the same', () => {
    const node = nodeWith({ [LABEL]: 'true', zone: 'a' });
    const b = cnc('b-port', 'kube-system', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, { 'tunnel-port': '9002', 'cni-exclusive': 'false' }, 'cilium.io/v2alpha1');
    const a = cnc('a-port', 'kube-system', {}, { 'tunnel-port': '9001', 'cluster-pool-ipv4-mask-size': '26' });
    const spec = agent(chartMigration, { cncs: [b, ciliumDefault, a], node });
    expect(spec?.datapath?.source).toMatch(/cilium-node-config:kube-system\/a-port, cilium-node-config:kube-system\/b-port, cilium-node-config:kube-system\/cilium-default$/);
    expect(spec?.datapath).toMatchObject({ pool: { cidr: '10.245.0.0/16', nodePrefix: 26 }, overlay: { port: 9002 } });
    // "cilium-default" sorts after "b-port": its cni-exclusive "true" wins.
    expect(spec?.files).toMatchObject([{ name: '05-cilium.conflist', manager: { exclusive: true } }]);
    const renamed = { ...ciliumDefault, metadata: { ...ciliumDefault.metadata, name: 'a-default' } };
    expect(agent(chartMigration, { cncs: [b, renamed, a], node })?.files).toMatchObject([{ manager: { exclusive: false } }]);
  });

  it('drops overrides of keys build-config is told not to take from later sources (--deny-config-keys / --allow-config-keys)', () => {
    const node = nodeWith({ [LABEL]: 'true' });
    const withArgs = (args: string[]) => (p: KubeObject) => ((p.spec.initContainers as { name: string; args?: string[] }[]).find((c) => c.name === 'config')!.args = args);
    expect(agent(chartMigration, { cncs: [ciliumDefault], node, edit: withArgs(['--deny-config-keys=write-cni-conf-when-ready']) })?.files).toEqual([]);
    expect(agent(chartMigration, { cncs: [ciliumDefault], node, edit: withArgs(['--allow-config-keys', 'debug,tunnel-port']) })?.files).toEqual([]);
    expect(agent(chartMigration, { cncs: [ciliumDefault], node, edit: withArgs(['--allow-config-keys', 'write-cni-conf-when-ready,custom-cni-conf']) })?.files).toHaveLength(1);
  });

  it('removes the file on exit only when the resolved cni-uninstall is exactly "true"', () => {
    const node = nodeWith({ [LABEL]: 'true' });
    const uninstall = (v: string) => agent(chartMigration, { cncs: [cnc('cilium-default', 'kube-system', {}, { ...migrationDefaults, 'cni-uninstall': v })], node })?.files[0]?.removeOnExit;
    expect(uninstall('true')).toBe(true);
    expect(uninstall('yes')).toBe(false);
    expect(uninstall('false')).toBe(false);
  });
});
