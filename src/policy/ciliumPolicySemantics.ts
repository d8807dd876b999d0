import type { LabelSelector } from '../kube/kubeTypes.js';
import { matchesLabelSelector } from '../ops/labelSelector.js';
import type { PolicyDirection, PolicyPod } from './networkPolicySemantics.js';

// Cilium's clusterwide policies (cilium.io/v2 CiliumClusterwideNetworkPolicy) as far as the
// migration's bridge uses them: an endpointSelector, entity rules (fromEntities / toEntities) and
// enableDefaultDeny (Cilium 1.16+), which lets a policy add allowances without isolating the
// endpoints it selects. Rules of other shapes (endpoints, CIDRs, L7) are not modelled: they never
// match here, so a policy built of them only isolates.

/** How an end that is not one of Cilium's endpoints reaches its policy engine. */
export type CiliumEntity = 'all' | 'cluster' | 'world' | 'host' | 'remote-node' | 'unmanaged' | 'health' | 'init' | 'kube-apiserver' | 'ingress';

export interface CiliumPolicyDoc {
  name: string;
  endpointSelector?: LabelSelector;
  /** Per direction; true when omitted (a selecting policy with rules in a direction isolates there). */
  enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
  ingress?: { fromEntities?: string[] }[];
  egress?: { toEntities?: string[] }[];
  bridge?: boolean;
}

/** Converts a stored CiliumClusterwideNetworkPolicy. */
export function ciliumPolicyDocOf(o: { metadata: { name?: string; labels?: Record<string, string> }; spec?: unknown }, bridgeLabel: { key: string; value: string }): CiliumPolicyDoc {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const bridge = o.metadata.labels?.[bridgeLabel.key] === bridgeLabel.value;
  return {
    name: o.metadata.name ?? '',
    ...(spec.endpointSelector && typeof spec.endpointSelector === 'object' ? { endpointSelector: spec.endpointSelector } : {}),
    ...(spec.enableDefaultDeny && typeof spec.enableDefaultDeny === 'object' ? { enableDefaultDeny: spec.enableDefaultDeny } : {}),
    ...(Array.isArray(spec.ingress) ? { ingress: spec.ingress as CiliumPolicyDoc['ingress'] } : {}),
    ...(Array.isArray(spec.egress) ? { egress: spec.egress as CiliumPolicyDoc['egress'] } : {}),
    ...(bridge ? { bridge } : {}),
  };
}

// Cilium's endpoint labels as a clusterwide endpointSelector reads them: the pod's labels, with or
// without the k8s: source prefix, and the namespace label.
function endpointMatches(sel: LabelSelector | undefined, pod: Pick<PolicyPod, 'namespace' | 'labels'>): boolean {
  const labels: Record<string, string> = { ...pod.labels, 'io.kubernetes.pod.namespace': pod.namespace };
  const strip = (k: string) => k.replace(/^k8s:/, '');
  const s: LabelSelector = {
    ...(sel?.matchLabels ? { matchLabels: Object.fromEntries(Object.entries(sel.matchLabels).map(([k, v]) => [strip(k), v])) } : {}),
    ...(sel?.matchExpressions ? { matchExpressions: sel.matchExpressions.map((e) => ({ ...e, key: strip(e.key) })) } : {}),
  };
  return matchesLabelSelector(s, labels);
}

function rulesOf(p: CiliumPolicyDoc, direction: PolicyDirection): string[][] {
  return direction === 'Ingress' ? (p.ingress ?? []).map((r) => r.fromEntities ?? []) : (p.egress ?? []).map((r) => r.toEntities ?? []);
}

/** The entities an end matches, by how it appears to Cilium. */
export function entitiesOf(appearance: 'identity' | 'address' | 'remote-node' | 'host'): CiliumEntity[] {
  switch (appearance) {
    case 'identity':
      return ['all', 'cluster'];
    case 'address':
      return ['all', 'cluster', 'unmanaged'];
    case 'remote-node':
      return ['all', 'cluster', 'remote-node'];
    case 'host':
      return ['all', 'cluster', 'host'];
  }
}

/** What the clusterwide policies do to one endpoint in one direction. */
export interface CiliumClusterwideVerdict {
  /** Policies that select it and isolate it there (enableDefaultDeny not off). */
  isolatedBy: string[];
  /** The first policy with an entity rule that admits the remote end. */
  allowedBy?: string;
}

export function judgeClusterwide(policies: readonly CiliumPolicyDoc[], local: Pick<PolicyPod, 'namespace' | 'labels'>, remote: 'identity' | 'address' | 'remote-node' | 'host', direction: PolicyDirection): CiliumClusterwideVerdict {
  const entities = new Set<string>(entitiesOf(remote));
  const out: CiliumClusterwideVerdict = { isolatedBy: [] };
  for (const p of policies) {
    if (!endpointMatches(p.endpointSelector, local)) continue;
    const rules = rulesOf(p, direction);
    if (!rules.length) continue;
    const deny = direction === 'Ingress' ? p.enableDefaultDeny?.ingress : p.enableDefaultDeny?.egress;
    if (deny !== false) out.isolatedBy.push(`CiliumClusterwideNetworkPolicy ${p.name}`);
    if (!out.allowedBy && rules.some((r) => r.some((e) => entities.has(e)))) out.allowedBy = `CiliumClusterwideNetworkPolicy ${p.name}`;
  }
  return out;
}
