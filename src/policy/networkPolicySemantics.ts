import type { LabelSelector } from '../kube/kubeTypes.js';
import { ipInCidrText } from '../net/ipv4.js';
import { matchesLabelSelector } from '../ops/labelSelector.js';

// networking.k8s.io/v1 NetworkPolicy semantics as pure rules: which policies isolate a pod in a
// direction, whether a peer or port clause matches, and the verdict for one connection. The
// remote end is described as an enforcer sees it — with or without the pod's identity, with or
// without an address a CIDR rule may match — so the same rules give both the intended verdict
// (Kubernetes semantics, every identity known) and what a CNI that knows less enforces.

export type PolicyDirection = 'Ingress' | 'Egress';

export interface IpBlock {
  cidr: string;
  except?: string[];
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IpBlock;
}

export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector?: LabelSelector;
  policyTypes?: PolicyDirection[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** A NetworkPolicy reduced to what its semantics read. */
export interface PolicyDoc {
  namespace: string;
  name: string;
  spec: NetworkPolicySpec;
  /** A companion the migration created (label cni-migration.io/purpose=policy-bridge): enforced, but no part of what the user's policies mean. */
  bridge?: boolean;
}

/** The label that marks the migration's own companion policies. */
export const POLICY_BRIDGE_LABEL = { key: 'cni-migration.io/purpose', value: 'policy-bridge' } as const;

/** A pod as policies see it. */
export interface PolicyPod {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  namespaceLabels: Readonly<Record<string, string>>;
  /** Container port names (named ports in policy rules resolve against the destination pod's). */
  namedPorts?: Readonly<Record<string, number>>;
}

/** The other end of a connection, as the party judging it sees it. */
export interface RemoteEnd {
  /** The pod, when its identity is known (selectors can only match a known pod). */
  pod?: PolicyPod;
  /** The address seen, matched by ipBlock rules when `cidrMatchable`. */
  ip?: string;
  cidrMatchable: boolean;
}

/** A connection's destination port. */
export interface ConnectionPort {
  port: number;
  protocol: string;
}

/** The verdict of one direction: allowed or not, and which policies decided it. */
export interface DirectionVerdict {
  allowed: boolean;
  /** Policies that select the pod in this direction (isolating it); empty: not isolated. */
  isolatedBy: string[];
  /** The first policy whose rule allowed the connection. */
  allowedBy?: string;
}

/** A pod's named container ports (what a policy's named port resolves to on that pod). */
export function containerNamedPorts(containers: readonly unknown[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of (containers ?? []) as { ports?: { name?: string; containerPort?: number }[] }[]) for (const p of c.ports ?? []) if (p.name && p.containerPort) out[p.name] = p.containerPort;
  return out;
}

/** Converts a stored NetworkPolicy object. */
export function policyDocOf(o: { metadata: { namespace?: string; name?: string; labels?: Record<string, string> }; spec?: unknown }): PolicyDoc {
  const bridge = o.metadata.labels?.[POLICY_BRIDGE_LABEL.key] === POLICY_BRIDGE_LABEL.value;
  return { namespace: o.metadata.namespace ?? 'default', name: o.metadata.name ?? '', spec: (o.spec ?? {}), ...(bridge ? { bridge } : {}) };
}

/** The directions a policy applies to: its policyTypes, or Ingress plus Egress when it has egress rules (the API server's default). */
export function policyTypesOf(spec: NetworkPolicySpec): PolicyDirection[] {
  if (spec.policyTypes?.length) return spec.policyTypes;
  return spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Whether a policy selects a pod in a direction (and so isolates it there). */
export function policySelects(p: PolicyDoc, pod: Pick<PolicyPod, 'namespace' | 'labels'>, direction: PolicyDirection): boolean {
  return p.namespace === pod.namespace && policyTypesOf(p.spec).includes(direction) && matchesLabelSelector(p.spec.podSelector ?? {}, pod.labels);
}

/** Whether an address lies in an ipBlock (in its cidr and none of its excepts). */
export function ipBlockContains(block: IpBlock, ip: string): boolean {
  return ipInCidrText(ip, block.cidr) && !(block.except ?? []).some((e) => ipInCidrText(ip, e));
}

/** Whether one peer clause of a policy in `policyNamespace` matches the remote end. */
export function peerMatches(peer: PolicyPeer, policyNamespace: string, remote: RemoteEnd): boolean {
  if (peer.ipBlock) return remote.cidrMatchable && remote.ip !== undefined && ipBlockContains(peer.ipBlock, remote.ip);
  const pod = remote.pod;
  if (!pod) return false;
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  const nsOk = peer.namespaceSelector ? matchesLabelSelector(peer.namespaceSelector, pod.namespaceLabels) : pod.namespace === policyNamespace;
  return nsOk && matchesLabelSelector(peer.podSelector ?? {}, pod.labels);
}

/** Whether a rule's ports admit a connection; named ports resolve against the destination's container ports. */
export function portsMatch(ports: readonly PolicyPort[] | undefined, conn: ConnectionPort, destinationNamedPorts: Readonly<Record<string, number>> = {}): boolean {
  if (!ports?.length) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== conn.protocol) return false;
    if (p.port === undefined) return true;
    const port = typeof p.port === 'number' ? p.port : /^\d+$/.test(p.port) ? Number(p.port) : destinationNamedPorts[p.port];
    if (port === undefined) return false;
    return p.endPort !== undefined ? conn.port >= port && conn.port <= p.endPort : conn.port === port;
  });
}

/**
 * The verdict of one direction for `local` (the destination for Ingress, the source for Egress):
 * allowed when no policy isolates it there, or when some rule of an isolating policy matches the
 * remote end and the port. `isolateAll` makes every pod isolated (Cilium's "always").
 */
export function judgeDirection(
  policies: readonly PolicyDoc[],
  local: Pick<PolicyPod, 'namespace' | 'labels'>,
  remote: RemoteEnd,
  direction: PolicyDirection,
  conn: ConnectionPort,
  destinationNamedPorts: Readonly<Record<string, number>> = {},
  isolateAll = false,
): DirectionVerdict {
  const selecting = policies.filter((p) => policySelects(p, local, direction));
  const isolatedBy = selecting.map((p) => `${p.namespace}/${p.name}`);
  if (!selecting.length && !isolateAll) return { allowed: true, isolatedBy };
  for (const p of selecting) {
    if (policyAdmits(p, remote, direction, conn, destinationNamedPorts)) return { allowed: true, isolatedBy, allowedBy: `${p.namespace}/${p.name}` };
  }
  return { allowed: false, isolatedBy };
}

/** Whether some rule of one policy, in one direction, admits the remote end on the port. */
export function policyAdmits(p: PolicyDoc, remote: RemoteEnd, direction: PolicyDirection, conn: ConnectionPort, destinationNamedPorts: Readonly<Record<string, number>> = {}): boolean {
  const rules = (direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? [];
  return rules.some((r) => {
    const peers = direction === 'Ingress' ? r.from : r.to;
    const peerOk = !peers?.length || peers.some((peer) => peerMatches(peer, p.namespace, remote));
    return peerOk && portsMatch(r.ports, conn, destinationNamedPorts);
  });
}

/** A pod with the address it uses on a connection. */
export interface PolicyEndpoint extends PolicyPod {
  ip: string;
}

/** Kubernetes semantics for a connection: the source's egress and the destination's ingress both allow it. */
export function intendedVerdict(policies: readonly PolicyDoc[], from: PolicyEndpoint, to: PolicyEndpoint, conn: ConnectionPort): { allowed: boolean; egress: DirectionVerdict; ingress: DirectionVerdict } {
  const egress = judgeDirection(policies, from, { pod: to, ip: to.ip, cidrMatchable: true }, 'Egress', conn, to.namedPorts);
  const ingress = judgeDirection(policies, to, { pod: from, ip: from.ip, cidrMatchable: true }, 'Ingress', conn, to.namedPorts);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}

/** Every CIDR an ipBlock of these policies names (cidr and excepts), in a stable order. */
export function ipBlockCidrs(policies: readonly PolicyDoc[]): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    for (const r of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
      for (const peer of [...(r.from ?? []), ...(r.to ?? [])]) {
        if (!peer.ipBlock) continue;
        out.add(peer.ipBlock.cidr);
        for (const e of peer.ipBlock.except ?? []) out.add(e);
      }
    }
  }
  return [...out].sort();
}
