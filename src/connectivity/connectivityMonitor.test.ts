import { describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/waitFor.js';
import { FakeCluster } from '../ops/testing/fakeCluster.js';
import { renderTimelineText } from '../report/timelineText.js';
import type { ProbeStatusDocument } from './agent/statusDocument.js';
import { ConnectivityMonitor } from './connectivityMonitor.js';
import { peerStatus, probePod, statusDoc } from './testing/probeBuilders.js';

const at = (s: number) => new Date(Date.parse('2024-01-01T00:00:00.000Z') + s * 1000).toISOString();
const ms = (s: number) => Date.parse(at(s));

/** A fake cluster whose probe pods answer with the documents the test sets. */
function clusterWith(docs: Record<string, ProbeStatusDocument | 'down'>) {
  const fake = new FakeCluster();
  fake.add(probePod('a1', 'n1', '10.0.1.1'));
  fake.add(probePod('a2', 'n2', '10.0.2.1'));
  fake.proxyHandler = (_ns, pod) => {
    const d = docs[pod];
    if (!d || d === 'down') return { status: 503, body: '{"kind":"Status","message":"connection refused"}', contentType: 'application/json' };
    return { status: 200, body: JSON.stringify(d), contentType: 'application/json' };
  };
  return fake;
}

describe('ConnectivityMonitor', () => {
  it('puts a blip that began and ended between two collections on the timeline', async () => {
    const docs: Record<string, ProbeStatusDocument | 'down'> = { a1: statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1')]), a2: statusDoc('a2', 'n2', [peerStatus('a1', 'n1', '10.0.1.1')]) };
    let now = ms(10);
    const monitor = new ConnectivityMonitor(clusterWith(docs), {}, { now: () => now });
    expect((await monitor.collectOnce()).ok).toBe(true);
    // Between collections a1 -> a2 failed twice and recovered; the last probe is ok again.
    docs.a1 = statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1', { episodes: [{ startedAt: at(11), lastFailureAt: at(13), endedAt: at(15), failures: 2, result: 'timeout', detail: 'no answer' }] })]);
    now = ms(20);
    expect((await monitor.collectOnce()).ok).toBe(true);
    expect(monitor.timeline()).toEqual([
      { id: `pair:a1>a2@10.0.2.1#${at(11)}`, kind: 'pair', fromNode: 'n1', fromPod: 'a1', toNode: 'n2', toPod: 'a2', ip: '10.0.2.1', network: 'flannel', reason: 'timeout', detail: 'no answer', firstSeen: ms(11), lastSeen: ms(13), resolvedAt: ms(15), failures: 2 },
    ]);
    expect(renderTimelineText(monitor.timeline())).toBe(`Connectivity timeline (1):\n  ${at(11)} pair n1 -> n2  a1 -> a2 10.0.2.1 (flannel): timeout x2 for 4s: no answer\n`);
    expect(monitor.verdict().ok).toBe(false);
    expect(monitor.failures({ since: ms(16) })).toEqual([]);
    expect(monitor.failures({ since: ms(14) })).toHaveLength(1);
  });

  it('counts a pair only once it has failed for the threshold, ongoing ones measured to now', async () => {
    const episode = { startedAt: at(10), lastFailureAt: at(12), failures: 2, result: 'timeout' as const, detail: 'no answer' };
    const docs = { a1: statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1', { result: 'timeout', consecutiveFailures: 2, episodes: [episode] })]), a2: statusDoc('a2', 'n2', []) };
    let now = ms(12);
    const monitor = new ConnectivityMonitor(clusterWith(docs), { failureThresholdMs: 5000 }, { now: () => now });
    await monitor.collectOnce();
    expect(monitor.failures()).toEqual([]);
    now = ms(16);
    expect(monitor.failures().map((f) => [f.fromPod, f.toPod, f.reason, f.resolvedAt])).toEqual([['a1', 'a2', 'timeout', undefined]]);
  });

  it('records flows cut by the network as failures and peers going away as timeline only', async () => {
    const doc = statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1')]);
    const cut = (reason: 'network' | 'peer-gone', s: number) => ({ peer: 'a2', peerNode: 'n2', ip: '10.0.2.1', network: 'flannel', openedAt: at(0), brokenAt: at(s), reason, cause: 'timeout', detail: 'silent' });
    doc.flows.breaks = [cut('peer-gone', 5), cut('network', 7)];
    const monitor = new ConnectivityMonitor(clusterWith({ a1: doc, a2: statusDoc('a2', 'n2', []) }), {}, { now: () => ms(10) });
    await monitor.collectOnce();
    await monitor.collectOnce();
    expect(monitor.timeline().map((e) => [e.kind, e.reason, e.firstSeen])).toEqual([
      ['flow', 'peer-gone', ms(5)],
      ['flow', 'network', ms(7)],
    ]);
    expect(monitor.failures().map((e) => [e.kind, e.reason])).toEqual([['flow', 'network']]);
  });

  it('notes a probe pod that stops reporting, without counting it as a pair failure', async () => {
    const docs: Record<string, ProbeStatusDocument | 'down'> = { a1: statusDoc('a1', 'n1', []), a2: 'down' };
    let now = ms(1);
    const fake = clusterWith(docs);
    const monitor = new ConnectivityMonitor(fake, {}, { now: () => now });
    await monitor.collectOnce();
    now = ms(2);
    docs.a2 = statusDoc('a2', 'n2', []);
    await monitor.collectOnce();
    const [entry] = monitor.timeline();
    expect(entry).toMatchObject({ kind: 'pod', fromPod: 'a2', reason: 'proxy-error' });
    expect(entry!.resolvedAt).toBeDefined();
    expect(monitor.verdict()).toEqual({ ok: true, failures: [] });
  });

  it('keeps collecting in the background until stopped, and survives a failed collection', async () => {
    const fake = clusterWith({ a1: statusDoc('a1', 'n1', []), a2: statusDoc('a2', 'n2', []) });
    fake.failNext('listPods', new Error('the server is currently unable to handle the request'));
    const samples: boolean[] = [];
    const monitor = new ConnectivityMonitor(fake, { intervalMs: 10 }, { onSample: (m) => samples.push(m.ok) });
    monitor.start();
    await waitFor('three collections', () => monitor.samples >= 3, 5000);
    await monitor.stop();
    const after = monitor.samples;
    expect(monitor.errors().map((e) => e.message)).toEqual(['the server is currently unable to handle the request']);
    expect(samples.every((ok) => ok)).toBe(true);
    expect(monitor.samples).toBe(after);
  });

  it('shares one collection among callers waiting at once, and never hands a caller one that began before it asked', async () => {
    const docs = { a1: statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1')]), a2: statusDoc('a2', 'n2', [peerStatus('a1', 'n1', '10.0.1.1')]) };
    const fake = clusterWith(docs);
    const monitor = new ConnectivityMonitor(fake, {}, { now: () => ms(10) });
    // A collection under way when a caller asks may predate what it did: it waits for the next one,
    // and every caller waiting meanwhile shares that next one.
    const [x, y, z] = await Promise.all([monitor.collect(), monitor.collect(), monitor.collect()]);
    expect(x).not.toBe(y);
    expect(y).toBe(z);
    expect(fake.callsOf('listPods')).toHaveLength(2);
    expect(fake.callsOf('proxyPodGet')).toHaveLength(4);
    // Once none is under way, a caller starts its own.
    const later = await monitor.collect();
    expect(later).not.toBe(z);
    expect(fake.callsOf('listPods')).toHaveLength(3);
    expect(monitor.samples).toBe(3);
  });
});
