import { describe, expect, it } from 'vitest';
import { matchesLabelSelector } from './labelSelector.js';

describe('matchesLabelSelector', () => {
  it('matchLabels and matchExpressions all have to hold', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['a', 'b'] }] };
    expect(matchesLabelSelector(sel, { app: 'web', tier: 'a' })).toBe(true);
    expect(matchesLabelSelector(sel, { app: 'web', tier: 'c' })).toBe(false);
    expect(matchesLabelSelector(sel, { app: 'db', tier: 'a' })).toBe(false);
  });

  it('NotIn, Exists and DoesNotExist', () => {
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, {})).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, { x: '1' })).toBe(false);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, { x: '' })).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, { x: '' })).toBe(false);
  });

  it('an empty selector matches everything, a missing one nothing', () => {
    expect(matchesLabelSelector({}, { a: 'b' })).toBe(true);
    expect(matchesLabelSelector(undefined, { a: 'b' })).toBe(false);
  });
});
