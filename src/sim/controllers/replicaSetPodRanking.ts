import type { KubeObject } from '../store/kubeObject.js';
import { parseKubeTime } from './kubeTime.js';
import { isPodReady, podCondition } from './podStatus.js';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: KubeObject): number {
  const cost = Number.parseInt(pod.metadata.annotations?.[DELETION_COST_ANNOTATION] ?? '0', 10);
  return Number.isNaN(cost) ? 0 : cost;
}

/** Compares two times where a missing one sorts first and later sorts before earlier ("afterOrZero"). */
function newerFirst(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return b - a;
}

/**
 * controller.ActivePodsWithRanks: which pods a ReplicaSet removes first when scaling down. Earlier
 * in the result goes first: unscheduled < scheduled, Pending < Unknown < Running, not ready < ready,
 * lower pod-deletion-cost, more replicas doubled up on the node, ready for less time, newer.
 */
export function rankPodsForDeletion(pods: readonly KubeObject[], related: readonly KubeObject[] = pods): KubeObject[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName as string | undefined;
    if (node) onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const rank = (p: KubeObject) => (p.spec?.nodeName ? (onNode.get(p.spec.nodeName as string) ?? 0) : 0);
  return [...pods].sort((a, b) => {
    const boundA = Boolean(a.spec?.nodeName);
    const boundB = Boolean(b.spec?.nodeName);
    if (boundA !== boundB) return boundA ? 1 : -1;
    const phase = (PHASE_ORDER[a.status?.phase ?? 'Pending'] ?? 0) - (PHASE_ORDER[b.status?.phase ?? 'Pending'] ?? 0);
    if (phase) return phase;
    if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
    const cost = deletionCost(a) - deletionCost(b);
    if (cost) return cost;
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (isPodReady(a) && isPodReady(b)) {
      const ready = newerFirst(parseKubeTime(podCondition(a, 'Ready')?.lastTransitionTime), parseKubeTime(podCondition(b, 'Ready')?.lastTransitionTime));
      if (ready) return ready;
    }
    return newerFirst(parseKubeTime(a.metadata.creationTimestamp), parseKubeTime(b.metadata.creationTimestamp));
  });
}
