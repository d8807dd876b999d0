import { describe, expect, it } from 'vitest';
import type { KubeObject, Pod } from '../kube/kubeTypes.js';
import { policyChecks, type PolicyCheckContext } from './policyChecks.js';

// The NetworkPolicy inventory: what the policies isolate, what the migration does to their
// enforcement for this source and strategy, ipBlocks naming pod ranges, Calico's own policies.

const pod = (namespace: string, app: string, extra: Partial<Pod['spec']> = {}): Pod => ({ metadata: { namespace, name: `${app}-1`, labels: { app } }, spec: { containers: [], ...extra }, status: { phase: 'Running' } });
const netpol = (namespace: string, name: string, spec: object, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name, ...(labels ? { labels } : {}) }, spec });
const pods = [pod('shop', 'web'), pod('shop', 'db'), pod('front', 'client'), pod('shop', 'agent', { hostNetwork: true })];
const policies = [
  netpol('shop', 'deny', { podSelector: {}, policyTypes: ['Ingress'] }),
  netpol('front', 'out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16' } }] }] }),
  // The migration's own companion: not the user's, not inventoried.
  netpol('shop', 'deny-cni-migration', { podSelector: {}, ingress: [{}] }, { 'cni-migration.io/purpose': 'policy-bridge' }),
];
const canal: PolicyCheckContext = { source: { kind: 'canal', podCIDRs: { value: ['10.244.0.0/16'], from: 'test' }, policyEnforcement: 'calico' }, strategy: 'dual-overlay', ciliumPool: ['172.29.0.0/16'] };
const flannel: PolicyCheckContext = { ...canal, source: { ...canal.source, kind: 'flannel', policyEnforcement: 'none' }, strategy: 'multus' };

describe('policy preflight checks', () => {
  it('inventories the policies and the pods they isolate (hostNetwork pods are not isolated), naming the mixed-phase gap', () => {
    const [inventory, ipBlocks, calico] = policyChecks({ pods, networkPolicies: policies, calicoPolicies: [] }, canal);
    expect(inventory).toMatchObject({ name: 'NetworkPolicies', verdict: 'warn' });
    expect(inventory!.detail).toMatch(/^2 in 2 namespace\(s\) \(front, shop\) isolate 3 pod\(s\): shop\/deny \(2 ingress\), front\/out \(1 egress\)\. During the migration: without the policy bridge \(a Cilium Helm manages, or --no-policy-bridge\) Cilium runs with enable-policy never/);
    expect(ipBlocks).toMatchObject({ verdict: 'warn', detail: expect.stringContaining("front/out 10.244.0.0/16 (overlaps canal's pod CIDR 10.244.0.0/16)") as string });
    expect(calico).toEqual({ name: 'Calico-specific policies', verdict: 'pass', detail: 'none' });
  });

  it('with the bridge (dual-overlay from Calico/Canal): passes, saying how the mixed phase is covered', () => {
    const [inventory] = policyChecks({ pods, networkPolicies: policies, calicoPolicies: [] }, { ...canal, policyBridge: true });
    expect(inventory).toMatchObject({ name: 'NetworkPolicies', verdict: 'pass' });
    expect(inventory!.detail).toContain('shop/deny (2 ingress), front/out (1 egress). Bridged while nodes are mixed: step 1 adds GlobalNetworkPolicies');
  });

  it('from Flannel: names the policies that will take effect for the first time', () => {
    const [inventory] = policyChecks({ pods, networkPolicies: policies }, flannel);
    expect(inventory!.verdict).toBe('warn');
    expect(inventory!.detail).toContain('shop/deny (2 ingress), front/out (1 egress). flannel enforces none of them today: they take effect for the first time as pods move to Cilium');
  });

  it('no policies: one passing check; a forbidden list says so instead of passing', () => {
    expect(policyChecks({ pods, networkPolicies: [] }, canal)).toEqual([
      { name: 'NetworkPolicies', verdict: 'pass', detail: 'none: there is no isolation to keep' },
      { name: 'Calico-specific policies', verdict: 'pass', detail: 'none' },
    ]);
    expect(policyChecks({ pods, networkPolicies: 'forbidden' }, canal)).toEqual([expect.objectContaining({ name: 'NetworkPolicies', verdict: 'warn', detail: 'could not list NetworkPolicies (forbidden): their continuity was not checked' })]);
  });

  it('Calico\'s own policies are named: Cilium does not read them', () => {
    const gnp: KubeObject = { apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy', metadata: { name: 'default.deny-egress' }, spec: {} };
    const checks = policyChecks({ pods, networkPolicies: [], calicoPolicies: [gnp] }, canal);
    expect(checks[1]).toMatchObject({ verdict: 'warn', detail: 'GlobalNetworkPolicy default.deny-egress: Cilium does not read them; they stop applying when felix goes at clean-up' });
  });
});
