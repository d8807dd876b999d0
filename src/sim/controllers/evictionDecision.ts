import type { EvictionDecision } from '../api/resourceHandlers.js';
import type { KubeObject } from '../store/kubeObject.js';
import { labelSelectorMatcher } from '../store/labelSelector.js';
import type { ObjectStore } from '../store/objectStore.js';
import { kubeTime } from './kubeTime.js';
import { withDisruptionAllowedCondition } from './pdbStatus.js';
import { isPodReady } from './podStatus.js';

export type { EvictionDecision } from '../api/resourceHandlers.js';

const PDBS = 'policy/poddisruptionbudgets';
/** MaxDisruptedPodSize of the eviction handler. */
const MAX_DISRUPTED_PODS = 2000;
const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";
/** The 500 the eviction subresource answers when several budgets cover a pod. */
export const MULTIPLE_PDBS_MESSAGE = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

/** canIgnorePDB: finished, pending or already terminating pods are evicted without asking any budget. */
function canIgnorePdb(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || Boolean(pod.metadata.deletionTimestamp);
}

function tooManyRequests(message: string): EvictionDecision {
  return { allowed: false, code: 429, message: VIOLATION, causes: [{ reason: 'DisruptionBudget', message }] };
}

/** checkAndDecrement's verdict on a budget (without the decrement, which recordEviction does). */
function budgetVerdict(pdb: KubeObject): EvictionDecision {
  const name = pdb.metadata.name ?? '';
  const s = pdb.status ?? {};
  if (Number(s.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    return tooManyRequests(`The disruption budget ${name} is still being processed by the server.`);
  }
  // Kubernetes answers 403 for the next two; they cannot happen with this controller.
  if (Number(s.disruptionsAllowed ?? 0) < 0) return tooManyRequests('pdb disruptions allowed is negative');
  if (Object.keys(s.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) return tooManyRequests('DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (Number(s.disruptionsAllowed ?? 0) === 0) return tooManyRequests(noDisruptionMessage(name, s));
  return { allowed: true, pdb };
}

/**
 * The cause of a 429 from a budget that allows no disruption, as checkAndDecrement words it: with
 * more healthy pods than needed (an eviction just used the last allowance and the disruption
 * controller has not recounted) it does not claim "needs N and has M".
 */
function noDisruptionMessage(name: string, s: NonNullable<KubeObject['status']>): string {
  const condition = ((s.conditions ?? []) as { type?: string; status?: string; reason?: string; message?: string }[]).find((c) => c.type === 'DisruptionAllowed');
  const failed = condition?.status === 'False' && Boolean(condition.message);
  if (failed && condition?.reason === 'SyncFailed') return `The disruption budget ${name} does not allow evicting pods currently because it failed sync: ${condition.message}`;
  const desired = Number(s.desiredHealthy ?? 0);
  const current = Number(s.currentHealthy ?? 0);
  if (current <= desired) return `The disruption budget ${name} needs ${desired} healthy pods and has ${current} currently`;
  if (failed) return `The disruption budget ${name} does not allow evicting pods currently (${condition?.reason}): ${condition?.message}`;
  return `The disruption budget ${name} does not allow evicting pods currently`;
}

/**
 * The eviction subresource's rules (pkg/registry/core/pod/storage/eviction.go): pods that are not
 * running yet, finished or terminating go without a budget; more than one matching budget is a 500;
 * an unready pod follows unhealthyPodEvictionPolicy (IfHealthyBudget: allowed while the budget is
 * met, AlwaysAllow: always) without using up a disruption; otherwise the budget must allow one
 * (returned as `pdb`, for recordEviction) or the answer is 429.
 */
export function decideEviction(store: ObjectStore, pod: KubeObject): EvictionDecision {
  if (canIgnorePdb(pod)) return { allowed: true };
  const pdbs = store.peekInNamespace(PDBS, pod.metadata.namespace ?? '').filter((p) => labelSelectorMatcher(p.spec?.selector)(pod.metadata.labels));
  if (pdbs.length > 1) return { allowed: false, code: 500, message: MULTIPLE_PDBS_MESSAGE };
  const pdb = pdbs[0];
  if (!pdb) return { allowed: true };
  if (!isPodReady(pod)) {
    if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return { allowed: true };
    const s = pdb.status ?? {};
    if (Number(s.currentHealthy ?? 0) >= Number(s.desiredHealthy ?? 0) && Number(s.desiredHealthy ?? 0) > 0) return { allowed: true };
  }
  return budgetVerdict(structuredClone(pdb));
}

/**
 * What the eviction handler writes before deleting a pod its budget allowed: one disruption fewer
 * and the pod recorded in status.disruptedPods, so a second eviction right after cannot pass on
 * the same allowance and the disruption controller does not count the pod as healthy meanwhile.
 */
export function recordEviction(store: ObjectStore, pdb: KubeObject, podName: string): void {
  store.mutate(PDBS, pdb.metadata.namespace, pdb.metadata.name ?? '', (o) => {
    if (o.metadata.uid !== pdb.metadata.uid) return false;
    const status = { ...(o.status ?? {}) };
    status.disruptionsAllowed = Number(status.disruptionsAllowed ?? 0) - 1;
    if (status.disruptionsAllowed === 0) status.conditions = withDisruptionAllowedCondition(status.conditions, false, Number(status.observedGeneration ?? 0));
    status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: kubeTime() };
    o.status = status;
  }, { part: 'status' });
}
