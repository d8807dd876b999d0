/** A virtual clock: sleeping advances time instantly, so timeouts are tested without waiting. */
import type { Clock } from '../clock.js';
import { OperationAbortedError } from '../opsErrors.js';

/** Virtual time starting at `start`; each sleep(ms) moves it forward by ms and yields to the event loop. */
export class FakeClock implements Clock {
  /** Every sleep requested, in order. */
  readonly sleeps: number[] = [];

  constructor(private time = Date.parse('2025-01-01T00:00:00Z')) {}

  now(): number {
    return this.time;
  }

  /** Moves time forward without sleeping. */
  advance(ms: number): void {
    this.time += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new OperationAbortedError(signal.reason);
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
    // Let other tasks (concurrent evictions, the fake's own callbacks) run, as real time would.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new OperationAbortedError(signal.reason);
  }
}
