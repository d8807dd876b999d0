import { ipInCidrText } from '../net/ipv4.js';
import { calicoSelector } from './calicoSelector.js';
import { policyAdmits, policySelects, type ConnectionPort, type PolicyDirection, type PolicyDoc, type PolicyPod, type RemoteEnd } from './networkPolicySemantics.js';

// Calico's own NetworkPolicy and GlobalNetworkPolicy (crd.projectcalico.org/v1, the KDD storage of
// projectcalico.org/v3) as felix evaluates them together with Kubernetes NetworkPolicies, as pure
// rules. Felix converts each Kubernetes NetworkPolicy into a policy of the default tier at order
// 1000, so one ordered list decides: the policies that select the endpoint in a direction are
// walked by order (then name); the first rule that matches ends the walk with its action (Allow,
// Deny, or Pass to the next tier; Log goes on); a policy whose rules all miss hands over to the
// next one; and when policies selected the endpoint but none decided, the tier drops the packet.
// An endpoint no policy selects is allowed by its namespace profile. Only the default tier is
// modelled: policies of other tiers are left out (see calicoPolicyDocOf).
//
// An end felix cannot tie to a workload (an address no pod's status carries) has no labels:
// `selector` never matches it and `notSelector` always does (felix compiles both to IP sets of
// known workloads); nets match its address.

export type CalicoAction = 'Allow' | 'Deny' | 'Pass' | 'Log';

/** A rule's source or destination. */
export interface CalicoEntityRule {
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  nets?: string[];
  notNets?: string[];
  /** Numbers, "lo:hi" ranges or named ports (destination only in this model). */
  ports?: (number | string)[];
  notPorts?: (number | string)[];
}

export interface CalicoRule {
  action: CalicoAction;
  protocol?: string | number;
  notProtocol?: string | number;
  source?: CalicoEntityRule;
  destination?: CalicoEntityRule;
}

/** A Calico policy reduced to what felix's verdict reads. */
export interface CalicoPolicyDoc {
  kind: 'NetworkPolicy' | 'GlobalNetworkPolicy';
  name: string;
  /** NetworkPolicy only: the namespace it applies in. */
  namespace?: string;
  order?: number;
  selector?: string;
  /** GlobalNetworkPolicy only: namespaces whose endpoints it may select. */
  namespaceSelector?: string;
  types?: PolicyDirection[];
  ingress?: CalicoRule[];
  egress?: CalicoRule[];
  /** A companion the migration created: enforced, no part of what the user's policies mean. */
  bridge?: boolean;
}

/** The K8s-converted policies' place in the default tier. */
export const K8S_POLICY_ORDER = 1000;

/** Converts a stored crd.projectcalico.org/v1 policy; undefined for a policy of a tier other than default (not modelled). */
export function calicoPolicyDocOf(o: { kind?: string; metadata: { namespace?: string; name?: string; labels?: Record<string, string> }; spec?: unknown }, bridgeLabel: { key: string; value: string }): CalicoPolicyDoc | undefined {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const tier = typeof spec.tier === 'string' && spec.tier ? spec.tier : tierOfName(o.metadata.name ?? '');
  if (tier !== 'default') return undefined;
  const kind = o.kind === 'GlobalNetworkPolicy' ? 'GlobalNetworkPolicy' : 'NetworkPolicy';
  const bridge = o.metadata.labels?.[bridgeLabel.key] === bridgeLabel.value;
  return {
    kind,
    name: o.metadata.name ?? '',
    ...(kind === 'NetworkPolicy' ? { namespace: o.metadata.namespace ?? 'default' } : {}),
    ...(typeof spec.order === 'number' ? { order: spec.order } : {}),
    ...(typeof spec.selector === 'string' ? { selector: spec.selector } : {}),
    ...(typeof spec.namespaceSelector === 'string' ? { namespaceSelector: spec.namespaceSelector } : {}),
    ...(Array.isArray(spec.types) ? { types: spec.types as PolicyDirection[] } : {}),
    ...(Array.isArray(spec.ingress) ? { ingress: spec.ingress as CalicoRule[] } : {}),
    ...(Array.isArray(spec.egress) ? { egress: spec.egress as CalicoRule[] } : {}),
    ...(bridge ? { bridge } : {}),
  };
}

/**
 * The tier a policy without spec.tier belongs to, as Calico reads it from the name: the word
 * before the first dot ("default.allow-dns": default; "security.deny": security), default for a
 * name without one and for converted Kubernetes policies (knp.default.*).
 */
export function tierOfName(name: string): string {
  if (name.startsWith('knp.default')) return 'default';
  const dot = name.indexOf('.');
  return dot < 0 ? 'default' : name.slice(0, dot);
}

/** The labels felix matches selectors against: the pod's, its namespace's (as pcns.<key>) and Calico's own. */
export function workloadLabels(pod: Pick<PolicyPod, 'namespace' | 'labels' | 'namespaceLabels'>): Record<string, string> {
  const out: Record<string, string> = { ...pod.labels, 'projectcalico.org/namespace': pod.namespace, 'projectcalico.org/orchestrator': 'k8s' };
  for (const [k, v] of Object.entries(pod.namespaceLabels)) out[`pcns.${k}`] = v;
  return out;
}

/**
 * The directions a stored Calico policy applies to: its types; felix reads a policy without types
 * as both (PolKV.governsType, "back-compatibility"). The v3 API server and calicoctl default types
 * on create, but a CRD written directly keeps none.
 */
export function calicoTypesOf(p: CalicoPolicyDoc): PolicyDirection[] {
  return p.types?.length ? p.types : ['Ingress', 'Egress'];
}

/** Whether a Calico policy selects an endpoint in a direction. */
export function calicoPolicySelects(p: CalicoPolicyDoc, pod: Pick<PolicyPod, 'namespace' | 'labels' | 'namespaceLabels'>, direction: PolicyDirection): boolean {
  if (!calicoTypesOf(p).includes(direction)) return false;
  if (p.kind === 'NetworkPolicy' && p.namespace !== pod.namespace) return false;
  if (p.kind === 'GlobalNetworkPolicy' && p.namespaceSelector && !calicoSelector(p.namespaceSelector).matches(pod.namespaceLabels)) return false;
  return calicoSelector(p.selector ?? 'all()').matches(workloadLabels(pod));
}

/** One end of a connection as felix sees it. */
interface EndView {
  pod?: Pick<PolicyPod, 'namespace' | 'labels' | 'namespaceLabels'>;
  ip?: string;
  cidrMatchable: boolean;
}

const PROTOCOL_NUMBERS: Record<string, number> = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132 };

function protocolMatches(rule: string | number | undefined, conn: ConnectionPort): boolean {
  if (rule === undefined) return true;
  const want = typeof rule === 'number' ? rule : (PROTOCOL_NUMBERS[rule.toUpperCase()] ?? Number(rule));
  return want === PROTOCOL_NUMBERS[conn.protocol.toUpperCase()];
}

function portListMatches(ports: readonly (number | string)[], port: number, named: Readonly<Record<string, number>>): boolean {
  return ports.some((p) => {
    if (typeof p === 'number') return p === port;
    const range = /^(\d+):(\d+)$/.exec(p);
    if (range) return port >= Number(range[1]) && port <= Number(range[2]);
    if (/^\d+$/.test(p)) return Number(p) === port;
    return named[p] === port;
  });
}

// A rule's endpoint match as felix compiles it (updateprocessors getEndpointSelector): in a
// namespaced policy, a selector or notSelector without a namespaceSelector adds "in the policy's
// namespace" as a positive condition; a namespaceSelector picks namespaces by label instead. The
// notSelector itself is not scoped. An end felix cannot tie to a pod matches no positive selector
// and every notSelector.
function entityMatches(e: CalicoEntityRule | undefined, end: EndView, policyNamespace: string | undefined, port: number | undefined, named: Readonly<Record<string, number>>): boolean {
  if (!e) return true;
  const pod = end.pod;
  const scoped = e.namespaceSelector !== undefined || (policyNamespace !== undefined && (e.selector !== undefined || e.notSelector !== undefined));
  if (scoped || e.selector !== undefined) {
    if (!pod) return false;
    if (e.namespaceSelector !== undefined ? !calicoSelector(e.namespaceSelector).matches(pod.namespaceLabels) : policyNamespace !== undefined && pod.namespace !== policyNamespace) return false;
    if (!calicoSelector(e.selector ?? 'all()').matches(workloadLabels(pod))) return false;
  }
  if (e.notSelector !== undefined && pod && calicoSelector(e.notSelector).matches(workloadLabels(pod))) return false;
  const addressIn = (nets: readonly string[]) => end.cidrMatchable && end.ip !== undefined && nets.some((n) => ipInCidrText(end.ip!, n));
  if (e.nets?.length && !addressIn(e.nets)) return false;
  if (e.notNets?.length && addressIn(e.notNets)) return false;
  if (e.ports?.length && (port === undefined || !portListMatches(e.ports, port, named))) return false;
  if (e.notPorts?.length && port !== undefined && portListMatches(e.notPorts, port, named)) return false;
  return true;
}

/** Whether a rule matches a connection from `source` to `destination`. */
export function calicoRuleMatches(r: CalicoRule, source: EndView, destination: EndView, policyNamespace: string | undefined, conn: ConnectionPort, destinationNamedPorts: Readonly<Record<string, number>>): boolean {
  if (!protocolMatches(r.protocol, conn)) return false;
  if (r.notProtocol !== undefined && protocolMatches(r.notProtocol, conn)) return false;
  // Source ports are the client's ephemeral port: a rule that names them is never met by the judged connection.
  if (r.source?.ports?.length) return false;
  return entityMatches(r.source, source, policyNamespace, undefined, {}) && entityMatches(r.destination, destination, policyNamespace, conn.port, destinationNamedPorts);
}

/** felix's verdict in one direction, and the policy that decided it. */
export interface FelixVerdict {
  allowed: boolean;
  /** Policies that selected the endpoint in this direction (K8s ones as namespace/name, Calico ones by kind/name). */
  isolatedBy: string[];
  decidedBy?: string;
}

type Ordered = { order: number; name: string; label: string; k8s?: PolicyDoc; calico?: CalicoPolicyDoc };

/**
 * The verdict felix gives in one direction for `local` (the destination for Ingress, the source
 * for Egress), walking the default tier: Calico policies by order, Kubernetes ones at 1000.
 */
export function judgeFelix(
  k8s: readonly PolicyDoc[],
  calico: readonly CalicoPolicyDoc[],
  local: PolicyPod & { ip: string },
  remote: RemoteEnd,
  direction: PolicyDirection,
  conn: ConnectionPort,
  destinationNamedPorts: Readonly<Record<string, number>> = {},
): FelixVerdict {
  const items: Ordered[] = [];
  for (const p of k8s) if (policySelects(p, local, direction)) items.push({ order: K8S_POLICY_ORDER, name: `knp.default.${p.name}`, label: `${p.namespace}/${p.name}`, k8s: p });
  for (const p of calico) {
    if (!calicoPolicySelects(p, local, direction)) continue;
    const label = p.kind === 'GlobalNetworkPolicy' ? `GlobalNetworkPolicy ${p.name}` : `NetworkPolicy ${p.namespace}/${p.name} (Calico)`;
    items.push({ order: p.order ?? Number.POSITIVE_INFINITY, name: p.name, label, calico: p });
  }
  items.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const isolatedBy = items.map((i) => i.label);
  if (!items.length) return { allowed: true, isolatedBy };
  const localEnd: EndView = { pod: local, ip: local.ip, cidrMatchable: true };
  const remoteEnd: EndView = { ...(remote.pod ? { pod: remote.pod } : {}), ...(remote.ip !== undefined ? { ip: remote.ip } : {}), cidrMatchable: remote.cidrMatchable };
  const [source, destination] = direction === 'Ingress' ? [remoteEnd, localEnd] : [localEnd, remoteEnd];
  for (const it of items) {
    if (it.k8s) {
      if (policyAdmits(it.k8s, remote, direction, conn, destinationNamedPorts)) return { allowed: true, isolatedBy, decidedBy: it.label };
      continue;
    }
    const p = it.calico!;
    for (const r of (direction === 'Ingress' ? p.ingress : p.egress) ?? []) {
      if (r.action === 'Log' || !calicoRuleMatches(r, source, destination, p.namespace, conn, destinationNamedPorts)) continue;
      // Pass leaves the default tier; with no tier after it, the profile allows.
      return { allowed: r.action !== 'Deny', isolatedBy, decidedBy: `${it.label} (${r.action})` };
    }
  }
  return { allowed: false, isolatedBy };
}

/** Every CIDR Calico rules name in nets or notNets, for the class key (addresses in them may be judged differently). */
export function calicoNetCidrs(policies: readonly CalicoPolicyDoc[]): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    for (const r of [...(p.ingress ?? []), ...(p.egress ?? [])]) {
      for (const e of [r.source, r.destination]) for (const n of [...(e?.nets ?? []), ...(e?.notNets ?? [])]) out.add(n);
    }
  }
  return [...out].sort();
}
