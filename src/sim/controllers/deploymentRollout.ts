import type { KubeObject } from '../store/kubeObject.js';
import { scaledValue } from './intOrPercent.js';
import { parseKubeTime } from './kubeTime.js';

/** A ReplicaSet as the rollout arithmetic sees it. */
export interface RsCounts {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas, never more than spec.replicas (a status not yet caught up with a scale-down). */
  available: number;
  /** Pods that may still exist: spec.replicas, or status.replicas while a scale-down is not yet done. */
  current: number;
  createdMs: number;
}

/** A ReplicaSet's counts for the rollout arithmetic. */
export function rsCounts(rs: KubeObject): RsCounts {
  const replicas = Number(rs.spec?.replicas ?? 0);
  return {
    name: rs.metadata.name ?? '',
    replicas,
    available: Math.min(Number(rs.status?.availableReplicas ?? 0), replicas),
    current: Math.max(Number(rs.status?.replicas ?? 0), replicas),
    createdMs: parseKubeTime(rs.metadata.creationTimestamp) ?? 0,
  };
}

/** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreationTime(a: RsCounts, b: RsCounts): number {
  return a.createdMs - b.createdMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function isRollingUpdate(d: KubeObject): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/**
 * deploymentutil.ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down, and when both
 * come to zero maxUnavailable becomes 1 so the rollout can move.
 */
export function resolveFenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const desired = Number(d.spec?.replicas ?? 1);
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** deploymentutil.MaxUnavailable: 0 for Recreate or zero replicas, never above the replicas. */
export function maxUnavailable(d: KubeObject): number {
  const desired = Number(d.spec?.replicas ?? 1);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, desired);
}

/** deploymentutil.MaxSurge: 0 for Recreate. */
export function maxSurge(d: KubeObject): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

const sum = (list: readonly RsCounts[], f: (r: RsCounts) => number) => list.reduce((n, r) => n + f(r), 0);

/**
 * deploymentutil.NewRSNewReplicas: with RollingUpdate the new ReplicaSet grows while all
 * ReplicaSets together stay within replicas + maxSurge; with Recreate it goes straight to replicas.
 * Old ReplicaSets count with the pods they still have until their scale-down is done, so the surge
 * limit holds for pods, not only for spec.replicas.
 */
export function newRSNewReplicas(d: KubeObject, all: readonly RsCounts[], newRS: RsCounts): number {
  const desired = Number(d.spec?.replicas ?? 1);
  if (!isRollingUpdate(d)) return desired;
  const current = sum(all, (r) => r.current);
  const maxTotal = desired + maxSurge(d);
  if (current >= maxTotal) return newRS.replicas;
  return newRS.replicas + Math.min(maxTotal - current, Math.max(desired - newRS.replicas, 0));
}

/**
 * reconcileOldReplicaSets: how far old ReplicaSets may shrink now, as name → new replicas. First
 * unhealthy replicas go (cleanupUnhealthyReplicas), then available ones while at least
 * replicas - maxUnavailable pods stay available (scaleDownOldReplicaSetsForRollingUpdate).
 */
export function planOldScaleDown(d: KubeObject, old: readonly RsCounts[], newRS: RsCounts): Map<string, number> {
  const out = new Map<string, number>();
  if (sum(old, (r) => r.replicas) === 0) return out;
  const olds = old.map((r) => ({ ...r })).sort(byCreationTime);
  const minAvailable = Number(d.spec?.replicas ?? 1) - maxUnavailable(d);
  const maxScaledDown = sum(olds, (r) => r.replicas) + newRS.replicas - minAvailable - (newRS.replicas - newRS.available);
  if (maxScaledDown <= 0) return out;
  let cleaned = 0;
  for (const rs of olds) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = rs.replicas - rs.available;
    if (rs.replicas === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    rs.replicas -= n;
    cleaned += n;
    out.set(rs.name, rs.replicas);
  }
  const available = sum(olds, (r) => r.available) + newRS.available;
  let toScaleDown = available - minAvailable;
  for (const rs of olds) {
    if (toScaleDown <= 0) break;
    if (rs.replicas === 0) continue;
    const n = Math.min(rs.replicas, toScaleDown);
    rs.replicas -= n;
    toScaleDown -= n;
    out.set(rs.name, rs.replicas);
  }
  return out;
}
