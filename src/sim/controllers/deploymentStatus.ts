import type { KubeObject } from '../store/kubeObject.js';
import { kubeTime, parseKubeTime } from './kubeTime.js';
import { maxUnavailable } from './deploymentRollout.js';

/** apps/v1 DeploymentCondition as JSON. */
export interface DeploymentCondition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** The part of DeploymentStatus the controller computes. */
export interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions: DeploymentCondition[];
  collisionCount?: number;
}

/** Progressing condition reasons (pkg/controller/deployment/util). */
export const ProgressReasons = {
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
} as const;

const num = (v: unknown) => Number(v ?? 0);

/** deploymentutil.GetDeploymentCondition. */
export function deploymentCondition(status: { conditions?: DeploymentCondition[] } | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A new condition stamped now. */
export function newCondition(type: string, status: string, reason: string, message: string, now = kubeTime()): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/**
 * deploymentutil.SetDeploymentCondition: no change when status and reason are the same; keeps
 * lastTransitionTime when only the reason changes; the condition moves to the end.
 */
export function setDeploymentCondition(status: { conditions: DeploymentCondition[] }, condition: DeploymentCondition): void {
  const current = deploymentCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...status.conditions.filter((c) => c.type !== condition.type), next];
}

/** calculateStatus: counts from the ReplicaSets, and the Available condition. */
export function calculateStatus(d: KubeObject, all: readonly KubeObject[], newRS: KubeObject | undefined, now = kubeTime()): DeploymentStatus {
  const available = all.reduce((n, rs) => n + num(rs.status?.availableReplicas), 0);
  const total = all.reduce((n, rs) => n + num(rs.spec?.replicas), 0);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: all.reduce((n, rs) => n + num(rs.status?.replicas), 0),
    updatedReplicas: newRS ? num(newRS.status?.replicas) : 0,
    readyReplicas: all.reduce((n, rs) => n + num(rs.status?.readyReplicas), 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(total - available, 0),
    conditions: structuredClone((d.status?.conditions ?? []) as DeploymentCondition[]),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const enough = available >= num(d.spec?.replicas ?? 1) - maxUnavailable(d);
  setDeploymentCondition(status, enough
    ? newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now)
    : newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now));
  return status;
}

/** deploymentutil.DeploymentComplete: every replica updated and available, and nothing older left. */
export function deploymentComplete(d: KubeObject, s: DeploymentStatus): boolean {
  const want = num(d.spec?.replicas ?? 1);
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && s.observedGeneration >= (d.metadata.generation ?? 1);
}

/** deploymentutil.DeploymentProgressing: more updated/ready/available pods, or fewer old ones, than before. */
export function deploymentProgressing(d: KubeObject, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldStale = num(old.replicas) - num(old.updatedReplicas);
  const newStale = s.replicas - s.updatedReplicas;
  return s.updatedReplicas > num(old.updatedReplicas) || newStale < oldStale || s.readyReplicas > num(old.readyReplicas) || s.availableReplicas > num(old.availableReplicas);
}

/** Milliseconds left before the progress deadline passes (negative once passed), or undefined when it does not apply. */
export function msToProgressDeadline(d: KubeObject, s: DeploymentStatus, nowMs: number): number | undefined {
  const deadline = d.spec?.progressDeadlineSeconds;
  if (typeof deadline !== 'number' || deadline >= 2147483647) return undefined;
  const cond = deploymentCondition(s, 'Progressing');
  if (!cond || cond.reason === ProgressReasons.newRSAvailable) return undefined;
  if (cond.reason === ProgressReasons.timedOut) return -1;
  return (parseKubeTime(cond.lastUpdateTime) ?? nowMs) + deadline * 1000 - nowMs;
}

/**
 * syncRolloutStatus's conditions: Progressing becomes NewReplicaSetAvailable when the rollout is
 * complete, is refreshed as ReplicaSetUpdated while progress is made, and turns False with
 * ProgressDeadlineExceeded once progressDeadlineSeconds pass without progress.
 */
export function applyProgressConditions(d: KubeObject, s: DeploymentStatus, newRS: KubeObject | undefined, nowMs: number): void {
  const now = kubeTime(nowMs);
  if (typeof d.spec?.progressDeadlineSeconds !== 'number') {
    s.conditions = s.conditions.filter((c) => c.type !== 'Progressing');
    return;
  }
  const current = deploymentCondition(d.status, 'Progressing');
  if (s.replicas === s.updatedReplicas && current?.reason === ProgressReasons.newRSAvailable) return;
  const rsName = newRS?.metadata.name ?? '';
  const subject = newRS ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata.name ?? ''}"`;
  if (deploymentComplete(d, s)) {
    setDeploymentCondition(s, newCondition('Progressing', 'True', ProgressReasons.newRSAvailable, `ReplicaSet "${rsName}" has successfully progressed.`, now));
  } else if (deploymentProgressing(d, s)) {
    const cond = newCondition('Progressing', 'True', ProgressReasons.rsUpdated, `${subject} is progressing.`, now);
    const existing = deploymentCondition(s, 'Progressing');
    if (existing?.status === 'True') cond.lastTransitionTime = existing.lastTransitionTime;
    s.conditions = [...s.conditions.filter((c) => c.type !== 'Progressing'), cond];
  } else if ((msToProgressDeadline(d, s, nowMs) ?? 1) < 0) {
    setDeploymentCondition(s, newCondition('Progressing', 'False', ProgressReasons.timedOut, `${subject} has timed out progressing.`, now));
  }
}
