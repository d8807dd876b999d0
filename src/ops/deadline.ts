/** A point in time by which a wait must end, with the budget it was given (for messages). */
import { systemClock, type Clock } from './clock.js';

/** When a wait must give up. `at` is Infinity for "no limit" (kubectl's --timeout=0). */
export class Deadline {
  private constructor(
    /** Clock time (ms) at which the wait gives up. */
    readonly at: number,
    /** The budget it was created with, in ms (Infinity for none). */
    readonly budgetMs: number,
  ) {}

  /** A deadline `ms` from now; 0, negative or Infinity mean no limit, as kubectl's --timeout=0. */
  static in(ms: number, clock: Clock = systemClock): Deadline {
    if (!(ms > 0) || !Number.isFinite(ms)) return Deadline.never();
    return new Deadline(clock.now() + ms, ms);
  }

  /** No limit. */
  static never(): Deadline {
    return new Deadline(Infinity, Infinity);
  }

  /** Milliseconds left (0 when passed, Infinity when unlimited). */
  remainingMs(clock: Clock = systemClock): number {
    return Math.max(0, this.at - clock.now());
  }

  /** True once the deadline has passed. */
  passed(clock: Clock = systemClock): boolean {
    return clock.now() >= this.at;
  }

  /** "30s", "1m30s", "no limit" */
  describe(): string {
    return Number.isFinite(this.budgetMs) ? formatDuration(this.budgetMs) : 'no limit';
  }
}

/** Human duration as Go prints it: 500ms, 5s, 1m30s, 1h0m0s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${Number(((ms % 60_000) / 1000).toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}
