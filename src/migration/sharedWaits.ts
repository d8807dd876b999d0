/**
 * Waits that the nodes of a batch share: when several nodes of a step reach the same wait (the
 * cluster's DaemonSets rolled out) together, one list and one watch serve them all instead of one
 * per node. A caller only ever joins a wait that has not started yet — one that started earlier
 * could judge a state from before the caller's own actions — so a wait starts one tick after it
 * is first asked for, and everyone who asks meanwhile joins it.
 */
export class SharedWaits {
  private readonly pending = new Map<string, Promise<unknown>>();

  /** Runs `start` one tick from now, or joins the one already due for `key`; the caller gets its result. */
  join<T>(key: string, start: () => Promise<T>): Promise<T> {
    const due = this.pending.get(key);
    if (due) return due as Promise<T>;
    const wait = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      // From here on it has started: later callers get a wait of their own.
      this.pending.delete(key);
      return start();
    });
    this.pending.set(key, wait);
    return wait;
  }
}
