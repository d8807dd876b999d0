/** The one bounded polling loop every wait goes through. */
import { systemClock, throwIfAborted, type Clock } from './clock.js';
import type { Deadline } from './deadline.js';
import { WaitTimeoutError } from './opsErrors.js';

/** What one look at the world found. */
export type Probe<T> = { done: true; value: T } | { done: false; status: string };

/** How long and how often to look. */
export interface WaitOptions {
  deadline: Deadline;
  signal?: AbortSignal | undefined;
  /** Pause between looks (default 1 s, kubectl's drain poll interval). */
  intervalMs?: number | undefined;
  clock?: Clock | undefined;
  /** Called with each status that differs from the previous one. */
  onStatus?: ((status: string) => void) | undefined;
}

/**
 * Calls `probe` until it reports done, the deadline passes (WaitTimeoutError with the last
 * status) or the signal aborts (OperationAbortedError). The probe runs at least once.
 */
export async function waitFor<T>(what: string, probe: () => Promise<Probe<T>>, opts: WaitOptions): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const interval = opts.intervalMs ?? 1000;
  let last: string | undefined;
  for (;;) {
    throwIfAborted(opts.signal);
    const r = await probe();
    if (r.done) return r.value;
    if (r.status !== last) opts.onStatus?.(r.status);
    last = r.status;
    const left = opts.deadline.remainingMs(clock);
    if (left <= 0) throw new WaitTimeoutError(what, opts.deadline.describe(), r.status);
    await clock.sleep(Math.min(interval, left), opts.signal);
  }
}
