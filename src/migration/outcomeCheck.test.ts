import { describe, expect, it } from 'vitest';
import { describeViolations, type ViolationEntry } from './outcomeCheck.js';

const pair = (from: string, to: string, kind?: 'opened') => ({ from, to, network: 'cilium', reason: kind ? 'policy-not-enforced' : 'no-route', ...(kind ? { kind } : {}) });

describe('describeViolations', () => {
  it('says when nothing was violated', () => {
    expect(describeViolations([])).toBe('no violation at any moment');
  });

  it('gives the moments, the worst of each kind and the first three pairs named', () => {
    const entries: ViolationEntry[] = [
      { at: '2026-01-01T00:00:01Z', unreachableCount: 1, openedCount: 0, added: [pair('a/x', 'b/y')] },
      { at: '2026-01-01T00:00:02Z', unreachableCount: 3, openedCount: 2, added: [pair('a/x', 'shop/db-0', 'opened'), pair('a/z', 'shop/db-1', 'opened'), pair('a/w', 'shop/db-2', 'opened')] },
    ];
    expect(describeViolations(entries)).toBe(
      '2 moment(s) from 2026-01-01T00:00:01Z; at worst 3 allowed pair(s) cut, 2 denied pair(s) open; e.g. a/x -> b/y (cilium, cut: no-route); a/x -> shop/db-0 (cilium, denied but open: policy-not-enforced); a/z -> shop/db-1 (cilium, denied but open: policy-not-enforced)',
    );
  });

  it('leaves out a kind that never happened', () => {
    expect(describeViolations([{ at: 't', unreachableCount: 0, openedCount: 4, added: [pair('a/x', 'b/y', 'opened')] }])).toBe('1 moment(s) from t; at worst 4 denied pair(s) open; e.g. a/x -> b/y (cilium, denied but open: policy-not-enforced)');
  });
});
