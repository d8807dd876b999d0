import type { KubeObject } from '../store/kubeObject.js';
import type { Toleration } from './tolerations.js';

/** v1.NodeSelectorRequirement as JSON. */
export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** v1.NodeSelectorTerm as JSON: expressions on labels and fields, ANDed. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** The parts of a pod spec that decide where it may run. */
export interface PlacementSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  tolerations?: Toleration[];
}

/** The node field matchFields may use (the only one Kubernetes supports). */
export const NODE_NAME_FIELD = 'metadata.name';

function matchesRequirement(value: string | undefined, req: NodeSelectorRequirement): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const have = Number.parseInt(value ?? '', 10);
      const want = Number.parseInt(values[0] ?? '', 10);
      if (Number.isNaN(have) || Number.isNaN(want) || values.length !== 1) return false;
      return req.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** One term: every expression and field requirement holds; a term with none matches nothing. */
export function nodeMatchesTerm(node: KubeObject, term: NodeSelectorTerm): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  const label = (k: string) => (Object.prototype.hasOwnProperty.call(labels, k) ? labels[k] : undefined);
  if (!exprs.every((r) => matchesRequirement(label(r.key), r))) return false;
  return fields.every((r) => r.key === NODE_NAME_FIELD && (r.operator === 'In' || r.operator === 'NotIn') && matchesRequirement(node.metadata.name, r));
}

/** A NodeSelector: terms are ORed; no terms matches nothing. */
export function nodeMatchesSelectorTerms(node: KubeObject, terms: readonly NodeSelectorTerm[]): boolean {
  return terms.some((t) => nodeMatchesTerm(node, t));
}

/**
 * The scheduler's NodeAffinity filter (nodeaffinity.GetRequiredNodeAffinity(pod).Match): the pod's
 * nodeSelector and its required node affinity must both match the node.
 */
export function podFitsNodeAffinity(podSpec: PlacementSpec | undefined, node: KubeObject): boolean {
  const selector = podSpec?.nodeSelector ?? {};
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  const required = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return nodeMatchesSelectorTerms(node, required.nodeSelectorTerms ?? []);
}
