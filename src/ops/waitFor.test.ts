import { describe, expect, it } from 'vitest';
import { Deadline, formatDuration } from './deadline.js';
import { OperationAbortedError, WaitTimeoutError } from './opsErrors.js';
import { FakeClock } from './testing/fakeClock.js';
import { waitFor } from './waitFor.js';

describe('waitFor', () => {
  it('returns the value as soon as the probe is done', async () => {
    const clock = new FakeClock();
    let n = 0;
    const v = await waitFor('three looks', () => Promise.resolve(++n >= 3 ? { done: true as const, value: n } : { done: false as const, status: `look ${n}` }), {
      deadline: Deadline.in(10_000, clock),
      clock,
      intervalMs: 100,
    });
    expect(v).toBe(3);
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it('times out with the last status and never sleeps past the deadline', async () => {
    const clock = new FakeClock();
    const statuses: string[] = [];
    const err = await waitFor('forever', () => Promise.resolve({ done: false as const, status: 'still waiting' }), {
      deadline: Deadline.in(2500, clock),
      clock,
      intervalMs: 1000,
      onStatus: (s) => statuses.push(s),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe('timed out after 2.5s waiting for forever: still waiting');
    expect(clock.sleeps).toEqual([1000, 1000, 500]);
    expect(statuses).toEqual(['still waiting']);
  });

  it('stops when aborted', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = waitFor(
      'abortable',
      () => {
        ac.abort('stop');
        return Promise.resolve({ done: false as const, status: 'x' });
      },
      { deadline: Deadline.never(), clock, signal: ac.signal },
    );
    await expect(p).rejects.toBeInstanceOf(OperationAbortedError);
  });

  it('Deadline: 0 means no limit, like kubectl --timeout=0; durations print like Go', () => {
    const clock = new FakeClock();
    expect(Deadline.in(0, clock).remainingMs(clock)).toBe(Infinity);
    expect(Deadline.in(0, clock).describe()).toBe('no limit');
    expect(Deadline.in(90_000, clock).describe()).toBe('1m30s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(3_600_000)).toBe('1h0m0s');
  });
});
