import type { KubeObject } from '../store/kubeObject.js';
import { startOrdinalOf, type StatefulPodView } from './statefulSetPods.js';
import { countReplicas, type ReplicaCounts } from './statefulSetStatus.js';

/** The parts of a StatefulSet the plan depends on. */
export interface StatefulSetShape {
  replicas: number;
  startOrdinal: number;
  /** OrderedReady (monotonic): one pod at a time, each waiting for its predecessors. False for Parallel. */
  ordered: boolean;
  deleting: boolean;
  /** updateStrategy RollingUpdate; OnDelete leaves old pods until someone deletes them. */
  rollingUpdate: boolean;
  /** rollingUpdate.partition when spec.updateStrategy.rollingUpdate is set. */
  partition: number | undefined;
  /** status.currentReplicas, which stands in for the partition when rollingUpdate is not set. */
  statusCurrentReplicas: number;
  currentRevision: string;
  updateRevision: string;
}

/** The shape of a StatefulSet, given the names of its current and update revisions. */
export function statefulSetShape(sts: KubeObject, currentRevision: string, updateRevision: string): StatefulSetShape {
  const strategy = sts.spec?.updateStrategy ?? {};
  const rollingUpdate = (strategy.type ?? 'RollingUpdate') === 'RollingUpdate';
  return {
    replicas: Number(sts.spec?.replicas ?? 1),
    startOrdinal: startOrdinalOf(sts),
    ordered: sts.spec?.podManagementPolicy !== 'Parallel',
    deleting: Boolean(sts.metadata.deletionTimestamp),
    rollingUpdate,
    partition: rollingUpdate && strategy.rollingUpdate ? Number(strategy.rollingUpdate.partition ?? 0) : undefined,
    statusCurrentReplicas: Number(sts.status?.currentReplicas ?? 0),
    currentRevision,
    updateRevision,
  };
}

/** What to do next. */
export interface StatefulSetPlan {
  /** Ordinals to create, each with the revision (name) to make it from. */
  create: { ordinal: number; revision: string }[];
  /** Pod ordinals to delete: finished pods, the surplus, the next one to update. */
  delete: number[];
  /** Ordinals whose identity labels are to be put back. */
  fixIdentity: number[];
  /** Status counts of the pods as they were, less a pod deleted for the update (as updateStatefulSet counts). */
  counts: ReplicaCounts;
}

/**
 * newVersionedStatefulSetPod's choice: during a RollingUpdate, ordinals below the partition (or,
 * without rollingUpdate, below status.currentReplicas) are made at the current revision; every
 * other pod, and every pod under OnDelete, at the update revision.
 */
export function revisionForOrdinal(set: StatefulSetShape, ordinal: number): string {
  if (!set.rollingUpdate) return set.updateRevision;
  const below = set.startOrdinal + (set.partition ?? set.statusCurrentReplicas);
  return ordinal < below ? set.currentRevision : set.updateRevision;
}

/** isUnavailable: not available, or going. */
const isUnavailable = (p: StatefulPodView) => !p.available || p.terminating;

/** runForAll: ordered sets stop at the first step that says so; Parallel sets run every step. */
function runForAll(pods: readonly StatefulPodView[], step: (p: StatefulPodView) => boolean, ordered: boolean): boolean {
  for (const p of pods) if (step(p) && ordered) return true;
  return false;
}

function planDelete(plan: StatefulSetPlan, p: StatefulPodView): void {
  if (!plan.delete.includes(p.ordinal)) plan.delete.push(p.ordinal);
}

/** processReplica: true when an ordered set must stop here for this sync. */
function processReplica(set: StatefulSetShape, plan: StatefulSetPlan, p: StatefulPodView): boolean {
  // Evicted or otherwise stopped: the next sync re-creates it once it is gone from the store.
  if (p.finished) {
    if (!p.terminating) planDelete(plan, p);
    return true;
  }
  if (!p.created) {
    plan.create.push({ ordinal: p.ordinal, revision: p.revision });
    if (set.ordered) return true;
  }
  if (set.ordered && (p.terminating || !p.runningAndReady || !p.available)) return true;
  if (!p.identityMatches) plan.fixIdentity.push(p.ordinal);
  return false;
}

/** processCondemned: a pod beyond the replicas goes, unless an ordered set must wait for it or for a lower one. */
function processCondemned(set: StatefulSetShape, plan: StatefulSetPlan, firstUnavailable: StatefulPodView | undefined, p: StatefulPodView): boolean {
  if (p.terminating) return set.ordered;
  if (set.ordered && p !== firstUnavailable && (!p.runningAndReady || !p.available)) return true;
  planDelete(plan, p);
  return true;
}

/**
 * The RollingUpdate step: from the highest ordinal down to the partition, delete the first pod not
 * at the update revision, but stop at a pod that is not available. One pod at a time, whatever the
 * podManagementPolicy (rollingUpdate.maxUnavailable is behind the MaxUnavailableStatefulSet gate,
 * off by default in Kubernetes 1.35, and is ignored here).
 */
function planUpdate(set: StatefulSetShape, plan: StatefulSetPlan, replicas: readonly StatefulPodView[]): void {
  for (let target = replicas.length - 1; target >= (set.partition ?? 0); target--) {
    const p = replicas[target]!;
    if (p.revision !== set.updateRevision && !p.terminating) {
      planDelete(plan, p);
      plan.counts.currentReplicas = Math.max(plan.counts.currentReplicas - 1, 0);
      return;
    }
    if (isUnavailable(p)) return;
  }
}

/**
 * updateStatefulSet as a plan. Every ordinal of [start, start+replicas) gets a pod: a missing one
 * is created (with OrderedReady only once all lower ordinals are Running, Ready and available, one
 * per sync), a finished one is deleted so the next sync re-creates it under the same name, and a
 * terminating one is waited for. Then pods outside the range go from the highest ordinal down, one
 * at a time with OrderedReady. Then RollingUpdate replaces one outdated pod (planUpdate).
 */
export function planStatefulSet(set: StatefulSetShape, pods: readonly StatefulPodView[]): StatefulSetPlan {
  const replicas: StatefulPodView[] = [];
  const condemned: StatefulPodView[] = [];
  const end = set.startOrdinal + set.replicas - 1;
  for (const p of pods) {
    if (p.ordinal >= set.startOrdinal && p.ordinal <= end) replicas[p.ordinal - set.startOrdinal] = p;
    else if (p.ordinal >= 0) condemned.push(p);
  }
  for (let i = 0; i < set.replicas; i++) {
    const ordinal = set.startOrdinal + i;
    replicas[i] ??= { ordinal, revision: revisionForOrdinal(set, ordinal), created: false, terminating: false, finished: false, runningAndReady: false, available: false, identityMatches: true };
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);
  const firstUnavailable = replicas.find(isUnavailable) ?? [...condemned].reverse().find(isUnavailable);

  const plan: StatefulSetPlan = { create: [], delete: [], fixIdentity: [], counts: countReplicas([...replicas, ...condemned], set.currentRevision, set.updateRevision) };
  if (set.deleting) return plan;
  if (runForAll(replicas, (p) => processReplica(set, plan, p), set.ordered)) return plan;
  if (runForAll(condemned, (p) => processCondemned(set, plan, firstUnavailable, p), set.ordered)) return plan;
  if (set.rollingUpdate) planUpdate(set, plan, replicas);
  return plan;
}
