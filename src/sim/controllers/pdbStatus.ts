import type { KubeObject } from '../store/kubeObject.js';
import { scaledValue } from './intOrPercent.js';
import { kubeTime, parseKubeTime } from './kubeTime.js';
import { isPodReady } from './podStatus.js';

/** How long an eviction's entry in status.disruptedPods holds a pod out of the healthy count (DeletionTimeout). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

/** metav1.Condition as JSON. */
export interface MetaCondition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Expected and desired pod counts of a PDB (getExpectedPodCount). */
export interface PdbTargets {
  expectedPods: number;
  desiredHealthy: number;
}

/**
 * getExpectedPodCount: maxUnavailable (int or percent) and a minAvailable percentage are taken
 * against the owning controllers' scale; an integer minAvailable against the matching pods.
 * `scale` is asked only when needed (it may throw, as finding the controllers may fail).
 */
export function pdbTargets(pdb: KubeObject, matchingPods: number, scale: () => number): PdbTargets {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expected = scale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expected, true);
    return { expectedPods: expected, desiredHealthy: Math.max(expected - maxUnavailable, 0) };
  }
  if (typeof spec.minAvailable === 'number') return { expectedPods: matchingPods, desiredHealthy: spec.minAvailable };
  if (typeof spec.minAvailable === 'string') {
    const expected = scale();
    return { expectedPods: expected, desiredHealthy: scaledValue(spec.minAvailable, expected, true) };
  }
  return { expectedPods: 0, desiredHealthy: 0 };
}

/**
 * buildDisruptedPodMap: keeps the evictions still expected to happen (pod present, not yet being
 * deleted, recorded less than DeletionTimeout ago) and when to look again.
 */
export function liveDisruptedPods(pods: readonly KubeObject[], recorded: Record<string, string> | undefined, nowMs: number): { disrupted: Record<string, string>; recheckAtMs?: number } {
  const disrupted: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    const at = parseKubeTime(recorded?.[name]);
    if (pod.metadata.deletionTimestamp || at === undefined) continue;
    const expires = at + DISRUPTED_POD_TIMEOUT_MS;
    if (expires < nowMs) continue;
    disrupted[name] = recorded![name]!;
    recheckAtMs = Math.min(recheckAtMs ?? expires, expires);
  }
  return { disrupted, recheckAtMs };
}

/** countHealthyPods: Ready, not being deleted, not about to be evicted. */
export function countHealthyPods(pods: readonly KubeObject[], disrupted: Record<string, string>): number {
  return pods.filter((p) => !p.metadata.deletionTimestamp && disrupted[p.metadata.name ?? ''] === undefined && isPodReady(p)).length;
}

/**
 * apimeta.SetStatusCondition for DisruptionAllowed (pdbhelper.UpdateDisruptionAllowedCondition):
 * SufficientPods while disruptions are allowed, InsufficientPods otherwise, or a given failure.
 */
export function withDisruptionAllowedCondition(
  conditions: readonly MetaCondition[] | undefined,
  allowed: boolean,
  observedGeneration: number,
  failure?: { reason: string; message: string },
  now = kubeTime(),
): MetaCondition[] {
  const status = allowed ? 'True' : 'False';
  const reason = failure?.reason ?? (allowed ? 'SufficientPods' : 'InsufficientPods');
  const current = conditions?.find((c) => c.type === 'DisruptionAllowed');
  const next: MetaCondition = {
    type: 'DisruptionAllowed',
    status,
    observedGeneration,
    lastTransitionTime: current && current.status === status ? current.lastTransitionTime : now,
    reason,
    message: failure?.message ?? '',
  };
  return [...(conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed'), next];
}

/** The status a PDB should have (updatePdbStatus), with its condition. */
export function computePdbStatus(pdb: KubeObject, targets: PdbTargets, currentHealthy: number, disrupted: Record<string, string>): Record<string, unknown> {
  let allowed = currentHealthy - targets.desiredHealthy;
  if (targets.expectedPods <= 0 || allowed <= 0) allowed = 0;
  const generation = pdb.metadata.generation ?? 1;
  const status: Record<string, unknown> = {
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy,
    desiredHealthy: targets.desiredHealthy,
    expectedPods: targets.expectedPods,
    observedGeneration: generation,
  };
  status.conditions = withDisruptionAllowedCondition(pdb.status?.conditions, allowed > 0, generation);
  return status;
}
