import { describe, expect, it } from 'vitest';
import type { PolicyDoc } from '../../policy/networkPolicySemantics.js';
import type { Enforcer } from './policyEnforcement.js';
import { judgePolicy, judgeReach, policyMayDrop, type NetworkProfile, type PodPolicyFacts, type PodSide, type PolicyContext } from './reachability.js';

// Who enforces what in the mixed phase (research §5, corrected for the Kubernetes datastore):
// felix knows every pod by its status address, Cilium only its own endpoints, and a legacy pod's
// traffic into a Cilium pod arrives masqueraded (remote-node across nodes, host on the same node).

const tunnel = { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: 8472 } as const;
const felix: Enforcer = { engine: 'felix' };
const ciliumDefault: Enforcer = { engine: 'cilium', mode: 'default' };
const ciliumNever: Enforcer = { engine: 'cilium', mode: 'never' };

function profile(enforcer: Enforcer | undefined, extra: Partial<NetworkProfile> = {}): NetworkProfile {
  return { up: true, overlay: tunnel, conflictsWith: [], blocked: false, ...(enforcer ? { enforcer } : {}), ...extra };
}

/** A node running flannel (with felix, as in Canal) and a latent-or-active Cilium. */
function node(cilium: Enforcer): Map<string, NetworkProfile> {
  return new Map([
    ['flannel', profile(felix, { masquerades: true })],
    ['cilium', profile(cilium, { bridges: true })],
  ]);
}

function pod(namespace: string, app: string, networks: Record<string, string>, status: string, profiles: Map<string, NetworkProfile>): PodSide {
  const policy: PodPolicyFacts = { pod: { namespace, labels: { app }, namespaceLabels: { 'kubernetes.io/metadata.name': namespace } }, statusIp: status, ips: new Map(Object.entries(networks)) };
  return { networks: new Set(Object.keys(networks)), profile: (n) => profiles.get(n) ?? { up: false, conflictsWith: [], blocked: false }, bridges: [...profiles].filter(([, p]) => p.bridges).map(([n]) => n), policy };
}

// db accepts web only.
const policies: PolicyDoc[] = [{ namespace: 'shop', name: 'db-from-web', spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] } }];
const ctx: PolicyContext = { policies, intended: policies, generation: 1, cidrs: [] };

function judge(from: PodSide, to: PodSide, sameNode = false) {
  const network = [...to.networks][0]!;
  const path = judgeReach(from, to, network, sameNode);
  expect(path.reason).toBe('reachable');
  return judgePolicy(ctx, from, to, network, path.path!, sameNode)!;
}

describe('policy enforcement across the two CNIs', () => {
  const legacy = node(ciliumNever);
  it('legacy to legacy: felix knows both pods (allowed web, dropped other)', () => {
    const db = pod('shop', 'db', { flannel: '10.244.2.5' }, '10.244.2.5', legacy);
    expect(judge(pod('shop', 'web', { flannel: '10.244.1.5' }, '10.244.1.5', legacy), db)).toEqual({ intended: true, enforced: true });
    expect(judge(pod('shop', 'other', { flannel: '10.244.1.6' }, '10.244.1.6', legacy), db)).toMatchObject({ intended: false, enforced: false });
  });

  it('a migrated web pod reaches a legacy db: felix ties its Cilium status address to the pod', () => {
    const db = pod('shop', 'db', { flannel: '10.244.2.5' }, '10.244.2.5', legacy);
    const web = pod('shop', 'web', { cilium: '172.29.1.5' }, '172.29.1.5', node(ciliumNever));
    expect(judge(web, db)).toEqual({ intended: true, enforced: true });
    const other = pod('shop', 'other', { cilium: '172.29.1.6' }, '172.29.1.6', node(ciliumNever));
    expect(judge(other, db)).toMatchObject({ intended: false, enforced: false });
  });

  it('Cilium "never": a migrated db is open to every pod (denied flows opened)', () => {
    const db = pod('shop', 'db', { cilium: '172.29.2.5' }, '172.29.2.5', node(ciliumNever));
    expect(judge(pod('shop', 'other', { flannel: '10.244.1.6' }, '10.244.1.6', legacy), db)).toEqual({ intended: false, enforced: true });
    expect(judge(pod('shop', 'other', { cilium: '172.29.1.6' }, '172.29.1.6', node(ciliumNever)), db)).toEqual({ intended: false, enforced: true });
  });

  it('Cilium "default": legacy web arrives masqueraded as remote-node and is dropped; on the same node it is the host and passes', () => {
    const migrated = node(ciliumDefault);
    const db = pod('shop', 'db', { cilium: '172.29.2.5' }, '172.29.2.5', migrated);
    const web = pod('shop', 'web', { flannel: '10.244.1.5' }, '10.244.1.5', node(ciliumDefault));
    const cut = judge(web, db);
    expect(cut).toMatchObject({ intended: true, enforced: false });
    expect(cut.detail).toBe('Cilium (enable-policy default) on the target node drops ingress from remote-node (isolated by shop/db-from-web; no rule admits it)');
    expect(judge(web, db, true)).toEqual({ intended: true, enforced: true });
    // Migrated to migrated: identities known, the policy holds both ways.
    expect(judge(pod('shop', 'web', { cilium: '172.29.1.5' }, '172.29.1.5', migrated), db)).toEqual({ intended: true, enforced: true });
    expect(judge(pod('shop', 'other', { cilium: '172.29.1.6' }, '172.29.1.6', migrated), db)).toMatchObject({ intended: false, enforced: false });
  });

  it('multus: traffic over the legacy network from an address that is not the pod\'s status address is not the pod to felix', () => {
    const both = node(ciliumDefault);
    const db = pod('shop', 'db', { flannel: '10.244.2.5', cilium: '172.29.2.5' }, '10.244.2.5', both);
    // web's primary (status) address is now its Cilium one; it reaches db's flannel address over flannel.
    const web = pod('shop', 'web', { cilium: '172.29.1.5', flannel: '10.244.1.5' }, '172.29.1.5', both);
    const v = judge(web, db);
    expect(v).toMatchObject({ intended: true, enforced: false });
    expect(v.detail).toContain('felix on the target node drops ingress from address 10.244.1.5 it cannot tie to a pod');
  });
});

describe('policyMayDrop (when canReach reads policy facts at all)', () => {
  const none: PolicyContext = { policies: [], intended: [], generation: 1, cidrs: [] };
  const between = (cilium: Enforcer) => {
    const from = pod('shop', 'web', { cilium: '10.245.0.5' }, '10.245.0.5', node(cilium));
    const to = pod('shop', 'db', { cilium: '10.245.1.5' }, '10.245.1.5', node(cilium));
    return { from, to, path: judgeReach(from, to, 'cilium', false).path! };
  };

  it('no policy and no enforcer isolating everything: nothing can drop, so the facts are never built', () => {
    const { from, to, path } = between(ciliumDefault);
    expect(policyMayDrop(none, from, to, 'cilium', path)).toBe(false);
  });

  it('Cilium "always" drops without any policy, and any policy may drop', () => {
    const always = between({ engine: 'cilium', mode: 'always' });
    expect(policyMayDrop(none, always.from, always.to, 'cilium', always.path)).toBe(true);
    expect(judgePolicy(none, always.from, always.to, 'cilium', always.path, false)).toMatchObject({ intended: true, enforced: false });
    const { from, to, path } = between(ciliumDefault);
    expect(policyMayDrop(ctx, from, to, 'cilium', path)).toBe(true);
  });
});
