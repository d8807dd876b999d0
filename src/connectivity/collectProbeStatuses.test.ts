import { describe, expect, it } from 'vitest';
import { FakeCluster } from '../ops/testing/fakeCluster.js';
import { collectProbeStatuses } from './collectProbeStatuses.js';
import { peerStatus, probePod, statusDoc } from './testing/probeBuilders.js';

describe('collectProbeStatuses', () => {
  it("reads each Ready probe pod's /status through the pod proxy and reports the others per pod", async () => {
    const fake = new FakeCluster();
    fake.add(probePod('a1', 'n1', '10.0.1.1'));
    fake.add(probePod('a2', 'n2', '10.0.2.1'));
    fake.add(probePod('pending', 'n3', '', { phase: 'Pending', ready: false }));
    fake.add(probePod('unready', 'n3', '10.0.3.2', { ready: false }));
    fake.add(probePod('garbled', 'n3', '10.0.3.3'));
    fake.add(probePod('bad-doc', 'n3', '10.0.3.4'));
    fake.add({ ...probePod('not-a-probe', 'n1', '10.0.1.9'), metadata: { name: 'not-a-probe', namespace: 'cni-migration-probe', labels: { app: 'other' } } });
    fake.proxyHandler = (_ns, pod, port, path) => {
      if (port !== 8080 || path !== '/status') return { status: 404, body: 'wrong port or path', contentType: 'text/plain' };
      if (pod === 'a1') return { status: 200, body: JSON.stringify(statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1')])), contentType: 'application/json' };
      if (pod === 'garbled') return { status: 200, body: '<html>', contentType: 'text/html' };
      if (pod === 'bad-doc') return { status: 200, body: '{"version":"something else"}', contentType: 'application/json' };
      return { status: 503, body: JSON.stringify({ kind: 'Status', code: 503, message: 'error trying to reach service: dial tcp 10.0.2.1:8080: connect: connection refused' }), contentType: 'application/json' };
    };
    const c = await collectProbeStatuses(fake, { timeoutMs: 1000 });
    expect(c.pods.map((p) => [p.pod, p.node, p.state])).toEqual([
      ['a1', 'n1', 'ok'],
      ['a2', 'n2', 'proxy-error'],
      ['bad-doc', 'n3', 'invalid-status'],
      ['garbled', 'n3', 'invalid-status'],
      ['pending', 'n3', 'not-ready'],
      ['unready', 'n3', 'not-ready'],
    ]);
    const byPod = Object.fromEntries(c.pods.map((p) => [p.pod, p]));
    expect(byPod.a2).toMatchObject({ httpStatus: 503, detail: 'HTTP 503: error trying to reach service: dial tcp 10.0.2.1:8080: connect: connection refused' });
    expect(byPod.pending).toMatchObject({ detail: 'Pending' });
    expect(byPod.unready).toMatchObject({ detail: 'Running but not Ready' });
    expect(fake.callsOf('proxyPodGet').map((a) => a[1]).sort()).toEqual(['a1', 'a2', 'bad-doc', 'garbled']);
    expect(fake.callsOf('proxyPodGet')[0]![4]).toEqual({ timeoutMs: 1000 });
  });

  it('reports a proxy request that throws as a proxy error', async () => {
    const fake = new FakeCluster();
    fake.add(probePod('a1', 'n1', '10.0.1.1'));
    fake.failNext('proxyPodGet', new Error('request timed out after 1000 ms'));
    const c = await collectProbeStatuses(fake, {});
    expect(c.pods[0]).toMatchObject({ state: 'proxy-error', detail: 'request timed out after 1000 ms' });
  });

  it('lets a failure to list pods through', async () => {
    const fake = new FakeCluster();
    fake.failNext('listPods', new Error('forbidden'));
    await expect(collectProbeStatuses(fake, {})).rejects.toThrow('forbidden');
  });
});
