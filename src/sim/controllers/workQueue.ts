/**
 * A de-duplicating work queue like client-go's: keys added many times before processing are
 * handled once, processing happens on a later macrotask (never inside a store watch callback),
 * and a key can be re-queued after a delay. Errors from the handler are reported, and the key is
 * retried with a short backoff, so one bad object never stops a controller.
 */
export class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly handler: (key: string) => void,
    private readonly onError: (key: string, err: unknown) => void = () => {},
  ) {}

  /** Queues a key for processing soon. */
  add(key: string): void {
    if (this.stopped) return;
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
    if (this.scheduled) clearImmediate(this.scheduled);
    this.dirty.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      const keys = [...this.dirty];
      this.dirty.clear();
      for (const key of keys) {
        if (this.stopped) return;
        try {
          this.handler(key);
        } catch (err) {
          this.onError(key, err);
          this.addAfter(key, 50);
        }
      }
    });
  }
}
