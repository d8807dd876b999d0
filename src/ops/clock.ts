/** Time as the primitives see it: injected, so tests run without real waiting. */
import { setTimeout as delay } from 'node:timers/promises';
import { OperationAbortedError } from './opsErrors.js';

/** A source of time and a way to wait. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with OperationAbortedError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    try {
      await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
    } catch (e) {
      if (signal?.aborted) throw new OperationAbortedError(signal.reason);
      throw e;
    }
  },
};

/** Throws OperationAbortedError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OperationAbortedError(signal.reason);
}
