/**
 * The watch-driven wait: list once, then follow a watch from the list's resourceVersion, judging
 * the objects after every event, until the judge says done or the deadline passes. A watch the
 * server ends (a cut connection, its own timeout) resumes from the last resourceVersion seen; a
 * 410 Expired (the version was compacted away) re-lists. One list and one open watch replace a
 * GET every poll interval, whatever the wait's length.
 */
import type { ClusterClient, KindRef, ObjectQuery } from '../kube/clusterClient.js';
import { isTransient, KubeApiError } from '../kube/kubeErrors.js';
import type { KubeObject } from '../kube/kubeTypes.js';
import { systemClock, throwIfAborted } from './clock.js';
import { Deadline } from './deadline.js';
import { WaitTimeoutError } from './opsErrors.js';
import type { Probe, WaitOptions } from './waitFor.js';

/** What to watch. */
export interface WatchTarget extends ObjectQuery {
  kind: KindRef;
}

/** Why a watch was started again. */
export type WatchRestart = 'closed' | 'expired';

/** Options of a watch-driven wait. */
export interface WatchUntilOptions extends WaitOptions {
  /** Called when the watch resumes (closed) or the list is read again (expired). */
  onRestart?: ((why: WatchRestart) => void) | undefined;
  /** A list of the same query the caller already read: the watch starts from it instead of a list of its own. */
  initial?: { items: KubeObject[]; resourceVersion: string } | undefined;
  /**
   * The deadline's budget starts again whenever the status changes (progress), as a Deployment's
   * progressDeadlineSeconds: a 1000-pod DaemonSet rolling one pod at a time may take longer than
   * the budget in all, but fails only when it stalls that long.
   */
  progressDeadline?: boolean | undefined;
}

/** Waits until `judge` says done on the watched objects; WaitTimeoutError with its last status at the deadline. */
export async function watchUntil<T>(client: Pick<ClusterClient, 'listWithVersion' | 'watch'>, what: string, target: WatchTarget, judge: (objects: readonly KubeObject[]) => Probe<T>, opts: WatchUntilOptions): Promise<T> {
  const clock = opts.clock ?? systemClock;
  let deadline = opts.deadline;
  const budget = opts.progressDeadline ? `${deadline.describe()} without progress` : deadline.describe();
  const query: ObjectQuery = { namespace: target.namespace, labelSelector: target.labelSelector, fieldSelector: target.fieldSelector };
  let last = '';
  const look = (objects: Map<string, KubeObject>): Probe<T> => {
    const r = judge([...objects.values()]);
    if (!r.done && r.status !== last) {
      opts.onStatus?.(r.status);
      if (opts.progressDeadline && last !== '') deadline = Deadline.in(opts.deadline.budgetMs, clock);
      last = r.status;
    }
    return r;
  };
  let initial = opts.initial;
  for (;;) {
    throwIfAborted(opts.signal);
    let listed: { items: KubeObject[]; resourceVersion: string };
    try {
      listed = initial ?? (await client.listWithVersion(target.kind, query));
      initial = undefined;
    } catch (e) {
      // A transient answer (an API server restarting, 5xx) is waited out under the same deadline.
      if (!isTransient(e)) throw e;
      const left = deadline.remainingMs(clock);
      if (left <= 0) throw new WaitTimeoutError(what, budget, last || (e as Error).message);
      await clock.sleep(Math.min(opts.intervalMs ?? 1000, left), opts.signal);
      continue;
    }
    const objects = new Map(listed.items.map((o) => [keyOf(o), o]));
    let rv = listed.resourceVersion;
    const first = look(objects);
    if (first.done) return first.value;
    for (;;) {
      const left = deadline.remainingMs(clock);
      if (left <= 0) throw new WaitTimeoutError(what, budget, last);
      const stop = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
      let result: T | undefined;
      let done = false;
      let judgeError: { error: unknown } | undefined;
      let expired = false;
      const watching = client.watch(
        target.kind,
        { ...query, resourceVersion: rv, timeoutSeconds: Number.isFinite(left) ? Math.max(1, Math.ceil(left / 1000)) : undefined },
        (ev) => {
          if (done) return;
          rv = ev.object.metadata.resourceVersion ?? rv;
          if (ev.type === 'BOOKMARK') return;
          if (ev.type === 'DELETED') objects.delete(keyOf(ev.object));
          else objects.set(keyOf(ev.object), ev.object);
          // A judge that throws (a rollout that can never finish) ends the wait with its error,
          // not inside the watch's event handler where nobody would see it.
          let r: Probe<T>;
          try {
            r = look(objects);
          } catch (e) {
            done = true;
            judgeError = { error: e };
            stop.abort();
            return;
          }
          if (r.done) {
            done = true;
            result = r.value;
            stop.abort();
          }
        },
        signal,
      );
      // The deadline ends the watch; an unlimited wait has no timer.
      const timer = Number.isFinite(left) ? clock.sleep(left, stop.signal).then(() => stop.abort(), () => undefined) : Promise.resolve();
      try {
        await watching;
      } catch (e) {
        // 410: the version is gone, read the list again; a transient failure: resume the watch.
        if (!done && !(e instanceof KubeApiError && e.code === 410) && !isTransient(e)) throw e;
        expired = e instanceof KubeApiError && e.code === 410;
      } finally {
        stop.abort();
        await timer;
      }
      if (judgeError) throw judgeError.error;
      if (done) return result as T;
      throwIfAborted(opts.signal);
      opts.onRestart?.(expired ? 'expired' : 'closed');
      if (expired) break;
      // A server that keeps closing at once must not turn the wait into a busy loop.
      const pause = Math.min(opts.intervalMs ?? 1000, deadline.remainingMs(clock));
      if (pause > 0) await clock.sleep(pause, opts.signal);
    }
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}
