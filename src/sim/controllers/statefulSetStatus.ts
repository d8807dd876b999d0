import type { StatefulPodView } from './statefulSetPods.js';

/** The pod counts of StatefulSetStatus. */
export interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
}

/**
 * computeReplicaStatus: pods that exist count as replicas; running-and-ready ones as ready (and
 * available after minReadySeconds); live ones by the revision they carry.
 */
export function countReplicas(pods: readonly StatefulPodView[], currentRevision: string, updateRevision: string): ReplicaCounts {
  const c: ReplicaCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const p of pods) {
    if (p.created) c.replicas++;
    if (p.runningAndReady) {
      c.readyReplicas++;
      if (p.available) c.availableReplicas++;
    }
    if (p.created && !p.terminating) {
      if (p.revision === currentRevision) c.currentReplicas++;
      if (p.revision === updateRevision) c.updatedReplicas++;
    }
  }
  return c;
}

/** What the status is computed from. */
export interface StatusInput {
  generation: number;
  /** spec.replicas */
  specReplicas: number;
  counts: ReplicaCounts;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  rollingUpdate: boolean;
}

/**
 * The status the controller writes: completeRollingUpdate first (once spec.replicas pods exist,
 * all updated and ready, the update revision becomes the current one), then the JSON the API
 * server would serve — the omitempty counters (readyReplicas, currentReplicas, updatedReplicas)
 * left out at zero; replicas, availableReplicas and collisionCount always present. The status is
 * built afresh, so conditions someone else wrote are dropped, as upstream.
 */
export function statefulSetStatus(input: StatusInput): Record<string, unknown> {
  const counts = { ...input.counts };
  let currentRevision = input.currentRevision;
  const want = input.specReplicas;
  if (input.rollingUpdate && counts.updatedReplicas === want && counts.readyReplicas === want && counts.replicas === want) {
    counts.currentReplicas = counts.updatedReplicas;
    currentRevision = input.updateRevision;
  }
  const omitZero = (key: string, n: number) => (n ? { [key]: n } : {});
  return {
    observedGeneration: input.generation,
    replicas: counts.replicas,
    ...omitZero('readyReplicas', counts.readyReplicas),
    ...omitZero('currentReplicas', counts.currentReplicas),
    ...omitZero('updatedReplicas', counts.updatedReplicas),
    currentRevision,
    updateRevision: input.updateRevision,
    collisionCount: input.collisionCount,
    availableReplicas: counts.availableReplicas,
  };
}

const STATUS_FIELDS = ['replicas', 'currentReplicas', 'readyReplicas', 'updatedReplicas', 'currentRevision', 'availableReplicas', 'updateRevision'];

/**
 * inconsistentStatus: whether the new status is worth a write — a newer observedGeneration or a
 * different count or revision. collisionCount alone does not count, as upstream.
 */
export function statusNeedsWrite(current: Record<string, unknown> | undefined, next: Record<string, unknown>): boolean {
  const value = (s: Record<string, unknown> | undefined, k: string) => s?.[k] ?? (k.endsWith('Revision') ? '' : 0);
  if (Number(next.observedGeneration ?? 0) > Number(current?.observedGeneration ?? 0)) return true;
  return STATUS_FIELDS.some((k) => value(current, k) !== value(next, k));
}
