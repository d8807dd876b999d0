import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/simCluster.js';
import type { SourceDescription } from '../../src/source/sourceTypes.js';
import { ROOT, runCliProcess } from '../support/cliProcess.js';

// `cni-migration detect` as a user runs it: a separate process reading a simulated cluster that
// runs one of the stock installs (scenarios/*.yaml), over HTTPS with a kubeconfig.

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let cluster: SimCluster | undefined;
const kubeconfig = join(dir, 'kubeconfig');
async function start(scenarioFile: string): Promise<void> {
  cluster = await SimCluster.start({ scenarioFile, kubeconfigOut: kubeconfig });
}
async function stop(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
}
/** A scenario file of our own (paths in it are relative to `dir`). */
function scenario(name: string, text: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `apiVersion: sim.cni-migration.dev/v1alpha1\nkind: Simulation\n${text}`);
  return file;
}
/** `detect` in text and in JSON, side by side. */
async function detect(...extra: string[]) {
  const [text, json] = await Promise.all([runCliProcess([...extra, 'detect', '--kubeconfig', kubeconfig]), runCliProcess([...extra, 'detect', '--kubeconfig', kubeconfig, '-o', 'json'])]);
  return { text, json };
}

const CALICO_DIR_FROM = 'hostPath of volume cni-net-dir mounted at /host/etc/cni/net.d in container install-cni';

interface Case {
  scenario: string;
  /** Key facts of the JSON description. */
  facts: Partial<Record<keyof SourceDescription, unknown>>;
  /** Lines (or fragments) the text must show. */
  text: (string | RegExp)[];
}

const CASES: Case[] = [
  {
    scenario: 'canal',
    facts: {
      kind: 'canal',
      install: 'manifest',
      daemonSet: { namespace: 'kube-system', name: 'canal' },
      confDir: { value: '/etc/cni/net.d', from: CALICO_DIR_FROM },
      confFile: { value: '10-canal.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      networkName: { value: 'k8s-pod-network', from: '"name" of the CNI config in ConfigMap canal-config key cni_network_config (env CNI_NETWORK_CONFIG of container install-cni)' },
      podCIDRs: { value: ['10.244.0.0/16'], from: '"Network" of net-conf.json in ConfigMap canal-config key net-conf.json' },
      overlay: { value: { type: 'vxlan', port: 8472, vni: 1, crossSubnet: false }, from: '"Backend" of net-conf.json in ConfigMap canal-config key net-conf.json' },
      policyEnforcement: 'calico',
      warnings: [],
    },
    text: ['Source CNI: canal (manifest install)', /DaemonSet +kube-system\/canal\n/, /CNI file +10-canal\.conflist\n +from env CNI_CONF_NAME of container install-cni\n/, /Overlay +VXLAN, UDP 8472, VNI 1\n/, /MTU +automatic\n/, /NetworkPolicy +enforced by Calico \(felix\)\n/],
  },
  {
    scenario: 'calico',
    facts: {
      kind: 'calico',
      install: 'manifest',
      daemonSet: { namespace: 'kube-system', name: 'calico-node' },
      confDir: { value: '/etc/cni/net.d', from: CALICO_DIR_FROM },
      confFile: { value: '10-calico.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      networkName: { value: 'k8s-pod-network', from: '"name" of the CNI config in ConfigMap calico-config key cni_network_config (env CNI_NETWORK_CONFIG of container install-cni)' },
      podCIDRs: { value: ['192.168.0.0/16'], from: 'enabled IPPools default-ipv4-ippool' },
      overlay: { value: { type: 'ipip', crossSubnet: false }, from: 'enabled IPPools default-ipv4-ippool' },
      ipAutodetection: { method: 'first-found', setting: 'env IP_AUTODETECTION_METHOD of container calico-node in DaemonSet kube-system/calico-node', picksCiliumHost: true },
      policyEnforcement: 'calico',
      warnings: [],
    },
    text: ['Source CNI: calico (manifest install)', /Pod CIDR +192\.168\.0\.0\/16\n +from enabled IPPools default-ipv4-ippool\n/, /Overlay +IP-in-IP \(IP protocol 4\)\n/, /IP autodetection +first-found — would pick cilium_host once Cilium runs \(cilium#31273\)\n/],
  },
  {
    scenario: 'calico-vxlan',
    facts: {
      kind: 'calico',
      install: 'manifest',
      daemonSet: { namespace: 'kube-system', name: 'calico-node' },
      confDir: { value: '/etc/cni/net.d', from: CALICO_DIR_FROM },
      confFile: { value: '10-calico.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      podCIDRs: { value: ['192.168.0.0/16'], from: 'enabled IPPools default-ipv4-ippool' },
      overlay: { value: { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true }, from: "vxlanMode CrossSubnet of enabled IPPools default-ipv4-ippool; port and VNI from Felix's defaults" },
      policyEnforcement: 'calico',
      warnings: [],
    },
    text: ['Source CNI: calico (manifest install)', /Overlay +VXLAN \(cross-subnet only\), UDP 4789, VNI 4096\n/],
  },
  {
    scenario: 'calico-operator',
    facts: {
      kind: 'calico',
      install: 'operator',
      daemonSet: { namespace: 'calico-system', name: 'calico-node' },
      installation: { name: 'default' },
      confDir: { value: '/etc/cni/net.d', from: CALICO_DIR_FROM },
      confFile: { value: '10-calico.conflist', from: 'env CNI_CONF_NAME of container install-cni' },
      networkName: { value: 'k8s-pod-network', from: '"name" of the CNI config in ConfigMap cni-config key config (env CNI_NETWORK_CONFIG of container install-cni)' },
      podCIDRs: { value: ['192.168.0.0/16'], from: 'enabled IPPools default-ipv4-ippool' },
      overlay: { value: { type: 'vxlan', port: 4789, vni: 4096, crossSubnet: true }, from: 'vxlanMode CrossSubnet of enabled IPPools default-ipv4-ippool; port and VNI from FelixConfiguration default' },
      ipAutodetection: { method: 'first-found', setting: 'spec.calicoNetwork.nodeAddressAutodetectionV4 of Installation default', picksCiliumHost: true },
      policyEnforcement: 'calico',
      warnings: [],
    },
    text: ['Source CNI: calico (Tigera operator install)', /DaemonSet +calico-system\/calico-node\n +from the Tigera operator's rendering of Installation default\n/],
  },
  {
    scenario: 'flannel',
    facts: {
      kind: 'flannel',
      install: 'manifest',
      daemonSet: { namespace: 'kube-flannel', name: 'kube-flannel-ds' },
      confDir: { value: '/etc/cni/net.d', from: 'hostPath of volume cni, where container install-cni copies 10-flannel.conflist' },
      confFile: { value: '10-flannel.conflist', from: 'cp destination of container install-cni' },
      networkName: { value: 'cbr0', from: '"name" in ConfigMap kube-flannel-cfg key cni-conf.json' },
      podCIDRs: { value: ['10.244.0.0/16'], from: '"Network" of net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json' },
      overlay: { value: { type: 'vxlan', port: 8472, vni: 1, crossSubnet: false }, from: '"Backend" of net-conf.json in ConfigMap kube-flannel-cfg key net-conf.json' },
      policyEnforcement: 'none',
      warnings: [],
    },
    text: ['Source CNI: flannel (manifest install)', /CNI network +cbr0\n/, /NetworkPolicy +not enforced \(Flannel has no policy engine\)\n/],
  },
];

describe('cni-migration detect on each stock install', () => {
  for (const c of CASES) {
    describe(`scenarios/${c.scenario}.yaml`, () => {
      beforeAll(() => start(join(ROOT, 'scenarios', `${c.scenario}.yaml`)));
      afterAll(stop);

      it(`${c.scenario}: exit 0, the facts in text and JSON`, async () => {
        const { text, json } = await detect();
        expect(text.code, text.stderr).toBe(0);
        expect(json.code, json.stderr).toBe(0);
        expect(text.stderr).toBe('');
        for (const t of c.text) {
          if (typeof t === 'string') expect(text.stdout).toContain(t);
          else expect(text.stdout).toMatch(t);
        }
        expect(text.stdout).not.toContain('warning:');
        const source = JSON.parse(json.stdout) as SourceDescription;
        expect(source).toMatchObject(c.facts);
        if (c.facts.kind !== 'calico') expect(source.ipAutodetection).toBeUndefined();
        if (c.facts.install !== 'operator') expect(source.installation).toBeUndefined();
        // What the text shows is what the JSON says.
        expect(text.stdout).toContain(`\n  DaemonSet `);
        expect(text.stdout).toMatch(new RegExp(`CNI directory +${source.confDir.value.replaceAll('/', '\\/')}\\n +from ${source.confDir.from}\\n`));
      });

      if (c.scenario === 'canal') {
        it('a cni.confDir that disagrees is used with a warning; one that is not absolute is exit 2 naming cni.confDir', async () => {
          const over = join(dir, 'over.yaml');
          writeFileSync(over, 'cni:\n  confDir: /etc/kubernetes/cni/net.d\n');
          const bad = join(dir, 'bad.yaml');
          writeFileSync(bad, "cni: {confDir: 'not absolute'}\n");
          const [o, b] = await Promise.all([runCliProcess(['-c', over, 'detect', '--kubeconfig', kubeconfig]), runCliProcess(['-c', bad, 'detect', '--kubeconfig', kubeconfig])]);
          expect(o.code, o.stderr).toBe(0);
          expect(o.stdout).toMatch(/CNI directory +\/etc\/kubernetes\/cni\/net\.d\n +from cni\.confDir in the configuration\n/);
          expect(o.stdout).toContain(`warning: cni.confDir "/etc/kubernetes/cni/net.d" overrides what the cluster says: "/etc/cni/net.d" (${CALICO_DIR_FROM})\n`);
          expect(b.code).toBe(2);
          expect(b.stdout).toBe('');
          expect(b.stderr).toBe('error: cni.confDir in the configuration: "not absolute" must be an absolute path of letters, digits and . _ - /\n');
        });
      }
    });
  }
});

describe('cni-migration detect refuses a cluster without exactly one source', () => {
  afterEach(stop);

  it('no CNI at all: exit 1, saying what was looked for', async () => {
    await start(scenario('no-cni', 'defaultCluster: false\n'));
    const { text, json } = await detect();
    for (const r of [text, json]) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('error: no source CNI found: looked for a DaemonSet running calico-node (Canal, Calico) or flanneld (Flannel) in every namespace; the cluster has no DaemonSets\n');
    }
  });

  it('the built-in Canal plus a stale Flannel install: exit 1 naming both, and how to choose', async () => {
    await start(scenario('two-cnis', `defaultCluster: true\ninclude:\n- ${join(ROOT, 'scenarios', 'sources', 'flannel-v0.28.yaml')}\n`));
    const { text } = await detect();
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^error: found more than one source CNI: /);
    expect(text.stderr).toContain('canal (DaemonSet kube-system/canal)');
    expect(text.stderr).toContain('flannel (DaemonSet kube-flannel/kube-flannel-ds)');
    expect(text.stderr).toContain('name the one in use with cni.daemonSet (namespace/name) in the config');
    // Naming one with cni.daemonSet is the way out.
    const pick = join(dir, 'pick.yaml');
    writeFileSync(pick, 'cni:\n  daemonSet: kube-flannel/kube-flannel-ds\n');
    const picked = await runCliProcess(['-c', pick, 'detect', '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(picked.code, picked.stderr).toBe(0);
    expect(JSON.parse(picked.stdout)).toMatchObject({ kind: 'flannel', daemonSet: { namespace: 'kube-flannel', name: 'kube-flannel-ds' }, networkName: { value: 'cbr0' } });
  });
});
