import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/configSchema.js';
import type { KubeObject } from '../../kube/kubeTypes.js';
import { FakeCluster } from '../../ops/testing/fakeCluster.js';
import type { MigrationEvent } from '../migrationEvents.js';
import type { ActionRuntime } from './actionKind.js';
import { bridgePoliciesAction, removePolicyBridgeAction } from './policyBridgeActions.js';

// The bridge as the run applies it: nothing without NetworkPolicies; otherwise Cilium's allowance
// and felix's Allow policies before the Deny ones (a Deny policy selects every pod, and without
// the Allow one Calico's end-of-tier drop would cut unisolated pods), enforcement on in
// cilium-config, everything read back; removal in the reverse order.

const config = ConfigSchema.parse({});
const crd = (group: string, kind: string, plural: string): KubeObject =>
  ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: { group, scope: 'Cluster', names: { kind, plural }, versions: [{ name: 'v1', served: true, storage: true }] },
    status: { conditions: [{ type: 'Established', status: 'True' }] },
  });

function setup(withPolicies: boolean): { fake: FakeCluster; rt: ActionRuntime; events: MigrationEvent[] } {
  const fake = new FakeCluster();
  fake.add(crd('crd.projectcalico.org', 'GlobalNetworkPolicy', 'globalnetworkpolicies'));
  fake.add({ ...crd('cilium.io', 'CiliumClusterwideNetworkPolicy', 'ciliumclusterwidenetworkpolicies'), spec: { group: 'cilium.io', scope: 'Cluster', names: { kind: 'CiliumClusterwideNetworkPolicy', plural: 'ciliumclusterwidenetworkpolicies' }, versions: [{ name: 'v2', served: true, storage: true }] } });
  fake.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  fake.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data: { 'enable-policy': 'never' } });
  fake.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', namespace: 'shop', labels: { app: 'db' } }, spec: { containers: [{ name: 'db', ports: [{ name: 'pg', containerPort: 5432 }] }] } });
  if (withPolicies) fake.add({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'db-only-web', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] } });
  const events: MigrationEvent[] = [];
  const rt = { client: fake, config, ops: () => undefined, events: (e: MigrationEvent) => events.push(e), step: 1, pollIntervalMs: 1 } as unknown as ActionRuntime;
  return { fake, rt, events };
}

const action = { kind: 'bridgePolicies' as const, ciliumNamespace: 'kube-system', pool: ['10.245.0.0/16'] };
const applied = (fake: FakeCluster) => fake.callsOf('applyObject').map(([o]) => `${(o as KubeObject).kind} ${(o as KubeObject).metadata.name}`);

describe('bridgePolicies', () => {
  it('changes nothing when there is no NetworkPolicy, and says so', async () => {
    const { fake, rt, events } = setup(false);
    await bridgePoliciesAction.run(action, rt);
    expect(fake.callsOf('applyObject')).toEqual([]);
    expect(fake.callsOf('patchObject')).toEqual([]);
    expect(fake.callsOf('listPods')).toEqual([]);
    expect(events).toEqual([{ type: 'note', message: 'step 1: no NetworkPolicy in the cluster, so no policy bridge; Cilium enforces nothing until finalize' }]);
  });

  it('applies the allowances before the Deny policy, turns enforcement on and reads both back', async () => {
    const { fake, rt } = setup(true);
    await bridgePoliciesAction.run(action, rt);
    expect(applied(fake)).toEqual(['CiliumClusterwideNetworkPolicy cni-migration-bridge', 'GlobalNetworkPolicy default.cni-migration-bridge-egress-open', 'GlobalNetworkPolicy default.cni-migration-bridge-to-cilium']);
    expect(fake.peek<KubeObject & { data: Record<string, string> }>('v1', 'ConfigMap', 'cilium-config', 'kube-system')?.data['enable-policy']).toBe('default');
    expect(fake.peek('crd.projectcalico.org/v1', 'GlobalNetworkPolicy', 'default.cni-migration-bridge-to-cilium')?.metadata.labels).toMatchObject({ 'cni-migration.io/purpose': 'policy-bridge' });
    // The ConfigMap read first (a Cilium that would ignore enableDefaultDeny is refused), then read back: every object and the ConfigMap.
    expect(fake.callsOf('getObject')).toHaveLength(5);
  });

  it('stops, naming the object, when what is stored is not what was applied', async () => {
    const { fake, rt } = setup(true);
    // An admission webhook or a defaulting that rewrites the spec.
    fake.before('patchObject', () => fake.mutate('crd.projectcalico.org/v1', 'GlobalNetworkPolicy', 'default.cni-migration-bridge-to-cilium', undefined, (o) => ((o as unknown as { spec: { order: number } }).spec.order = 2000)));
    await expect(bridgePoliciesAction.run(action, rt)).rejects.toThrow('the NetworkPolicy bridge did not take: GlobalNetworkPolicy default.cni-migration-bridge-to-cilium does not hold the spec applied');
  });

  it('refuses, changing nothing, a Cilium that would ignore enableDefaultDeny (enable-non-default-deny-policies false)', async () => {
    const { fake, rt } = setup(true);
    fake.mutate('v1', 'ConfigMap', 'cilium-config', 'kube-system', (c) => ((c as unknown as { data: Record<string, string> }).data['enable-non-default-deny-policies'] = 'false'));
    await expect(bridgePoliciesAction.run(action, rt)).rejects.toThrow('ConfigMap kube-system/cilium-config has enable-non-default-deny-policies "false"');
    expect(fake.callsOf('applyObject')).toEqual([]);
    expect(fake.callsOf('patchObject')).toEqual([]);
  });

  it('a resumed run removes what the policies no longer need, and the whole bridge once they are gone', async () => {
    const { fake, rt, events } = setup(true);
    await bridgePoliciesAction.run(action, rt);
    // The ingress policy is replaced by an egress one: to-cilium goes, from-cilium comes.
    fake.mutate('networking.k8s.io/v1', 'NetworkPolicy', 'db-only-web', 'shop', (p) => ((p as unknown as { spec: unknown }).spec = { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }));
    await bridgePoliciesAction.run(action, rt);
    const names = () => ['to-cilium', 'egress-open', 'from-cilium', 'ingress-open'].map((n) => `default.cni-migration-bridge-${n}`).filter((n) => fake.peek('crd.projectcalico.org/v1', 'GlobalNetworkPolicy', n));
    expect(names()).toEqual(['default.cni-migration-bridge-from-cilium', 'default.cni-migration-bridge-ingress-open']);
    await fake.deleteObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'shop', name: 'db-only-web' });
    await bridgePoliciesAction.run(action, rt);
    expect(names()).toEqual([]);
    expect(fake.peek('cilium.io/v2', 'CiliumClusterwideNetworkPolicy', 'cni-migration-bridge')).toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'note', message: 'step 1: no NetworkPolicy in the cluster any more: removed the earlier policy bridge (GlobalNetworkPolicy default.cni-migration-bridge-ingress-open, GlobalNetworkPolicy default.cni-migration-bridge-from-cilium, CiliumClusterwideNetworkPolicy cni-migration-bridge)' });
  });
});

describe('removePolicyBridge', () => {
  it('deletes the Deny policies first, then the allowances, and leaves other policies alone', async () => {
    const { fake, rt } = setup(true);
    await bridgePoliciesAction.run(action, rt);
    fake.add({ apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy', metadata: { name: 'users-own' }, spec: { order: 10 } });
    await removePolicyBridgeAction.run({ kind: 'removePolicyBridge' }, rt);
    expect(fake.callsOf('deleteObject').map(([r]) => (r as { name: string }).name)).toEqual(['default.cni-migration-bridge-to-cilium', 'default.cni-migration-bridge-egress-open', 'cni-migration-bridge']);
    expect(fake.peek('crd.projectcalico.org/v1', 'GlobalNetworkPolicy', 'users-own')).toBeDefined();
  });
});
