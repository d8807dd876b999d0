/**
 * Deletes the pods on a node and waits until they are gone — the seed's step after a drain:
 * every non-hostNetwork pod (DaemonSet pods included) must be recreated so its sandbox gets the
 * node's current CNI configuration. hostNetwork pods have no pod network and are left alone.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import { podWorkload } from './podWorkload.js';
import { isConflict } from '../kube/kubeErrors.js';
import { objectKey, type Pod } from '../kube/kubeTypes.js';
import { systemClock, throwIfAborted, type Clock } from './clock.js';
import type { Deadline } from './deadline.js';
import { deletionProgress } from './drain.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';
import { watchUntil } from './watchUntil.js';

/** Pods whose network comes from the CNI: not hostNetwork, not static (mirror) pods. */
export function usesPodNetwork(pod: Pod): boolean {
  if (pod.spec?.hostNetwork) return false;
  return !(pod.metadata.annotations && 'kubernetes.io/config.mirror' in pod.metadata.annotations);
}

/** Options for deleteNodePods. */
export interface DeleteNodePodsOptions {
  /** Which pods to delete (default: usesPodNetwork). */
  filter?: (pod: Pod) => boolean;
  /** Grace period for each delete; omitted = each pod's own. */
  gracePeriodSeconds?: number | undefined;
  deadline: Deadline;
  signal?: AbortSignal | undefined;
  /** Poll interval while waiting (default 1 s). */
  pollIntervalMs?: number;
  clock?: Clock;
  events?: EventSink;
}

/**
 * Deletes the selected pods on `node` (each with a UID precondition, so a replacement is never
 * hit) and waits until every one is gone (404 or a new UID). Throws WaitTimeoutError naming the
 * pods still terminating.
 */
export async function deleteNodePods(client: ClusterClient, node: string, opts: DeleteNodePodsOptions): Promise<{ deleted: string[] }> {
  const events = opts.events ?? ignoreEvents;
  const clock = opts.clock ?? systemClock;
  // One list serves both: the pods to delete, and where the deletion watch starts.
  const listed = await client.listWithVersion({ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: `spec.nodeName=${node}` });
  const pods = (listed.items as Pod[]).filter(opts.filter ?? usesPodNetwork);
  for (const pod of pods) {
    throwIfAborted(opts.signal);
    events({ type: 'podDeleting', node, pod: objectKey(pod), workload: podWorkload(pod) });
    try {
      await client.deletePod(pod.metadata.namespace ?? '', pod.metadata.name ?? '', { gracePeriodSeconds: opts.gracePeriodSeconds, uid: pod.metadata.uid });
    } catch (e) {
      // 409 on the UID precondition: that pod is already gone and replaced.
      if (!isConflict(e)) throw e;
    }
  }
  let pending = pods;
  if (pending.length) {
    await watchUntil(
      client,
      `pods on node ${node} to be deleted`,
      { kind: { apiVersion: 'v1', kind: 'Pod' }, fieldSelector: `spec.nodeName=${node}` },
      (objects) => {
        const now = new Map(objects.map((o) => [objectKey(o), o as Pod]));
        const still: Pod[] = [];
        for (const pod of pending) {
          if (deletionProgress(pod, now.get(objectKey(pod)), 0, clock.now()) === 'pending') still.push(pod);
          else events({ type: 'podGone', node, pod: objectKey(pod) });
        }
        pending = still;
        return still.length ? { done: false, status: `still terminating: ${still.map((p) => objectKey(p)).join(', ')}` } : { done: true, value: undefined };
      },
      { deadline: opts.deadline, signal: opts.signal, intervalMs: opts.pollIntervalMs ?? 1000, clock, initial: listed, onRestart: (why) => events({ type: 'watchRestart', what: `pods on node ${node}`, why }) },
    );
  }
  return { deleted: pods.map((p) => objectKey(p)) };
}
