import { describe, expect, it } from 'vitest';
import { renderMatrixText } from '../report/matrixText.js';
import type { ProbeCollection } from './collectProbeStatuses.js';
import { buildConnectivityMatrix, matrixCell } from './connectivityMatrix.js';
import { peerStatus, statusDoc } from './testing/probeBuilders.js';

const T0 = Date.parse('2024-01-01T00:01:00.000Z');

function collection(pods: ProbeCollection['pods']): ProbeCollection {
  return { collectedAt: T0, namespace: 'cni-migration-probe', pods };
}

const ok = (pod: string, node: string, peers: ReturnType<typeof peerStatus>[]) => ({ pod, namespace: 'cni-migration-probe', node, state: 'ok' as const, status: statusDoc(pod, node, peers) });

describe('buildConnectivityMatrix', () => {
  it('is ok when every probe between every node pair answered, with the worst latency per cell', () => {
    const m = buildConnectivityMatrix(
      collection([
        ok('a1', 'n1', [peerStatus('b1', 'n1', '10.0.1.2', { latencyMs: 0.2 }), peerStatus('a2', 'n2', '10.0.2.1', { latencyMs: 1.5 }), peerStatus('b2', 'n2', '10.0.2.2', { latencyMs: 3 })]),
        ok('a2', 'n2', [peerStatus('a1', 'n1', '10.0.1.1'), peerStatus('b2', 'n2', '10.0.2.2')]),
      ]),
    );
    expect(m.ok).toBe(true);
    expect(m.problems).toEqual([]);
    expect(m.nodes).toEqual(['n1', 'n2']);
    expect(matrixCell(m, 'n1', 'n2')).toMatchObject({ state: 'ok', ok: 2, failed: 0, worstLatencyMs: 3 });
    expect(matrixCell(m, 'n1', 'n1')).toMatchObject({ state: 'ok', ok: 1, worstLatencyMs: 0.2 });
    expect(m.summary).toMatchObject({ pods: 2, reportingPods: 2, nodePairs: 4, okNodePairs: 4, probes: 5, failedProbes: 0 });
  });

  it('names the failing pairs and their network, and fails', () => {
    const m = buildConnectivityMatrix(
      collection([
        ok('a1', 'n1', [
          peerStatus('a2', 'n2', '10.0.2.1'),
          peerStatus('a2', 'n2', '172.29.2.1', { network: 'cilium', interface: 'net1', primary: false, result: 'timeout', detail: 'no answer', consecutiveFailures: 4, failingSince: '2024-01-01T00:00:50.000Z' }),
        ]),
        ok('a2', 'n2', [peerStatus('a1', 'n1', '10.0.1.1'), peerStatus('a1', 'n1', '172.29.1.1', { network: 'cilium', primary: false, result: 'timeout' })]),
      ]),
    );
    expect(m.ok).toBe(false);
    expect(m.failing.map((f) => `${f.fromNode}/${f.fromPod} -> ${f.toNode}/${f.toPod} ${f.ip} ${f.network} ${f.result}`)).toEqual([
      'n1/a1 -> n2/a2 172.29.2.1 cilium timeout',
      'n2/a2 -> n1/a1 172.29.1.1 cilium timeout',
    ]);
    expect(matrixCell(m, 'n1', 'n2')).toMatchObject({ state: 'failed', ok: 1, failed: 1, failingNetworks: ['cilium'] });
    expect(m.problems).toEqual(['2 node pairs failing (2 probes on cilium)']);
    expect(m.networks).toEqual(['cilium', 'flannel']);
    const text = renderMatrixText(m);
    expect(text).toContain('FAILED');
    expect(text).toMatch(/n1\s+-\s+FAIL 1\/2 cilium\n/);
    expect(text).toContain('n1 -> n2  a1 -> a2 172.29.2.1 (cilium, extra interface): timeout x4 since 2024-01-01T00:00:50.000Z: no answer');
  });

  it('fails when a probe pod does not report, or none exists', () => {
    const silent = buildConnectivityMatrix(collection([ok('a1', 'n1', []), { pod: 'a3', namespace: 'x', node: 'n3', state: 'not-ready', detail: 'Pending (ContainerCreating)' }]));
    expect(silent.ok).toBe(false);
    expect(silent.silent).toEqual([{ pod: 'a3', node: 'n3', state: 'not-ready', detail: 'Pending (ContainerCreating)' }]);
    expect(silent.nodes).toEqual(['n1', 'n3']);
    expect(silent.problems).toEqual(['1 probe pod not reporting']);
    const starting = buildConnectivityMatrix(collection([{ ...ok('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1', { result: 'pending' })]), status: { ...statusDoc('a1', 'n1', []), rounds: 0 } }]));
    expect([starting.ok, starting.silent[0]?.state]).toEqual([false, 'starting']);
    const none = buildConnectivityMatrix(collection([]));
    expect(none.ok).toBe(false);
    expect(none.problems[0]).toContain('no probe pods in namespace cni-migration-probe');
  });

  it('fails on a recent flow cut by the network, not on a peer going away or an old cut', () => {
    const doc = statusDoc('a1', 'n1', [peerStatus('a2', 'n2', '10.0.2.1')]);
    const cut = (reason: 'network' | 'peer-gone', brokenAt: string) => ({ peer: 'a2', peerNode: 'n2', ip: '10.0.2.1', network: 'flannel', openedAt: '2024-01-01T00:00:00.000Z', brokenAt, reason, cause: 'timeout', detail: 'silent' });
    doc.flows.breaks = [cut('peer-gone', '2024-01-01T00:00:59.000Z'), cut('network', '2023-12-31T23:50:00.000Z')];
    const quiet = buildConnectivityMatrix(collection([{ pod: 'a1', namespace: 'x', node: 'n1', state: 'ok', status: doc }]));
    expect(quiet.ok).toBe(true);
    expect(quiet.flowBreaks.map((b) => [b.reason, b.recent])).toEqual([
      ['network', false],
      ['peer-gone', true],
    ]);
    doc.flows.breaks.push(cut('network', '2024-01-01T00:00:30.000Z'));
    const cutNow = buildConnectivityMatrix(collection([{ pod: 'a1', namespace: 'x', node: 'n1', state: 'ok', status: doc }]), { flowBreakWindowMs: 60_000 });
    expect(cutNow.ok).toBe(false);
    expect(cutNow.problems).toEqual(['1 long-lived flow cut by the network in the last 1m0s']);
  });
});
