/**
 * Keys whose last run took longer than this are spaced out (see WorkQueue). Below it a key runs
 * as soon as it is added, so small clusters and the tests see no delay at all.
 */
export const COSTLY_RUN_MS = 2;
/** A costly key waits this many times its last run's duration before it runs again. */
const COOLDOWN_FACTOR = 3;
/** The longest such wait. */
const MAX_COOLDOWN_MS = 1000;

/**
 * A de-duplicating work queue like client-go's: keys added many times before processing are
 * handled once, processing happens on a later macrotask (never inside a store watch callback),
 * and a key can be re-queued after a delay. Errors from the handler are reported, and the key is
 * retried with a short backoff, so one bad object never stops a controller.
 *
 * A key whose run was costly (a ReplicaSet of 30 000 pods) rests for a few times that long before
 * it runs again, while the events for it pile up into one run: otherwise a stream of pod events
 * re-runs it on every macrotask and one object's reconciles take the whole CPU. Controllers are
 * level-triggered, so a later run sees everything the skipped ones would have.
 */
export class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Costly keys: when each may run again, and the timer that will queue it then. */
  private readonly resting = new Map<string, { until: number; timer?: NodeJS.Timeout }>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly handler: (key: string) => void,
    private readonly onError: (key: string, err: unknown) => void = () => {},
  ) {}

  /** Queues a key for processing soon (after its rest, if its last run was costly). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.deferWhileResting(key)) return;
    this.dirty.add(key);
    this.schedule();
  }

  /** Queues a key after a delay (replaces an earlier delayed add of the same key if sooner). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref?.();
    this.timers.set(key, t);
  }

  /** Stops processing and cancels delayed keys. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const r of this.resting.values()) clearTimeout(r.timer);
    this.resting.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.dirty.clear();
  }

  /** True when the key is resting: it is then queued once, when the rest is over. */
  private deferWhileResting(key: string): boolean {
    const rest = this.resting.get(key);
    if (!rest) return false;
    const wait = rest.until - performance.now();
    if (wait <= 0) {
      clearTimeout(rest.timer);
      this.resting.delete(key);
      return false;
    }
    rest.timer ??= setTimeout(() => {
      this.resting.delete(key);
      this.add(key);
    }, wait);
    rest.timer.unref?.();
    return true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      const keys = [...this.dirty];
      this.dirty.clear();
      for (const key of keys) {
        if (this.stopped) return;
        this.run(key);
      }
    });
  }

  private run(key: string): void {
    const started = performance.now();
    try {
      this.handler(key);
    } catch (err) {
      this.onError(key, err);
      this.addAfter(key, 50);
    }
    const took = performance.now() - started;
    if (took <= COSTLY_RUN_MS) return;
    this.resting.set(key, { until: started + took + Math.min(MAX_COOLDOWN_MS, took * COOLDOWN_FACTOR) });
    // The run's own writes re-added the key (a ReplicaSet sees the pods it created): that add rests too.
    if (this.dirty.delete(key)) this.deferWhileResting(key);
  }
}
