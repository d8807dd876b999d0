import { describe, expect, it } from 'vitest';
import { PeerHistory } from './peerHistory.js';
import type { ProbeTarget } from './probeTypes.js';

const target = (pod: string, ip = `10.0.0.${pod.length}`): ProbeTarget => ({ key: `${pod}@${ip}`, pod, node: 'n2', ip, network: 'flannel', interface: 'eth0', primary: true });

describe('PeerHistory', () => {
  it('keeps at most maxSamples samples and maxEpisodes episodes per peer', () => {
    const h = new PeerHistory({ maxSamples: 3, maxEpisodes: 2 });
    const t = target('b');
    h.sync([t], 0);
    // ok, fail, ok, fail, fail, ok, fail, ok: three failure episodes, the first one dropped.
    const results = ['ok', 'timeout', 'ok', 'timeout', 'refused', 'ok', 'timeout', 'ok'] as const;
    results.forEach((r, i) => h.record(t.key, { at: i * 1000, result: r, latencyMs: 1 }));
    const rec = h.get(t.key)!;
    expect(rec.recent.map((s) => s.at)).toEqual([5000, 6000, 7000]);
    expect(rec.episodes).toEqual([
      { startedAt: 3000, lastFailureAt: 4000, endedAt: 5000, failures: 2, result: 'refused', detail: 'refused' },
      { startedAt: 6000, lastFailureAt: 6000, endedAt: 7000, failures: 1, result: 'timeout', detail: 'timeout' },
    ]);
    expect(rec.counts).toEqual({ ok: 4, failed: 4, byResult: { ok: 4, timeout: 3, refused: 1 } });
  });

  it('tracks consecutive failures and when the current failure began', () => {
    const h = new PeerHistory();
    const t = target('b');
    h.sync([t], 0);
    h.record(t.key, { at: 100, result: 'ok', latencyMs: 1 });
    h.record(t.key, { at: 200, result: 'timeout', latencyMs: 1000, detail: 'no answer' });
    h.record(t.key, { at: 300, result: 'timeout', latencyMs: 1000, detail: 'still no answer' });
    let rec = h.get(t.key)!;
    expect([rec.consecutiveFailures, rec.failingSince, rec.last?.result]).toEqual([2, 200, 'timeout']);
    expect(rec.episodes).toEqual([{ startedAt: 200, lastFailureAt: 300, failures: 2, result: 'timeout', detail: 'still no answer' }]);
    h.record(t.key, { at: 400, result: 'ok', latencyMs: 1 });
    rec = h.get(t.key)!;
    expect([rec.consecutiveFailures, rec.failingSince, rec.episodes[0]!.endedAt]).toEqual([0, undefined, 400]);
  });

  it('drops peers that vanish and adds new ones, keeping the history of those that stay', () => {
    const h = new PeerHistory();
    const [b, c, d] = [target('b'), target('cc'), target('ddd')];
    expect(h.sync([b, c], 0)).toEqual({ added: [b.key, c.key], dropped: [] });
    h.record(b.key, { at: 1, result: 'ok', latencyMs: 1 });
    expect(h.sync([b, d], 10)).toEqual({ added: [d.key], dropped: [c.key] });
    expect(h.all().map((r) => r.target.pod)).toEqual(['b', 'ddd']);
    expect(h.get(b.key)?.counts.ok).toBe(1);
    expect(h.record(c.key, { at: 2, result: 'ok', latencyMs: 1 })).toBeUndefined();
  });
});
