/**
 * Waiting for a node's pods to be gone through one watch of that node's pods, shared by every
 * pod a drain waits on: one list and one open watch instead of a GET per pod per poll interval
 * (a node with 30 pods and 20 s of termination was 600 GETs at kubectl's 1 s). The watch resumes
 * after a cut and re-lists on 410 (watchUntil.ts), all under the drain's deadline.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import { objectKey, type KubeObject, type Pod } from '../kube/kubeTypes.js';
import type { Clock } from './clock.js';
import { Deadline } from './deadline.js';
import { OperationAbortedError, WaitTimeoutError } from './opsErrors.js';
import type { EventSink } from './opsEvents.js';
import { watchUntil } from './watchUntil.js';

/** Whether an awaited pod is gone: 404, a new pod under the same name, or terminating too long. */
export type DeletionJudge = (original: Pod, current: Pod | undefined, now: number) => 'gone' | 'skipped' | 'pending';

export interface PodDeletionWatchOptions {
  node: string;
  judge: DeletionJudge;
  deadline: Deadline;
  signal: AbortSignal | undefined;
  clock: Clock;
  /** Pause before resuming a watch the server closed; how often the deadline (and "terminating too long") is looked at. */
  intervalMs: number;
  events: EventSink;
}

interface Waiter {
  pod: Pod;
  settle: (error?: unknown) => void;
}

export class PodDeletionWatch {
  private current: Map<string, Pod> | undefined;
  private readonly waiting = new Map<string, Waiter>();
  private readonly stopped = new AbortController();
  private started = false;
  private ticking = false;
  private signal: AbortSignal | undefined;
  /** Why the watch ended (deadline, abort, a refused watch): later waiters get it at once. */
  private ended: unknown;
  private initial: { items: KubeObject[]; resourceVersion: string } | undefined;

  constructor(
    private readonly client: Pick<ClusterClient, 'listWithVersion' | 'watch'>,
    private readonly opts: PodDeletionWatchOptions,
  ) {}

  /** Starts the watch from a list of the node's pods the caller read (instead of listing again). */
  prime(listed: { items: KubeObject[]; resourceVersion: string }): void {
    if (!this.started) this.initial = listed;
  }

  /** Resolves once `pod` is gone; rejects with WaitTimeoutError at the deadline or the watch's error. */
  until(pod: Pod): Promise<void> {
    if (this.ended !== undefined) return Promise.reject(asError(this.ended));
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(objectKey(pod), { pod, settle: (e) => (e === undefined ? resolve() : reject(asError(e))) });
      this.start();
      this.judge();
    });
  }

  /** Ends the watch (the drain is over). */
  close(): void {
    this.stopped.abort();
  }

  private judge(): void {
    this.settleGone();
    // The deadline runs while some pod is still awaited, also before the first list answers (an
    // API server that is down must not stretch the drain past its deadline).
    if (this.waiting.size && !this.ticking && this.signal) {
      this.ticking = true;
      void this.tick(this.signal).finally(() => (this.ticking = false));
    }
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const { node, clock } = this.opts;
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, this.stopped.signal]) : this.stopped.signal;
    this.signal = signal;
    const what = this.what();
    // The deadline is kept here, a poll interval at a time, not by the watch's own timer: one
    // sleep until the deadline would, on a virtual clock, make every wait end at once.
    const watching = watchUntil(
      this.client,
      what,
      { kind: { apiVersion: 'v1', kind: 'Pod' }, fieldSelector: `spec.nodeName=${node}` },
      (objects) => {
        this.current = new Map(objects.map((o) => [objectKey(o), o as Pod]));
        this.judge();
        return { done: false, status: this.status() };
      },
      { deadline: Deadline.never(), signal, clock, intervalMs: this.opts.intervalMs, initial: this.initial, onRestart: (why) => this.opts.events({ type: 'watchRestart', what: `pods on node ${node}`, why }) },
    );
    watching.then(
      () => this.end(new OperationAbortedError(what)),
      (e: unknown) => this.end(e),
    );
  }

  private what(): string {
    return `pods on node ${this.opts.node} to be deleted`;
  }

  private settleGone(): void {
    if (!this.current) return;
    const now = this.opts.clock.now();
    for (const [key, w] of this.waiting) {
      if (this.opts.judge(w.pod, this.current.get(key), now) === 'pending') continue;
      this.waiting.delete(key);
      w.settle();
    }
  }

  private status(): string {
    return `still terminating: ${[...this.waiting.keys()].join(', ')}`;
  }

  private async tick(signal: AbortSignal): Promise<void> {
    const { clock, deadline } = this.opts;
    // One turn of the event loop first: a list that answers at once settles what is already gone
    // without a sleep (a virtual clock advances by these sleeps).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (!signal.aborted && this.ended === undefined && this.waiting.size) {
      if (deadline.passed(clock)) {
        this.end(new WaitTimeoutError(this.what(), deadline.describe(), this.status()));
        this.stopped.abort();
        return;
      }
      await clock.sleep(Math.min(this.opts.intervalMs, Math.max(0, deadline.remainingMs(clock))), signal).catch(() => undefined);
      // Time alone can settle a pod: terminating longer than the drain waits for.
      this.settleGone();
    }
  }

  private end(e: unknown): void {
    if (this.ended !== undefined) return;
    this.ended = e;
    for (const w of this.waiting.values()) w.settle(e);
    this.waiting.clear();
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
