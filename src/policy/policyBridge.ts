import type { LabelSelector } from '../kube/kubeTypes.js';
import { cidrCovers, formatCidr, parseCidr, type Cidr } from '../net/ipv4.js';
import { calicoTypesOf, type CalicoPolicyDoc, type CalicoRule } from './calicoPolicySemantics.js';
import { labelSelectorToCalico } from './calicoSelector.js';
import { policySelects, policyTypesOf, type PolicyDirection, type PolicyDoc, type PolicyPeer, type PolicyPod, type PolicyPort } from './networkPolicySemantics.js';

// The policy bridge of a dual-overlay migration from Calico or Canal: while some nodes run the
// source CNI (felix enforcing) and others Cilium, the Kubernetes NetworkPolicies must mean what
// they meant, in both directions across the two CNIs.
//
// Cilium enforces (enable-policy default) but sees a legacy pod only as `unmanaged` or
// `remote-node`, so it cannot tell an allowed legacy peer from a denied one. felix on the legacy
// side can: it knows migrated pods by their status address. So the bridge is
//  - on Cilium's side, one clusterwide policy that admits the legacy entities in both directions
//    without isolating anyone (enableDefaultDeny off), and
//  - on felix's side, GlobalNetworkPolicies that deny, at the legacy end, exactly the flows to
//    and from migrated pods (destinations or sources in Cilium's pool) that the migrated pods' own
//    policies deny: a migrated pod's ingress rules become Deny rules on the legacy sources'
//    egress, its egress rules Deny rules on the legacy destinations' ingress. They come first in
//    the default tier (order 10, before the Kubernetes policies' 1000). A flow no Deny rule
//    matches goes on to the Kubernetes and the user's Calico policies. Selecting every pod makes
//    each one "policied" in the tier, so a pod no other policy selects in that direction would now
//    meet Calico's end-of-tier drop: an open policy, last in the tier (no order), passes exactly
//    those pods on. Only workload endpoints are selected, never the user's host endpoints.
//
// The Deny rules are grouped by which policies select a pod ("isolation sets"): a pod selected by
// several policies is allowed what any of them allows. Every subset of a namespace's policies is
// covered when there are at most MAX_ENUMERATED_POLICIES of them (pods created later are covered
// too); above that only the subsets the pods present have. Ports are cut into segments no rule
// boundary crosses, so a Deny rule per segment can name exactly the peers some rule admits there.
// Not covered (listed by `notes`): named ports that also appear numerically in another rule of the
// same pod's policies, protocols other than TCP, UDP, SCTP and ICMP.

export const BRIDGE_NAME_PREFIX = 'cni-migration-bridge';
/** Calico reads a policy's tier from its name up to the first dot (libcalico-go names.TierFromPolicyName): these are the default tier's. */
const CALICO_NAME_PREFIX = `default.${BRIDGE_NAME_PREFIX}-`;
/** Before every Kubernetes policy (1000) and most user policies. */
export const BRIDGE_DENY_ORDER = 10;
const MAX_ENUMERATED_POLICIES = 6;
const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

export interface BridgeInput {
  /** The user's NetworkPolicies. */
  policies: readonly PolicyDoc[];
  /** The user's own Calico policies (default tier): pods they select are kept out of the open policies. */
  calicoPolicies?: readonly CalicoPolicyDoc[];
  /** The pods now (their label sets decide the isolation sets above the enumeration limit, their named ports resolve names). */
  pods: readonly PolicyPod[];
  /** Cilium's pod pool(s): addresses of migrated pods. */
  ciliumCidrs: readonly string[];
}

export interface BridgeCalicoPolicy {
  name: string;
  /** No order: last in the tier (Calico evaluates policies without one after all others). */
  spec: { order?: number; selector: string; types: PolicyDirection[]; ingress?: CalicoRule[]; egress?: CalicoRule[] };
}

export interface BridgeCiliumPolicy {
  name: string;
  spec: { endpointSelector: LabelSelector; enableDefaultDeny: { ingress: boolean; egress: boolean }; ingress: { fromEntities: string[] }[]; egress: { toEntities: string[] }[] };
}

export interface PolicyBridge {
  calico: BridgeCalicoPolicy[];
  cilium: BridgeCiliumPolicy[];
  /** What the bridge cannot carry exactly, for the plan and the log. */
  notes: string[];
}

const NS_LABEL = 'projectcalico.org/namespace';
/** Pods only: a GlobalNetworkPolicy's all() would also select the user's host endpoints. */
const WORKLOADS = "projectcalico.org/orchestrator == 'k8s'";

function and(...parts: string[]): string {
  const real = parts.filter((p) => p && p !== 'all()');
  if (!real.length) return 'all()';
  return real.length === 1 ? real[0]! : real.map((p) => `(${p})`).join(' && ');
}

function or(parts: readonly string[]): string {
  const uniq = [...new Set(parts)];
  if (uniq.includes('all()')) return 'all()';
  return uniq.length === 1 ? uniq[0]! : uniq.map((p) => `(${p})`).join(' || ');
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The pods a policy selects, as a Calico selector over workload labels. */
function podsOf(p: PolicyDoc): string {
  return and(`${NS_LABEL} == ${quote(p.namespace)}`, labelSelectorToCalico(p.spec.podSelector ?? {}));
}

/** A peer clause's pods as a Calico selector; undefined for an ipBlock. */
function peerSelector(peer: PolicyPeer, policyNamespace: string): string | undefined {
  if (peer.ipBlock) return undefined;
  if (!peer.podSelector && !peer.namespaceSelector) return undefined;
  const ns = peer.namespaceSelector ? labelSelectorToCalico(peer.namespaceSelector, 'pcns.') : `${NS_LABEL} == ${quote(policyNamespace)}`;
  return and(ns, labelSelectorToCalico(peer.podSelector ?? {}));
}

/** A CIDR minus its excepts, as CIDRs. */
export function cidrMinus(cidr: string, excepts: readonly string[]): string[] {
  const whole = parseCidr(cidr);
  if (!whole) return [];
  const cut = excepts.map(parseCidr).filter((c): c is Cidr => c !== undefined && cidrCovers(whole, c));
  const out: string[] = [];
  const walk = (c: Cidr) => {
    if (cut.some((x) => cidrCovers(x, c))) return;
    if (!cut.some((x) => cidrCovers(c, x))) {
      out.push(formatCidr(c));
      return;
    }
    const half = 2 ** (32 - c.prefix - 1);
    walk({ base: c.base, prefix: c.prefix + 1 });
    walk({ base: c.base + half, prefix: c.prefix + 1 });
  };
  walk(whole);
  return out;
}

/** One rule of a policy, with the namespace its peers are relative to. */
interface Clause {
  peers: readonly PolicyPeer[];
  ports: readonly PolicyPort[];
  namespace: string;
}

/** A port segment: numeric range of one protocol, or a named port left for the endpoint to resolve. */
type Segment = { protocol: string; lo: number; hi: number } | { protocol: string; name: string };

function segmentText(s: Segment): number | string {
  if ('name' in s) return s.name;
  return s.lo === s.hi ? s.lo : `${s.lo}:${s.hi}`;
}

function portRange(p: PolicyPort, named: ReadonlyMap<string, number>): { lo: number; hi: number } | { name: string } | 'all' {
  if (p.port === undefined) return 'all';
  const n = typeof p.port === 'number' ? p.port : /^\d+$/.test(p.port) ? Number(p.port) : named.get(p.port);
  if (n === undefined) return { name: String(p.port) };
  return { lo: n, hi: p.endPort ?? n };
}

// Splits the clauses' ports into segments no clause boundary crosses.
function segmentsOf(clauses: readonly Clause[], named: ReadonlyMap<string, number>): Segment[] {
  const out: Segment[] = [];
  for (const protocol of PORT_PROTOCOLS) {
    const cuts = new Set<number>();
    const names = new Set<string>();
    for (const c of clauses) {
      for (const p of c.ports) {
        if ((p.protocol ?? 'TCP') !== protocol) continue;
        const r = portRange(p, named);
        // A protocol without a port admits every port of it: one segment across the whole range.
        if (r === 'all') {
          cuts.add(1);
          cuts.add(65536);
        } else if ('name' in r) names.add(r.name);
        else {
          cuts.add(r.lo);
          cuts.add(r.hi + 1);
        }
      }
    }
    const sorted = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i + 1 < sorted.length; i++) {
      const lo = sorted[i]!;
      const hi = sorted[i + 1]! - 1;
      // Keep only segments some clause covers (the rest is the catch-all's).
      if (clauses.some((c) => c.ports.some((p) => covers(p, protocol, { lo, hi }, named)))) out.push({ protocol, lo, hi });
    }
    for (const name of [...names].sort()) out.push({ protocol, name });
  }
  return out;
}

function covers(p: PolicyPort, protocol: string, seg: Segment | { lo: number; hi: number }, named: ReadonlyMap<string, number>): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  const r = portRange(p, named);
  if (r === 'all') return true;
  if ('name' in seg) return 'name' in r && r.name === seg.name;
  return !('name' in r) && r.lo <= seg.lo && seg.hi <= r.hi;
}

/** The peers some clause admits on a segment (all clauses without ports, or with a port covering it). */
function admitting(clauses: readonly Clause[], seg: Segment | undefined, named: ReadonlyMap<string, number>): Clause[] {
  return clauses.filter((c) => !c.ports.length || (seg !== undefined && c.ports.some((p) => covers(p, seg.protocol, seg, named))));
}

/** The "not one of these peers" half of a Deny rule; undefined when some clause admits every peer (nothing to deny). */
function notPeers(clauses: readonly Clause[]): { notSelector?: string; notNets?: string[] } | undefined {
  if (clauses.some((c) => !c.peers.length)) return undefined;
  const sels: string[] = [];
  const nets: string[] = [];
  for (const c of clauses) {
    for (const peer of c.peers) {
      if (peer.ipBlock) nets.push(...cidrMinus(peer.ipBlock.cidr, peer.ipBlock.except ?? []));
      else {
        const s = peerSelector(peer, c.namespace);
        if (s) sels.push(s);
      }
    }
  }
  return { ...(sels.length ? { notSelector: or(sels) } : {}), ...(nets.length ? { notNets: [...new Set(nets)] } : {}) };
}

/** Every isolation set of one namespace's policies in one direction, as (policies, selector) pairs. */
function isolationSets(policies: readonly PolicyDoc[], pods: readonly PolicyPod[], direction: PolicyDirection): { members: PolicyDoc[]; selector: string }[] {
  const sets: PolicyDoc[][] = [];
  if (policies.length <= MAX_ENUMERATED_POLICIES) {
    // A policy with an empty podSelector selects every pod of the namespace: sets without it cannot occur.
    const everyPod = policies.filter((p) => !Object.keys(p.spec.podSelector?.matchLabels ?? {}).length && !(p.spec.podSelector?.matchExpressions ?? []).length);
    for (let mask = 1; mask < 2 ** policies.length; mask++) {
      const set = policies.filter((_, i) => mask & (2 ** i));
      if (everyPod.every((p) => set.includes(p))) sets.push(set);
    }
  } else {
    const seen = new Set<string>();
    for (const pod of pods) {
      const members = policies.filter((p) => policySelects(p, pod, direction));
      const key = members.map((p) => p.name).join('\u0000');
      if (members.length && !seen.has(key)) {
        seen.add(key);
        sets.push(members);
      }
    }
  }
  return sets.map((members) => ({ members, selector: and(...members.map(podsOf), ...policies.filter((p) => !members.includes(p)).map((p) => `!(${podsOf(p)})`)) }));
}

// A named port resolves to a number only when every pod of the namespace has it, with one
// number; otherwise it is left to Calico, which resolves names per destination.
function namedPortsOf(pods: readonly PolicyPod[], namespace: string): Map<string, number> {
  const inNs = pods.filter((p) => p.namespace === namespace);
  const out = new Map<string, number>();
  for (const [name, port] of Object.entries(inNs[0]?.namedPorts ?? {})) if (inNs.every((p) => p.namedPorts?.[name] === port)) out.set(name, port);
  return out;
}

/** The Deny rules for one direction's isolation sets; `local` is where the pool address sits (destination for Ingress). */
function denyRules(policies: readonly PolicyDoc[], pods: readonly PolicyPod[], direction: PolicyDirection, pool: readonly string[], notes: string[]): CalicoRule[] {
  const rules: CalicoRule[] = [];
  const isolating = policies.filter((p) => policyTypesOf(p.spec).includes(direction));
  const namespaces = [...new Set(isolating.map((p) => p.namespace))].sort();
  for (const ns of namespaces) {
    const inNs = isolating.filter((p) => p.namespace === ns).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (inNs.length > MAX_ENUMERATED_POLICIES) notes.push(`namespace ${ns}: ${inNs.length} ${direction.toLowerCase()} policies; bridged for the label sets its pods have now, not for new ones`);
    const named = direction === 'Ingress' ? namedPortsOf(pods, ns) : new Map<string, number>();
    for (const set of isolationSets(inNs, pods.filter((p) => p.namespace === ns), direction)) {
      const clauses: Clause[] = set.members.flatMap((p) => ((direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).map((r) => ({ peers: (direction === 'Ingress' ? r.from : r.to) ?? [], ports: r.ports ?? [], namespace: p.namespace })));
      const pooled = { selector: set.selector, nets: [...pool] };
      const deny = (protocol: string, peers: { notSelector?: string; notNets?: string[] }, ports: { ports?: (number | string)[]; notPorts?: (number | string)[] }): CalicoRule =>
        direction === 'Ingress'
          ? { action: 'Deny', protocol, ...(Object.keys(peers).length ? { source: peers } : {}), destination: { ...pooled, ...ports } }
          : { action: 'Deny', protocol, source: pooled, destination: { ...peers, ...ports } };
      const segments = segmentsOf(clauses, named);
      const unresolved = segments.filter((g) => 'name' in g && segments.some((n) => !('name' in n) && n.protocol === g.protocol)).map((g) => segmentText(g));
      if (unresolved.length) notes.push(`namespace ${ns}: named port(s) ${[...new Set(unresolved)].join(', ')} next to numeric ports of the same protocol in ${direction.toLowerCase()} rules; a connection to such a port may be denied although a rule naming it admits it`);
      for (const seg of segments) {
        const peers = notPeers(admitting(clauses, seg, named));
        if (peers) rules.push(deny(seg.protocol, peers, { ports: [segmentText(seg)] }));
      }
      const rest = notPeers(admitting(clauses, undefined, named));
      if (!rest) continue;
      for (const protocol of PORT_PROTOCOLS) {
        const own = segments.filter((s) => s.protocol === protocol).map(segmentText);
        rules.push(deny(protocol, rest, own.length ? { notPorts: own } : {}));
      }
      rules.push(deny('ICMP', rest, {}));
    }
  }
  return rules;
}

/**
 * Pods some policy already selects in a direction, as one selector: the Kubernetes policies', and
 * the user's own Calico policies' (a GlobalNetworkPolicy's namespaceSelector is not carried over,
 * so such a policy counts for every namespace: those pods are left to the tier's end-of-tier drop
 * rather than let through, and a note says so). 'all()' when every pod is selected.
 */
function selectedSelector(policies: readonly PolicyDoc[], calico: readonly CalicoPolicyDoc[], direction: PolicyDirection, notes: string[]): string {
  const sels = policies.filter((p) => policyTypesOf(p.spec).includes(direction)).map(podsOf);
  for (const c of calico) {
    if (!calicoTypesOf(c).includes(direction)) continue;
    const own = c.selector?.trim() ? c.selector : 'all()';
    if (c.kind === 'NetworkPolicy') sels.push(and(`${NS_LABEL} == ${quote(c.namespace ?? 'default')}`, own));
    else {
      if (c.namespaceSelector) notes.push(`GlobalNetworkPolicy ${c.name} has a namespaceSelector: the pods its selector matches in any namespace are left out of the bridge's open policy for ${direction.toLowerCase()} (they keep Calico's end-of-tier drop)`);
      sels.push(own);
    }
  }
  return sels.length ? or(sels) : '';
}

/** The policy that lets through, in a direction, the pods no other policy selects there (undefined: every pod is selected). */
function openPolicy(name: string, direction: PolicyDirection, selected: string): BridgeCalicoPolicy | undefined {
  if (selected === 'all()') return undefined;
  const selector = selected ? and(WORKLOADS, `!(${selected})`) : WORKLOADS;
  // Pass, last in the tier: what a later tier (Calico's baseline admin policies) says still applies.
  const rule: CalicoRule = { action: 'Pass' };
  return { name, spec: { selector, types: [direction], ...(direction === 'Ingress' ? { ingress: [rule] } : { egress: [rule] }) } };
}

/** The bridge for these policies (empty when nothing needs bridging). */
export function policyBridge(input: BridgeInput): PolicyBridge {
  const notes: string[] = [];
  const policies = input.policies.filter((p) => !p.bridge);
  const calico: BridgeCalicoPolicy[] = [];
  const userCalico = (input.calicoPolicies ?? []).filter((p) => !p.bridge);
  const toCilium = denyRules(policies, input.pods, 'Ingress', input.ciliumCidrs, notes);
  if (toCilium.length) {
    calico.push({ name: `${CALICO_NAME_PREFIX}to-cilium`, spec: { order: BRIDGE_DENY_ORDER, selector: WORKLOADS, types: ['Egress'], egress: toCilium } });
    const open = openPolicy(`${CALICO_NAME_PREFIX}egress-open`, 'Egress', selectedSelector(policies, userCalico, 'Egress', notes));
    if (open) calico.push(open);
  }
  const fromCilium = denyRules(policies, input.pods, 'Egress', input.ciliumCidrs, notes);
  if (fromCilium.length) {
    calico.push({ name: `${CALICO_NAME_PREFIX}from-cilium`, spec: { order: BRIDGE_DENY_ORDER, selector: WORKLOADS, types: ['Ingress'], ingress: fromCilium } });
    const open = openPolicy(`${CALICO_NAME_PREFIX}ingress-open`, 'Ingress', selectedSelector(policies, userCalico, 'Ingress', notes));
    if (open) calico.push(open);
  }
  const cilium: BridgeCiliumPolicy[] = policies.length
    ? [
        {
          name: BRIDGE_NAME_PREFIX,
          spec: {
            endpointSelector: {},
            enableDefaultDeny: { ingress: false, egress: false },
            ingress: [{ fromEntities: ['unmanaged', 'remote-node'] }],
            // A legacy destination appears as unmanaged; remote-node here would open every node's host services to isolated pods.
            egress: [{ toEntities: ['unmanaged'] }],
          },
        },
      ]
    : [];
  return { calico, cilium, notes };
}
