import { describe, expect, it } from 'vitest';
import { waitFor } from './testing/waitFor.js';
import { COSTLY_RUN_MS, WorkQueue } from './workQueue.js';

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: a reconcile doing real work
  }
}

describe('WorkQueue', () => {
  it('runs a key added many times once, soon', async () => {
    const runs: string[] = [];
    const q = new WorkQueue((key) => runs.push(key));
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    await waitFor(() => runs.length >= 2, 1000, 'two runs');
    expect(runs).toEqual(['a', 'b']);
    q.stop();
  });

  it('rests a costly key a few times its run time, folding the adds meanwhile into one run; cheap keys never wait', async () => {
    const runs: { key: string; at: number }[] = [];
    const costMs = COSTLY_RUN_MS * 5;
    const q = new WorkQueue((key) => {
      runs.push({ key, at: performance.now() });
      if (key === 'big') spin(costMs);
    });
    q.add('big');
    await waitFor(() => runs.length === 1, 1000, 'first run');
    const firstDone = runs[0]!.at + costMs;
    for (let i = 0; i < 10; i++) q.add('big');
    q.add('small');
    await waitFor(() => runs.some((r) => r.key === 'small'), 1000, 'the cheap key');
    expect(runs.map((r) => r.key)).toEqual(['big', 'small']);
    await waitFor(() => runs.length === 3, 2000, 'the costly key again');
    expect(runs[2]!.key).toBe('big');
    expect(runs[2]!.at - firstDone).toBeGreaterThanOrEqual(costMs * 2);
    q.stop();
  });

  it('rests a costly key its own run re-added (a controller seeing its own writes) as well', async () => {
    const starts: number[] = [];
    const costMs = COSTLY_RUN_MS * 5;
    const q: WorkQueue = new WorkQueue((key) => {
      starts.push(performance.now());
      spin(costMs);
      if (starts.length < 2) q.add(key);
    });
    q.add('big');
    await waitFor(() => starts.length === 2, 2000, 'the second run');
    expect(starts[1]! - (starts[0]! + costMs)).toBeGreaterThanOrEqual(costMs * 2);
    q.stop();
  });
});
