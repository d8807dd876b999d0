import { describe, expect, it } from 'vitest';
import { memoizeFrozen } from './frozenMemo.js';

describe('memoizeFrozen', () => {
  it('computes once per frozen argument (undefined included), and every time for one that may still change', () => {
    let calls = 0;
    const phase = memoizeFrozen((o: { phase?: string }) => {
      calls++;
      return o.phase;
    });
    const stored = Object.freeze({ phase: 'Running' });
    const none = Object.freeze({});
    expect([phase(stored), phase(stored), phase(none), phase(none)]).toEqual(['Running', 'Running', undefined, undefined]);
    expect(calls).toBe(2);
    const draft: { phase?: string } = { phase: 'Pending' };
    expect(phase(draft)).toBe('Pending');
    draft.phase = 'Running';
    expect(phase(draft)).toBe('Running');
    expect(calls).toBe(4);
  });
});
