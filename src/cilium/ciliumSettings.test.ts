import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifestDocuments } from '../kube/manifestParser.js';
import { ciliumConfigPhase, ciliumSettingsOf, missingPhaseKeys } from './ciliumSettings.js';
import { ciliumHelmValues, ciliumHelmValuesYaml } from './ciliumValues.js';

const chart = (file: string) => {
  const path = join(import.meta.dirname, '..', '..', 'scenarios', 'cilium', file);
  const cm = parseManifestDocuments(readFileSync(path, 'utf8'), path).map((d) => d.value).find((o) => o.kind === 'ConfigMap' && (o.metadata as { name: string }).name === 'cilium-config');
  return (cm as { data: Record<string, string> }).data;
};

describe('Cilium settings from cilium-config', () => {
  it("reads the chart's defaults: the whole 10.0.0.0/8, VXLAN on 8472, managing the CNI file, enforcing", () => {
    expect(ciliumSettingsOf(chart('cilium-1.18-default.yaml'), 'default chart')).toMatchObject({
      ipam: 'cluster-pool',
      pool: ['10.0.0.0/8'],
      maskSize: 24,
      routingMode: 'tunnel',
      tunnelProtocol: 'vxlan',
      tunnelPort: 8472,
      managesCniFile: true,
      exclusive: true,
      policyEnforcement: 'default',
      unmanagedPodWatcher: '15',
    });
  });

  it("reads Cilium's documented migration values as latent: its own pool and port, no file, nothing enforced", () => {
    expect(ciliumSettingsOf(chart('cilium-1.18-migration.yaml'), 'migration chart')).toMatchObject({ pool: ['10.245.0.0/16'], tunnelPort: 8473, managesCniFile: false, exclusive: false, policyEnforcement: 'never', unmanagedPodWatcher: '0' });
  });

  it('reads the ≤1.13 tunnel key and native routing', () => {
    expect(ciliumSettingsOf({ tunnel: 'geneve' }, 'x')).toMatchObject({ routingMode: 'tunnel', tunnelProtocol: 'geneve', tunnelPort: 6081 });
    expect(ciliumSettingsOf({ tunnel: 'disabled' }, 'x').routingMode).toBe('native');
    expect(ciliumSettingsOf({ 'routing-mode': 'native' }, 'x').routingMode).toBe('native');
  });

  it('names the keys a config lacks for its final shape', () => {
    expect(missingPhaseKeys(chart('cilium-1.18-migration.yaml'), 'final')).toEqual([
      'custom-cni-conf: false (is "true")',
      'write-cni-conf-when-ready: /host/etc/cni/net.d/05-cilium.conflist (is absent)',
      'cni-exclusive: true (is absent)',
      'cni-log-file: /var/run/cilium/cilium-cni.log (is absent)',
      'enable-policy: default (is "never")',
      'unmanaged-pod-watcher-interval: 15 (is "0")',
    ]);
    const final = Object.fromEntries(Object.entries(ciliumConfigPhase('final')).filter(([, v]) => v !== null)) as Record<string, string>;
    expect(missingPhaseKeys({ ...chart('cilium-1.18-migration.yaml'), ...final }, 'final')).toEqual([]);
    // The chart renders no cni-uninstall for false: absent is false; "true" is not.
    expect(missingPhaseKeys({ ...chart('cilium-1.18-default.yaml'), ...final, 'cni-uninstall': 'true' }, 'final')).toEqual(['cni-uninstall: false (is "true")']);
  });
});

describe('Cilium Helm values', () => {
  const v = { pool: '10.245.0.0/16', maskSize: 24, tunnelProtocol: 'vxlan' as const, tunnelPort: 8473 };

  it("gives the guide's migration values and the post-migration ones", () => {
    expect(ciliumHelmValues('migration', v)).toEqual({
      operator: { unmanagedPodWatcher: { restart: false } },
      routingMode: 'tunnel',
      tunnelProtocol: 'vxlan',
      tunnelPort: 8473,
      cni: { customConf: true, uninstall: false },
      ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: ['10.245.0.0/16'], clusterPoolIPv4MaskSize: 24 } },
      policyEnforcementMode: 'never',
      bpf: { hostLegacyRouting: true },
    });
    // Applied with --reuse-values: only what changes, never the pool or tunnel (an install made
    // with other values than ours must keep its own).
    expect(ciliumHelmValues('final', v)).toEqual({ operator: { unmanagedPodWatcher: { restart: true } }, cni: { customConf: false, exclusive: true }, policyEnforcementMode: 'default' });
    expect(ciliumHelmValuesYaml('migration', v)).toMatch(/^# Cilium Helm values for the mixed phase[\s\S]*\ntunnelPort: 8473\n/);
  });

  it('matches the chart fixture rendered with the documented values file', () => {
    const path = join(import.meta.dirname, '..', '..', 'scenarios', 'cilium', 'values-migration.yaml');
    const documented = parseManifestDocuments(readFileSync(path, 'utf8'), path)[0]!.value;
    const ours = ciliumHelmValues('migration', v);
    expect(ours.ipam).toMatchObject(documented.ipam as object);
    expect(ours.cni).toEqual(documented.cni);
    expect(ours.policyEnforcementMode).toBe(documented.policyEnforcementMode);
    expect(ours.operator).toEqual(documented.operator);
  });
});
