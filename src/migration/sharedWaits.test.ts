import { describe, expect, it } from 'vitest';
import { SharedWaits } from './sharedWaits.js';

describe('SharedWaits', () => {
  it('runs one wait for every caller that asks before it starts', async () => {
    const waits = new SharedWaits();
    let started = 0;
    const start = () => Promise.resolve(++started);
    const results = await Promise.all([waits.join('rollouts', start), waits.join('rollouts', start), waits.join('rollouts', start)]);
    expect(results).toEqual([1, 1, 1]);
    expect(started).toBe(1);
  });

  it('never joins a wait that has started: a later caller gets its own', async () => {
    const waits = new SharedWaits();
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = waits.join('rollouts', async () => {
      started++;
      await gate;
      return 'first';
    });
    // Let the first wait start, then ask again while it runs.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const second = waits.join('rollouts', () => Promise.resolve(`second after ${started}`));
    release();
    expect(await Promise.all([first, second])).toEqual(['first', 'second after 1']);
  });

  it('keeps different waits apart and passes a failure to every caller', async () => {
    const waits = new SharedWaits();
    const a = waits.join('a', () => Promise.reject(new Error('rollout of canal timed out')));
    const a2 = waits.join('a', () => Promise.resolve('never run'));
    const b = waits.join('b', () => Promise.resolve('b done'));
    await expect(a).rejects.toThrow('rollout of canal timed out');
    await expect(a2).rejects.toThrow('rollout of canal timed out');
    expect(await b).toBe('b done');
  });
});
