import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads Go-style durations and bare seconds', () => {
    expect(['500ms', '2s', '1m30s', '1h', '0.5s', '3', '0'].map(parseDuration)).toEqual([500, 2000, 90_000, 3_600_000, 500, 3000, 0]);
  });
  it('refuses anything else', () => {
    expect(['', 'soon', '5 s', '-1s', '1d', 's'].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
