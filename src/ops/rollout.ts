/**
 * `kubectl rollout status` (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go): a pure
 * "done? + message" per kind, with kubectl's messages, and a bounded wait that watches it.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import type { DaemonSet, Deployment, StatefulSet, WorkloadKind, WorkloadKinds } from '../kube/kubeTypes.js';
import { systemClock, type Clock } from './clock.js';
import type { Deadline } from './deadline.js';
import { RolloutFailedError } from './opsErrors.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';
import type { Probe } from './waitFor.js';
import { watchUntil, type WatchUntilOptions } from './watchUntil.js';

/** Whether a rollout is complete; `error` means it never will be as things stand (stop waiting). */
export interface RolloutStatus {
  done: boolean;
  message: string;
  error?: string;
}

/** The rollout status of a DaemonSet, Deployment or StatefulSet. */
export function rolloutStatus<K extends WorkloadKind>(kind: K, obj: WorkloadKinds[K]): RolloutStatus {
  switch (kind) {
    case 'DaemonSet':
      return daemonSetRolloutStatus(obj);
    case 'Deployment':
      return deploymentRolloutStatus(obj);
    default:
      return statefulSetRolloutStatus(obj);
  }
}

/** DaemonSetStatusViewer: all desired pods updated and available, once the spec is observed. */
export function daemonSetRolloutStatus(ds: DaemonSet): RolloutStatus {
  const name = ds.metadata.name ?? '';
  // The API server defaults updateStrategy.type to RollingUpdate.
  const strategy = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') return failed(`rollout status is only available for RollingUpdate strategy type`);
  const st = ds.status ?? {};
  if ((ds.metadata.generation ?? 0) <= (st.observedGeneration ?? 0)) {
    const desired = st.desiredNumberScheduled ?? 0;
    const updated = st.updatedNumberScheduled ?? 0;
    const available = st.numberAvailable ?? 0;
    if (updated < desired) return waiting(`Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
    if (available < desired) return waiting(`Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`);
    return { done: true, message: `daemon set "${name}" successfully rolled out` };
  }
  return waiting('Waiting for daemon set spec update to be observed...');
}

/** DeploymentStatusViewer: new replicas updated, old ones gone, updated ones available. */
export function deploymentRolloutStatus(d: Deployment): RolloutStatus {
  const name = d.metadata.name ?? '';
  const st = d.status ?? {};
  if ((d.metadata.generation ?? 0) <= (st.observedGeneration ?? 0)) {
    const progressing = st.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') return failed(`deployment "${name}" exceeded its progress deadline`);
    const updated = st.updatedReplicas ?? 0;
    const replicas = st.replicas ?? 0;
    const available = st.availableReplicas ?? 0;
    const wanted = d.spec?.replicas;
    if (wanted !== undefined && updated < wanted) return waiting(`Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...`);
    if (replicas > updated) return waiting(`Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`);
    if (available < updated) return waiting(`Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`);
    return { done: true, message: `deployment "${name}" successfully rolled out` };
  }
  return waiting('Waiting for deployment spec update to be observed...');
}

/** StatefulSetStatusViewer: ready replicas, then the partition or the revision. */
export function statefulSetRolloutStatus(sts: StatefulSet): RolloutStatus {
  const strategy = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') return failed(`rollout status is only available for RollingUpdate strategy type`);
  const st = sts.status ?? {};
  const observed = st.observedGeneration ?? 0;
  if (observed === 0 || (sts.metadata.generation ?? 0) > observed) return waiting('Waiting for statefulset spec update to be observed...');
  const replicas = sts.spec?.replicas;
  const ready = st.readyReplicas ?? 0;
  const updated = st.updatedReplicas ?? 0;
  if (replicas !== undefined && ready < replicas) return waiting(`Waiting for ${replicas - ready} pods to be ready...`);
  const rolling = sts.spec?.updateStrategy?.rollingUpdate;
  if (rolling) {
    const partition = rolling.partition;
    if (replicas !== undefined && partition !== undefined && updated < replicas - partition) {
      return waiting(`Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`);
    }
    return { done: true, message: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (st.updateRevision !== st.currentRevision) {
    return waiting(`waiting for statefulset rolling update to complete ${updated} pods at revision ${st.updateRevision ?? ''}...`);
  }
  return { done: true, message: `statefulset rolling update complete ${st.currentReplicas ?? 0} pods at revision ${st.currentRevision ?? ''}...` };
}

/** Options for waitForRollout. */
export interface RolloutWaitOptions {
  deadline: Deadline;
  signal?: AbortSignal | undefined;
  /** Poll interval (default 2 s). */
  intervalMs?: number;
  clock?: Clock;
  events?: EventSink;
}

/**
 * Watches the workload until rolloutStatus says done (one GET, then a watch from its
 * resourceVersion: see watchUntil.ts). Throws WaitTimeoutError with the last message at the
 * deadline, RolloutFailedError when the rollout cannot finish or the object is deleted meanwhile,
 * and the API error when the object does not exist (as kubectl).
 */
export async function waitForRollout<K extends WorkloadKind>(
  client: ClusterClient,
  ref: { kind: K; namespace: string; name: string },
  opts: RolloutWaitOptions,
): Promise<RolloutStatus> {
  const what = `${ref.kind} ${ref.namespace}/${ref.name}`;
  const judge = (obj: WorkloadKinds[K]): Probe<RolloutStatus> => {
    const status = rolloutStatus(ref.kind, obj);
    if (status.error) throw new RolloutFailedError(what, status.error);
    return status.done ? { done: true, value: status } : { done: false, status: status.message };
  };
  // Not found is the API's error, as kubectl rollout status reports it.
  const first = judge(await client.getWorkload(ref.kind, ref.namespace, ref.name));
  if (first.done) return first.value;
  return watchUntil(
    client,
    `${what} to roll out`,
    { kind: { apiVersion: 'apps/v1', kind: ref.kind }, namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` },
    (objects) => {
      const obj = objects[0];
      if (!obj) throw new RolloutFailedError(what, 'it was deleted while its rollout was awaited');
      return judge(obj);
    },
    watchOptions(opts, what),
  );
}

/** A rollout wait's watch settings, its progress reported as `what`. */
function watchOptions(opts: RolloutWaitOptions, what: string): WatchUntilOptions {
  const events = opts.events ?? ignoreEvents;
  return {
    deadline: opts.deadline,
    signal: opts.signal,
    intervalMs: opts.intervalMs ?? 2000,
    clock: opts.clock ?? systemClock,
    onStatus: (status) => events({ type: 'waiting', what, status }),
    onRestart: (why) => events({ type: 'watchRestart', what, why }),
  };
}

function waiting(message: string): RolloutStatus {
  return { done: false, message };
}

function failed(error: string): RolloutStatus {
  return { done: false, message: error, error };
}

/** One workload whose rollout is awaited with others. */
export interface RolloutRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/** What waitForRollouts found for one workload. */
export type RolloutOutcome = { ref: RolloutRef; state: 'done'; status: RolloutStatus } | { ref: RolloutRef; state: 'missing' };

/**
 * Waits for several rollouts with one list (and, for what is not done yet, one watch) per kind and
 * namespace instead of a GET and a watch per workload: a step watches the same eight or so
 * DaemonSets after every node. Workloads that do not exist are reported as missing, not awaited;
 * one deleted while awaited, or whose rollout cannot finish, fails the wait (RolloutFailedError).
 */
export async function waitForRollouts(client: Pick<ClusterClient, 'listWithVersion' | 'watch'>, refs: readonly RolloutRef[], opts: RolloutWaitOptions): Promise<RolloutOutcome[]> {
  const groups = new Map<string, RolloutRef[]>();
  for (const r of refs) {
    const key = `${r.kind}/${r.namespace}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out = new Map<RolloutRef, RolloutOutcome>();
  for (const group of groups.values()) {
    const { kind, namespace } = group[0]!;
    const present = new Set<string>();
    let first = true;
    const what = `${kind}s ${group.map((r) => `${r.namespace}/${r.name}`).join(', ')}`;
    await watchUntil(
      client,
      `${what} to roll out`,
      { kind: { apiVersion: 'apps/v1', kind }, namespace },
      (objects) => {
        const byName = new Map(objects.map((o) => [o.metadata.name ?? '', o]));
        // Missing at the first look: not awaited (as the caller reports). Gone later: a failure.
        if (first) for (const r of group) if (byName.has(r.name)) present.add(r.name);
        first = false;
        const waitingOn: string[] = [];
        for (const r of group) {
          if (!present.has(r.name)) {
            out.set(r, { ref: r, state: 'missing' });
            continue;
          }
          const obj = byName.get(r.name);
          const label = `${r.kind} ${r.namespace}/${r.name}`;
          if (!obj) throw new RolloutFailedError(label, 'it was deleted while its rollout was awaited');
          const status = rolloutStatus(kind, obj as WorkloadKinds[typeof kind]);
          if (status.error) throw new RolloutFailedError(label, status.error);
          if (status.done) out.set(r, { ref: r, state: 'done', status });
          else waitingOn.push(status.message);
        }
        return waitingOn.length ? { done: false, status: waitingOn.join('; ') } : { done: true, value: undefined };
      },
      // Big DaemonSets roll for long: fail on a stall, not on their size.
      { ...watchOptions(opts, what), progressDeadline: true },
    );
  }
  return refs.map((r) => out.get(r)!);
}
