import { describe, expect, it } from 'vitest';
import { FakeCluster } from '../ops/testing/fakeCluster.js';
import { COLLECT_VERSION, slimStatus, type CollectDocument } from './agent/peerCollection.js';
import { compactStatus, type ProbeStatusDocument } from './agent/statusDocument.js';
import { chooseCollectors, collectAggregated, mergeCollections } from './collectAggregated.js';
import { buildConnectivityMatrix } from './connectivityMatrix.js';
import { markProbes, staleProbes } from './probeFreshness.js';
import { peerStatus, probePod, statusDoc } from './testing/probeBuilders.js';

const NS = 'cni-migration-probe';
const at = (s: number) => new Date(Date.parse('2025-01-01T00:00:00.000Z') + s * 1000).toISOString();

const okDoc = (pod: string, node: string, generated = 10) =>
  statusDoc(pod, node, [peerStatus('b1', 'n2', '10.0.2.1', { lastProbeAt: at(generated - 1) }), peerStatus('c1', 'n3', '10.0.3.1', { lastProbeAt: at(generated - 2) })], { generatedAt: at(generated) });

function collectDoc(collector: string, node: string, pods: CollectDocument['pods']): CollectDocument {
  return { version: COLLECT_VERSION, collector: { pod: collector, namespace: NS, node }, generatedAt: at(10), pods };
}
const ok = (pod: string, node: string, status: ProbeStatusDocument) => ({ pod, namespace: NS, node, state: 'ok' as const, status: slimStatus(compactStatus(status)) });
const miss = (pod: string, node: string, ip: string) => ({ pod, namespace: NS, node, state: 'unreachable' as const, ip, detail: 'timeout: no answer' });

describe('compact status documents', () => {
  it('keep only failing peers (now or in an episode) and count every peer, so the matrix and freshness read the same', () => {
    const doc = statusDoc('a1', 'n1', [
      peerStatus('b1', 'n2', '10.0.2.1', { lastProbeAt: at(9) }),
      peerStatus('c1', 'n3', '10.0.3.1', { result: 'timeout', consecutiveFailures: 2, lastProbeAt: at(8), episodes: [{ startedAt: at(7), lastFailureAt: at(8), failures: 2, result: 'timeout', detail: 'no answer' }] }),
      peerStatus('d1', 'n4', '10.0.4.1', { result: 'pending', lastProbeAt: undefined }),
    ]);
    const compact = compactStatus(doc);
    expect(compact.peers.map((p) => p.pod)).toEqual(['c1']);
    expect(compact.peerSummary).toEqual({ peers: 3, ok: 1, failed: 1, pending: 1, oldestProbeAt: at(8) });
    const collect = (status: ProbeStatusDocument) => ({ collectedAt: Date.parse(at(10)), namespace: NS, pods: [{ pod: 'a1', namespace: NS, node: 'n1', state: 'ok' as const, status }] });
    const full = buildConnectivityMatrix(collect(doc));
    const small = buildConnectivityMatrix(collect(compact));
    expect([small.ok, small.summary.probes, small.summary.failedProbes, small.failing.map((f) => f.toPod)]).toEqual([full.ok, full.summary.probes, full.summary.failedProbes, full.failing.map((f) => f.toPod)]);
    // Freshness: a mark after the oldest probe, and a never-probed peer, make it stale either way.
    const marks = new Map([['a1', Date.parse(at(8.5))]]);
    expect(staleProbes(collect(compact), marks)).toEqual([{ pod: 'a1', node: 'n1', stalePeers: 2 }]);
    expect(staleProbes(collect(doc), marks)).toEqual([{ pod: 'a1', node: 'n1', stalePeers: 2 }]);
    expect(markProbes(collect(compact)).get('a1')).toBe(Date.parse(doc.generatedAt));
  });
});

describe('merging collectors', () => {
  const pods = [probePod('a1', 'n1', '10.0.1.1'), probePod('b1', 'n2', '10.0.2.1'), probePod('c1', 'n3', '10.0.3.1'), probePod('d1', 'n4', '10.0.4.1'), probePod('e1', 'n5', '10.0.5.1', { ready: false })];

  it('takes the freshest copy; a pod one collector missed is confirmed by the other; two misses make it unreachable; unknown pods are read directly', () => {
    const one = collectDoc('a1', 'n1', [ok('a1', 'n1', okDoc('a1', 'n1', 10)), ok('b1', 'n2', okDoc('b1', 'n2', 9)), miss('c1', 'n3', '10.0.3.1'), miss('d1', 'n4', '10.0.4.1')]);
    const two = collectDoc('b1', 'n2', [ok('b1', 'n2', okDoc('b1', 'n2', 11)), ok('c1', 'n3', okDoc('c1', 'n3', 10)), miss('d1', 'n4', '10.0.4.1')]);
    const merged = mergeCollections(pods, [one, two]);
    const state = (name: string) => merged.find((m) => m.pod.metadata.name === name)!;
    expect(state('b1').report).toMatchObject({ state: 'ok', status: { generatedAt: at(11) } });
    // a1 reached c1's agent not, b1 did: c1 is fine (its pairs tell the rest).
    expect(state('c1').report).toMatchObject({ state: 'ok' });
    expect(state('d1').report).toMatchObject({ state: 'unreachable' });
    expect((state('d1').report as { detail: string }).detail).toBe('no collector reached its agent over the pod network: a1 could not reach 10.0.4.1 (timeout: no answer); b1 could not reach 10.0.4.1 (timeout: no answer)');
    expect(state('e1').report).toMatchObject({ state: 'not-ready' });
    // Only one collector: its miss waits for a direct read to confirm.
    const alone = mergeCollections(pods, [one]);
    expect(alone.find((m) => m.pod.metadata.name === 'd1')).toMatchObject({ report: undefined, unreachable: 'a1 could not reach 10.0.4.1 (timeout: no answer)' });
  });

  it('chooses collectors on different nodes, taking each pod range in turn (both sides of a migration)', () => {
    const mixed = [probePod('a', 'n1', '10.244.1.2'), probePod('b', 'n1', '172.29.1.2'), probePod('c', 'n2', '10.244.2.2'), probePod('d', 'n3', '172.29.3.2'), probePod('x', 'n4', '10.244.4.2', { ready: false })];
    expect(chooseCollectors(mixed, 2).map((p) => p.metadata.name)).toEqual(['a', 'd']);
    expect(chooseCollectors(mixed, 5).map((p) => p.metadata.name)).toEqual(['a', 'd', 'c']);
  });

  it('asks two collectors through the proxy, replaces one that fails, and confirms a single miss through the pod itself', async () => {
    const fake = new FakeCluster();
    for (const p of pods.slice(0, 4)) fake.add(p);
    const asked: string[] = [];
    fake.proxyHandler = (_ns, pod, _port, path) => {
      asked.push(`${pod}${path}`);
      if (pod === 'a1' && path === '/collect') return { status: 503, body: '{"kind":"Status","message":"connection refused"}', contentType: 'application/json' };
      if (path === '/collect') return { status: 200, body: JSON.stringify(collectDoc(pod, 'n', [ok('a1', 'n1', okDoc('a1', 'n1')), ok('b1', 'n2', okDoc('b1', 'n2')), ok('c1', 'n3', okDoc('c1', 'n3')), miss('d1', 'n4', '10.0.4.1')])), contentType: 'application/json' };
      // d1 answers through the API server: alive, so not unreachable — its own pairs will say what is wrong.
      return { status: 200, body: JSON.stringify(okDoc(pod, 'n4')), contentType: 'application/json' };
    };
    const c = await collectAggregated(fake, { namespace: NS, collectors: 2 });
    expect(c.collectors.map((x) => [x.pod, x.ok])).toEqual([
      ['a1', false],
      ['b1', true],
      ['c1', true],
    ]);
    // Both good collectors missed d1: confirmed unreachable without asking it directly.
    expect(c.pods.find((p) => p.pod === 'd1')).toMatchObject({ state: 'unreachable' });
    expect(asked).toEqual(['a1/collect', 'b1/collect', 'c1/collect']);
    expect(c.via).toMatchObject({ mode: 'aggregated', collectors: ['b1', 'c1'], direct: 0, proxyRequests: 3 });
    // With one collector, the single miss is read directly, and the pod turns out alive.
    asked.length = 0;
    const single = await collectAggregated(fake, { namespace: NS, collectors: 1 });
    expect(asked).toEqual(['a1/collect', 'b1/collect', 'd1/status/compact']);
    expect(single.pods.find((p) => p.pod === 'd1')).toMatchObject({ state: 'ok' });
  });

  it('a pod one collector missed and the API server says is gone was deleted since the list: not a failure; an agent\'s own 404 still is', async () => {
    const fake = new FakeCluster();
    for (const p of pods.slice(0, 4)) fake.add(p);
    let d1Answer = { status: 404, body: '{"kind":"Status","code":404,"reason":"NotFound","message":"pods \\"d1\\" not found"}', contentType: 'application/json' };
    fake.proxyHandler = (_ns, pod, _port, path) => {
      if (path === '/collect') return { status: 200, body: JSON.stringify(collectDoc(pod, 'n', [ok('a1', 'n1', okDoc('a1', 'n1')), miss('d1', 'n4', '10.0.4.1')])), contentType: 'application/json' };
      return d1Answer;
    };
    const gone = await collectAggregated(fake, { namespace: NS, collectors: 1 });
    expect(gone.pods.find((p) => p.pod === 'd1')).toEqual({ pod: 'd1', namespace: NS, node: 'n4', state: 'not-ready', detail: 'deleted since the pods were listed' });
    // Negative control: the pod exists and its agent answers 404 (another path): still unreachable.
    d1Answer = { status: 404, body: 'no such path', contentType: 'text/plain' };
    const alive = await collectAggregated(fake, { namespace: NS, collectors: 1 });
    expect(alive.pods.find((p) => p.pod === 'd1')).toMatchObject({ state: 'unreachable', detail: 'a1 could not reach 10.0.4.1 (timeout: no answer); its status through the API server: HTTP 404: no such path' });
  });
});
