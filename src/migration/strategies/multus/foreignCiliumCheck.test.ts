import { describe, expect, it } from 'vitest';
import { ciliumSettingsOf } from '../../../cilium/ciliumSettings.js';
import type { CiliumInstall } from '../../../cilium/ciliumInstall.js';
import { ConfigSchema } from '../../../config/configSchema.js';
import { seedCanalSource } from '../../../source/testing/sourceFixtures.js';
import type { StrategyContext } from '../../strategy.js';
import { foreignCiliumCheck } from './multusStrategy.js';

const source = seedCanalSource({ confDir: { value: '/etc/cni/net.d', from: 't' }, confFile: { value: '10-canal.conflist', from: 't' } });
const install = (o: Partial<CiliumInstall>): CiliumInstall => ({
  namespace: 'kube-system',
  daemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' },
  settings: ciliumSettingsOf({ 'cluster-pool-ipv4-cidr': '10.245.0.0/16', 'tunnel-protocol': 'vxlan', 'tunnel-port': '8473' }, 'ConfigMap kube-system/cilium-config'),
  config: {},
  managedByHelm: false,
  installedByUs: false,
  ...o,
});
const ctx = (cilium?: CiliumInstall, raw: unknown = {}): StrategyContext => ({ config: ConfigSchema.parse(raw), source, bundles: {}, facts: { nodes: [], cilium } });

describe('multus preflight: a Cilium someone else installed', () => {
  it('refuses a Helm-installed Cilium, naming it, its settings and the strategy that works with it', () => {
    const c = foreignCiliumCheck(ctx(install({ managedByHelm: true })));
    expect(c.verdict).toBe('fail');
    expect(c.detail).toBe('DaemonSet kube-system/cilium already runs Cilium (installed by Helm; pool 10.245.0.0/16, tunnel vxlan port 8473): the multus strategy would apply its own Cilium over it');
    expect(c.fix).toMatch(/^use --strategy dual-overlay/);
  });

  it('refuses one applied by hand too', () => {
    expect(foreignCiliumCheck(ctx(install({}))).detail).toContain('installed outside this tool');
  });

  it("passes with no Cilium, with the bundled one a previous run installed (a resume), and with the user's own manifests", () => {
    expect(foreignCiliumCheck(ctx()).verdict).toBe('pass');
    expect(foreignCiliumCheck(ctx(install({ installedByUs: true }))).verdict).toBe('pass');
    expect(foreignCiliumCheck(ctx(install({ managedByHelm: true }), { paths: { cilium: 'my-cilium.yaml' } })).verdict).toBe('pass');
  });
});
