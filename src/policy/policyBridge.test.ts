import { describe, expect, it } from 'vitest';
import { judgeEnforcement, type EnforcedPolicies, type EnforcementSide } from '../sim/model/policyEnforcement.js';
import type { CalicoPolicyDoc } from './calicoPolicySemantics.js';
import type { CiliumPolicyDoc } from './ciliumPolicySemantics.js';
import { intendedVerdict, type ConnectionPort, type PolicyDoc, type PolicyEndpoint } from './networkPolicySemantics.js';
import { cidrMinus, policyBridge, type PolicyBridge } from './policyBridge.js';

// The bridge judged exhaustively against the enforcement rules the simulator uses: every pod on
// either side of the migration, every ordered pair, a few ports — the enforced verdict must equal
// what the policies mean. Negative controls: no bridge (Cilium enforcing or not) and an allow-all
// bridge each break that, the way the issue describes.

const POOL = '10.245.0.0/16';
const ns = (name: string, extra: Record<string, string> = {}) => ({ 'kubernetes.io/metadata.name': name, ...extra });

// The shop policies of scenarios/workloads/shop-policies.yaml.
const POLICIES: PolicyDoc[] = [
  { namespace: 'shop', name: 'default-deny', spec: { podSelector: {}, policyTypes: ['Ingress'] } },
  {
    namespace: 'shop',
    name: 'web-from-clients',
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }, { namespaceSelector: { matchLabels: { 'shop-access': 'true' } } }, { ipBlock: { cidr: '198.51.100.0/24' } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
    },
  },
  { namespace: 'shop', name: 'db-from-web', spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] } },
  {
    namespace: 'storefront',
    name: 'client-egress',
    spec: {
      podSelector: { matchLabels: { app: 'client' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { app: 'web' } } }] }, { to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }] }],
    },
  },
];

interface TestPod extends PolicyEndpoint {
  id: string;
}

function pod(id: string, namespace: string, labels: Record<string, string>, nsLabels: Record<string, string>, namedPorts: Record<string, number> = {}): Omit<TestPod, 'ip'> {
  return { id, namespace, labels, namespaceLabels: nsLabels, namedPorts };
}

const PODS = [
  pod('web-1', 'shop', { app: 'web' }, ns('shop'), { http: 8080 }),
  pod('web-2', 'shop', { app: 'web' }, ns('shop'), { http: 8080 }),
  pod('db-0', 'shop', { app: 'db' }, ns('shop'), { pg: 5432 }),
  pod('client', 'storefront', { app: 'client' }, ns('storefront', { 'shop-access': 'true' })),
  pod('probe', 'probes', { app: 'probe' }, ns('probes')),
  pod('other', 'default', { app: 'other' }, ns('default')),
];
const PORTS: ConnectionPort[] = [
  { port: 8080, protocol: 'TCP' },
  { port: 5432, protocol: 'TCP' },
  { port: 9999, protocol: 'TCP' },
  { port: 8080, protocol: 'UDP' },
];

/** The pods with addresses: migrated ones in Cilium's pool. */
function placed(migrated: ReadonlySet<string>): TestPod[] {
  return PODS.map((p, i) => ({ ...p, ip: migrated.has(p.id) ? `10.245.${i}.10` : `10.244.${i}.10` }));
}

function toEnforced(b: PolicyBridge | undefined, extra: { calico?: CalicoPolicyDoc[]; cilium?: CiliumPolicyDoc[] } = {}): EnforcedPolicies {
  return {
    k8s: POLICIES,
    calico: [...(b?.calico ?? []).map((p): CalicoPolicyDoc => ({ kind: 'GlobalNetworkPolicy', name: p.name, ...p.spec })), ...(extra.calico ?? [])],
    cilium: [...(b?.cilium ?? []).map((p): CiliumPolicyDoc => ({ name: p.name, ...p.spec })), ...(extra.cilium ?? [])],
  };
}

/**
 * The mixed phase's enforcement, as the simulator's model has it: felix on legacy pods knows every
 * pod by its status address; Cilium on migrated pods knows only its own, a legacy source arriving
 * masqueraded (`remote-node`, Canal and Flannel) or not (`address`, Calico without natOutgoing).
 */
function sides(from: TestPod, to: TestPod, migrated: ReadonlySet<string>, mode: 'default' | 'never', legacyArrives: 'remote-node' | 'address'): [EnforcementSide, EnforcementSide] {
  const fromM = migrated.has(from.id);
  const toM = migrated.has(to.id);
  const egress: EnforcementSide = fromM ? { enforcer: { engine: 'cilium', mode }, remote: toM ? 'identity' : 'address', node: 'a' } : { enforcer: { engine: 'felix' }, remote: 'identity', node: 'a' };
  const ingress: EnforcementSide = toM ? { enforcer: { engine: 'cilium', mode }, remote: fromM ? 'identity' : legacyArrives, node: 'b' } : { enforcer: { engine: 'felix' }, remote: 'identity', node: 'b' };
  return [egress, ingress];
}

interface Mismatch {
  from: string;
  to: string;
  port: string;
  intended: boolean;
}

/** Every pair that the enforcement gets wrong, over every split of the pods into legacy and migrated. */
function mismatches(enforced: EnforcedPolicies, mode: 'default' | 'never', legacyArrives: 'remote-node' | 'address', world: { pods: typeof PODS; ports: ConnectionPort[] } = { pods: PODS, ports: PORTS }): Mismatch[] {
  const out: Mismatch[] = [];
  const all = world.pods;
  for (let mask = 0; mask < 2 ** all.length; mask++) {
    const migrated = new Set(all.filter((_, i) => mask & (2 ** i)).map((p) => p.id));
    const pods = all.map((p, i) => ({ ...p, ip: migrated.has(p.id) ? `10.245.${i}.10` : `10.244.${i}.10` }));
    for (const a of pods) {
      for (const b of pods) {
        if (a === b) continue;
        for (const conn of world.ports) {
          const intended = intendedVerdict(enforced.k8s, a, b, conn).allowed;
          const [egress, ingress] = sides(a, b, migrated, mode, legacyArrives);
          const got = judgeEnforcement(enforced, a, b, conn, egress, ingress).allowed;
          if (got !== intended) out.push({ from: `${a.id}${migrated.has(a.id) ? '(M)' : ''}`, to: `${b.id}${migrated.has(b.id) ? '(M)' : ''}`, port: `${conn.protocol}/${conn.port}`, intended });
        }
      }
    }
  }
  return out;
}

const bridge = policyBridge({ policies: POLICIES, pods: placed(new Set()), ciliumCidrs: [POOL] });

describe('policyBridge', () => {
  it('keeps every allowed pair allowed and every denied pair denied, wherever each pod is', () => {
    expect(mismatches(toEnforced(bridge), 'default', 'remote-node')).toEqual([]);
    expect(mismatches(toEnforced(bridge), 'default', 'address')).toEqual([]);
    expect(bridge.notes).toEqual([]);
  });

  it('negative control: without a bridge, Cilium enforcing cuts allowed flows across the two CNIs', () => {
    const wrong = mismatches(toEnforced(undefined), 'default', 'remote-node');
    // web on the legacy side calling a migrated web on its http port: Cilium sees remote-node, no selector matches.
    expect(wrong).toContainEqual({ from: 'web-1', to: 'web-2(M)', port: 'TCP/8080', intended: true });
    expect(wrong.every((m) => m.intended)).toBe(true);
  });

  it("negative control: without a bridge and Cilium's documented enable-policy never, denied flows open to migrated pods", () => {
    const wrong = mismatches(toEnforced(undefined), 'never', 'remote-node');
    expect(wrong).toContainEqual({ from: 'probe', to: 'db-0(M)', port: 'TCP/5432', intended: false });
    expect(wrong).toContainEqual({ from: 'client(M)', to: 'probe', port: 'TCP/8080', intended: false });
  });

  it('negative control: an allow-all bridge (the elastisys shape) opens denied flows', () => {
    const allowAll: CalicoPolicyDoc = { kind: 'GlobalNetworkPolicy', name: 'allow-all', order: 100, selector: 'all()', types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] };
    const cilium: CiliumPolicyDoc = { name: 'allow-legacy', endpointSelector: {}, enableDefaultDeny: { ingress: false, egress: false }, ingress: [{ fromEntities: ['unmanaged', 'remote-node'] }], egress: [{ toEntities: ['unmanaged', 'remote-node'] }] };
    const wrong = mismatches(toEnforced(undefined, { calico: [allowAll], cilium: [cilium] }), 'default', 'remote-node');
    expect(wrong).toContainEqual({ from: 'probe', to: 'db-0', port: 'TCP/5432', intended: false });
    expect(wrong.some((m) => !m.intended)).toBe(true);
  });

  it('negative control: the Deny policies without the Allow policy for unisolated pods drop their traffic at the end of the tier', () => {
    const denyOnly: PolicyBridge = { ...bridge, calico: bridge.calico.filter((p) => !p.name.endsWith('-open')) };
    expect(mismatches(toEnforced(denyOnly), 'default', 'remote-node')).toContainEqual({ from: 'probe', to: 'other', port: 'TCP/8080', intended: true });
  });

  it('is built of the shapes the migration applies', () => {
    expect(bridge.calico.map((p) => [p.name, p.spec.order, p.spec.types, p.spec.selector, p.spec.order === undefined ? [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])] : 'denies'])).toEqual([
      ['default.cni-migration-bridge-to-cilium', 10, ['Egress'], "projectcalico.org/orchestrator == 'k8s'", 'denies'],
      ['default.cni-migration-bridge-egress-open', undefined, ['Egress'], `(projectcalico.org/orchestrator == 'k8s') && (!((projectcalico.org/namespace == 'storefront') && (app == "client")))`, [{ action: 'Pass' }]],
      ['default.cni-migration-bridge-from-cilium', 10, ['Ingress'], "projectcalico.org/orchestrator == 'k8s'", 'denies'],
      ['default.cni-migration-bridge-ingress-open', undefined, ['Ingress'], `(projectcalico.org/orchestrator == 'k8s') && (!((projectcalico.org/namespace == 'shop') || ((projectcalico.org/namespace == 'shop') && (app == "web")) || ((projectcalico.org/namespace == 'shop') && (app == "db"))))`, [{ action: 'Pass' }]],
    ]);
    expect(bridge.cilium).toEqual([
      {
        name: 'cni-migration-bridge',
        spec: { endpointSelector: {}, enableDefaultDeny: { ingress: false, egress: false }, ingress: [{ fromEntities: ['unmanaged', 'remote-node'] }], egress: [{ toEntities: ['unmanaged'] }] },
      },
    ]);
    // Every Deny rule is about Cilium's pool: traffic between legacy pods never meets one.
    for (const p of bridge.calico.filter((x) => x.spec.order === 10)) {
      for (const r of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
        expect(r.action).toBe('Deny');
        expect([r.source?.nets, r.destination?.nets]).toContainEqual([POOL]);
      }
    }
  });

  it('builds nothing for Calico when no policy isolates anyone, and nothing at all without policies', () => {
    expect(policyBridge({ policies: [], pods: [], ciliumCidrs: [POOL] })).toEqual({ calico: [], cilium: [], notes: [] });
  });
});

describe('policyBridge on trickier policies', () => {
  const srv = pod('srv', 'a', { app: 'srv' }, ns('a'), { dns: 53 });
  const cli = pod('cli', 'a', { app: 'cli' }, ns('a'));
  const other = pod('other', 'b', { app: 'other' }, ns('b'));
  const run = (policies: PolicyDoc[], pods: (typeof PODS)[number][], ports: ConnectionPort[]) => {
    const b = policyBridge({ policies, pods: pods.map((p) => ({ ...p, ip: '' })), ciliumCidrs: [POOL] });
    return mismatches({ ...toEnforced(b), k8s: policies }, 'default', 'remote-node', { pods, ports });
  };

  it('a port given by protocol alone admits every port of that protocol', () => {
    const policies: PolicyDoc[] = [{ namespace: 'a', name: 'udp-from-cli', spec: { podSelector: { matchLabels: { app: 'srv' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cli' } } }], ports: [{ protocol: 'UDP' }] }, { from: [{ podSelector: { matchLabels: { app: 'cli' } } }], ports: [{ protocol: 'TCP', port: 80 }] }] } }];
    expect(run(policies, [srv, cli, other], [{ port: 53, protocol: 'UDP' }, { port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }])).toEqual([]);
  });

  it('a named port some pods lack is left for Calico to resolve per destination', () => {
    const db = pod('db', 'a', { app: 'db' }, ns('a'));
    const policies: PolicyDoc[] = [{ namespace: 'a', name: 'dns-from-cli', spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cli' } } }], ports: [{ protocol: 'TCP', port: 'dns' }] }] } }];
    const world = [srv, cli, db];
    expect(run(policies, world, [{ port: 53, protocol: 'TCP' }, { port: 54, protocol: 'TCP' }])).toEqual([]);
  });

  it("leaves the user's own Calico policies in force: the open policy does not pass what they select", () => {
    const policies: PolicyDoc[] = [{ namespace: 'a', name: 'srv-from-cli', spec: { podSelector: { matchLabels: { app: 'srv' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cli' } } }] }] } }];
    const userGnp: CalicoPolicyDoc = { kind: 'GlobalNetworkPolicy', name: 'no-egress-to-b', order: 100, selector: "app == 'cli'", types: ['Egress'], egress: [{ action: 'Deny', destination: { namespaceSelector: "kubernetes.io/metadata.name == 'b'" } }, { action: 'Pass' }] };
    const b = policyBridge({ policies, calicoPolicies: [userGnp], pods: [srv, cli, other].map((p) => ({ ...p, ip: '' })), ciliumCidrs: [POOL] });
    const enforced: EnforcedPolicies = { ...toEnforced(b, { calico: [userGnp] }), k8s: policies };
    const [c, o] = [{ ...cli, ip: '10.244.1.10' }, { ...other, ip: '10.244.2.10' }];
    // Both legacy: felix alone decides, and the user's deny still wins over the bridge.
    const felix: EnforcementSide = { enforcer: { engine: 'felix' }, remote: 'identity', node: 'n' };
    expect(judgeEnforcement(enforced, c, o, { port: 80, protocol: 'TCP' }, felix, felix).allowed).toBe(false);
    expect(b.calico.find((p) => p.name.endsWith('egress-open'))?.spec.selector).toContain("app == 'cli'");
  });
});

describe('cidrMinus', () => {
  it('splits a CIDR around its excepts', () => {
    expect(cidrMinus('203.0.113.0/24', ['203.0.113.128/25'])).toEqual(['203.0.113.0/25']);
    expect(cidrMinus('10.0.0.0/30', ['10.0.0.1/32'])).toEqual(['10.0.0.0/32', '10.0.0.2/31']);
    expect(cidrMinus('10.0.0.0/24', [])).toEqual(['10.0.0.0/24']);
    expect(cidrMinus('10.0.0.0/24', ['10.0.0.0/16'])).toEqual(['10.0.0.0/24']);
  });
});
