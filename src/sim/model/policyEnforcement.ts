import { judgeFelix, type CalicoPolicyDoc } from '../../policy/calicoPolicySemantics.js';
import { judgeClusterwide, type CiliumPolicyDoc } from '../../policy/ciliumPolicySemantics.js';
import { judgeDirection, type ConnectionPort, type PolicyDoc, type PolicyEndpoint, type RemoteEnd } from '../../policy/networkPolicySemantics.js';

// Who enforces NetworkPolicy on a connection, and what each enforcer knows of the other end.
//
// felix (calico-node, in Canal and plain Calico) enforces on the interfaces of the networks whose
// pods it manages on its node. With the Kubernetes datastore it learns every pod's addresses from
// pod.status.podIPs (libcalico-go conversion getPodIPs reads them before its own annotations), so
// it matches selectors for any pod whose status address is the one it sees — a migrated pod's
// Cilium address included — and ipBlocks against any address, pod addresses too.
//
// Cilium enforces on its endpoints per enable-policy: "never" nothing, "default" the pods some
// policy selects, "always" every endpoint. It matches selectors only for its own endpoints; any
// other pod address is `unmanaged` in its ipcache, traffic a legacy node masquerades to its
// cilium_host address is `remote-node`, and neither matches an ipBlock (identities beat CIDRs).
// Traffic from its own node's host (a legacy pod on the same node, masqueraded to cilium_host)
// is allowed by the allow-localhost default.
//
// Plain Flannel enforces nothing. felix also enforces Calico's own policies (default tier, by
// order, Kubernetes ones at 1000); Cilium also its clusterwide entity rules (see
// ciliumPolicySemantics), which is how the migration's bridge admits legacy pods.

/** The policies enforcers apply, by who reads them. */
export interface EnforcedPolicies {
  /** networking.k8s.io/v1 NetworkPolicies: felix and Cilium. */
  k8s: readonly PolicyDoc[];
  /** Calico NetworkPolicies and GlobalNetworkPolicies: felix only. */
  calico?: readonly CalicoPolicyDoc[];
  /** CiliumClusterwideNetworkPolicies: Cilium only. */
  cilium?: readonly CiliumPolicyDoc[];
}

/** A policy engine at work on one network of one node. */
export type Enforcer = { engine: 'felix' } | { engine: 'cilium'; mode: CiliumPolicyMode };

export type CiliumPolicyMode = 'default' | 'always' | 'never';

/** A stable string for an enforcer ("none" when nothing enforces). */
export function enforcerKey(e: Enforcer | undefined): string {
  if (!e) return 'none';
  return e.engine === 'felix' ? 'felix' : `cilium:${e.mode}`;
}

/** How the other end of a connection appears to an enforcer. */
export type RemoteAppearance =
  /** A pod it knows, at the address it knows it by. */
  | 'identity'
  /** An address it cannot tie to a pod (felix: not a status address; Cilium: unmanaged). */
  | 'address'
  /** Cilium: traffic masqueraded by a legacy node to its cilium_host address. */
  | 'remote-node'
  /** Cilium: traffic from its own node's host (allowed by allow-localhost). */
  | 'host';

/** One side's enforcement: who enforces there and how it sees the other end. */
export interface EnforcementSide {
  enforcer: Enforcer | undefined;
  remote: RemoteAppearance;
  /** Node name, for messages. */
  node: string;
}

/** The enforced verdict for a connection. */
export interface EnforcedVerdict {
  allowed: boolean;
  /** Why it was dropped, naming the enforcer, node and policies. */
  detail?: string;
}

function remoteEnd(enforcer: Enforcer, appearance: RemoteAppearance, pod: PolicyEndpoint): RemoteEnd {
  const cidrMatchable = enforcer.engine === 'felix';
  if (appearance === 'identity') return { pod, ip: pod.ip, cidrMatchable };
  // felix still matches the address against ipBlocks; remote-node carries a router address no pod rule names.
  if (appearance === 'address') return { ip: pod.ip, cidrMatchable };
  return { cidrMatchable: false };
}

function judgeSide(policies: EnforcedPolicies, side: EnforcementSide, direction: 'Ingress' | 'Egress', local: PolicyEndpoint, remote: PolicyEndpoint, to: PolicyEndpoint, conn: ConnectionPort): EnforcedVerdict {
  const e = side.enforcer;
  if (!e || (e.engine === 'cilium' && e.mode === 'never')) return { allowed: true };
  if (e.engine === 'cilium' && direction === 'Ingress' && side.remote === 'host') return { allowed: true };
  const end = remoteEnd(e, side.remote, remote);
  let allowed: boolean;
  let isolatedBy: string[];
  if (e.engine === 'felix') {
    const v = judgeFelix(policies.k8s, policies.calico ?? [], local, end, direction, conn, to.namedPorts);
    allowed = v.allowed;
    isolatedBy = v.isolatedBy;
  } else {
    const k = judgeDirection(policies.k8s, local, end, direction, conn, to.namedPorts, e.mode === 'always');
    const c = judgeClusterwide(policies.cilium ?? [], local, side.remote, direction);
    isolatedBy = [...k.isolatedBy, ...c.isolatedBy];
    allowed = (!isolatedBy.length && e.mode !== 'always') || Boolean(k.allowedBy) || Boolean(c.allowedBy);
  }
  if (allowed) return { allowed: true };
  const who = e.engine === 'felix' ? 'felix' : `Cilium (enable-policy ${e.mode})`;
  const seen = side.remote === 'identity' ? `${remote.namespace} pod ${remote.ip}` : side.remote === 'address' ? `address ${remote.ip} it cannot tie to a pod` : side.remote;
  const by = isolatedBy.length ? `isolated by ${isolatedBy.join(', ')}` : 'isolated by enable-policy always';
  return { allowed: false, detail: `${who} on ${side.node} drops ${direction.toLowerCase()} from ${seen} (${by}; no rule admits it)` };
}

/** The enforced verdict: the source's egress enforcer, then the destination's ingress enforcer. */
export function judgeEnforcement(policies: EnforcedPolicies, from: PolicyEndpoint, to: PolicyEndpoint, conn: ConnectionPort, egress: EnforcementSide, ingress: EnforcementSide): EnforcedVerdict {
  const out = judgeSide(policies, egress, 'Egress', from, to, to, conn);
  if (!out.allowed) return out;
  return judgeSide(policies, ingress, 'Ingress', to, from, to, conn);
}
