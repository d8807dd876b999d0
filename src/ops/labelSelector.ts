/** metav1.LabelSelector matching (matchLabels AND matchExpressions), as the API server evaluates it. */
import type { LabelSelector } from '../kube/kubeTypes.js';

/**
 * True when `labels` satisfy `selector`. An empty selector matches everything; a missing one
 * matches nothing (policy/v1 PodDisruptionBudget semantics).
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = have[e.key];
    const present = value !== undefined;
    const inValues = present && (e.values ?? []).includes(value);
    const ok = e.operator === 'In' ? inValues : e.operator === 'NotIn' ? !inValues : e.operator === 'Exists' ? present : !present;
    if (!ok) return false;
  }
  return true;
}
