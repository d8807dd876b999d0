import { describe, expect, it } from 'vitest';
import { LatencyLog, RequestStats } from './requestStats.js';

describe('request latency log', () => {
  it('gives percentiles within its 5% buckets, and 0 when empty', () => {
    const log = new LatencyLog();
    expect(log.percentile(0.99)).toBe(0);
    for (let i = 1; i <= 1000; i++) log.observe(i);
    const p99 = log.percentile(0.99);
    const p50 = log.percentile(0.5);
    expect(p99).toBeGreaterThanOrEqual(990);
    expect(p99).toBeLessThan(990 * 1.05);
    expect(p50).toBeGreaterThanOrEqual(500);
    expect(p50).toBeLessThan(500 * 1.05);
    // One slow answer in a hundred moves p99, not p50.
    const skewed = new LatencyLog();
    for (let i = 0; i < 98; i++) skewed.observe(2);
    skewed.observe(2000);
    skewed.observe(2000);
    expect(skewed.percentile(0.99)).toBeGreaterThanOrEqual(2000);
    expect(skewed.percentile(0.5)).toBeLessThan(2.1);
  });

  it('sums bytes per request key', () => {
    const s = new RequestStats();
    s.record('get pods/proxy', 1, 100);
    s.record('get pods/proxy', 3, 50);
    s.record('list pods', 2, 7);
    expect(s.summary()).toMatchObject({ answers: 3, bytes: { 'get pods/proxy': 150, 'list pods': 7 } });
  });
});
