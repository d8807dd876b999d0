import { describe, expect, it } from 'vitest';
import { markProbes, staleProbes } from '../probeFreshness.js';
import { statusDoc, peerStatus } from '../testing/probeBuilders.js';
import { collectPeerStatuses, expandSlimStatus, type CollectorAgent } from './peerCollection.js';
import type { HttpGetResult, ProbeTransport } from './probeTypes.js';
import { compactStatus, type ProbeStatusDocument } from './statusDocument.js';

const NS = 'cni-migration-probe';
const at = (s: number) => new Date(Date.parse('2025-01-01T00:00:00.000Z') + s * 1000).toISOString();

/** Peers whose compact status the test moves on in time: each read returns the pod's doc at `clock`. */
class Peers implements ProbeTransport {
  clock = 10;
  readonly reads: string[] = [];
  /** Per peer ip: when it last probed, as a function of the clock (a peer stuck in the past never catches up). */
  constructor(private readonly lastProbe: Record<string, (clock: number) => number>) {}
  httpGet(ip: string, _port: number, path: string): Promise<HttpGetResult> {
    this.reads.push(`${ip}${path}`);
    const doc: ProbeStatusDocument = compactStatus(statusDoc(`pod-${ip}`, 'n', [peerStatus('x', 'nx', '10.9.9.9', { lastProbeAt: at(this.lastProbe[ip]!(this.clock)) })], { generatedAt: at(this.clock) }));
    return Promise.resolve({ kind: 'response', status: 200, body: JSON.stringify(doc) });
  }
  openFlow(): never {
    throw new Error('not used');
  }
}

function collector(peers: Peers, ownLastProbe: () => number): CollectorAgent {
  return {
    self: { pod: 'col', namespace: NS, node: 'n0' },
    compactStatus: () => compactStatus(statusDoc('col', 'n0', [peerStatus('y', 'ny', '10.8.8.8', { lastProbeAt: at(ownLastProbe()) })], { generatedAt: at(peers.clock) })),
    peerPods: () => [
      { pod: 'pod-10.0.0.1', node: 'n1', ip: '10.0.0.1' },
      { pod: 'pod-10.0.0.2', node: 'n2', ip: '10.0.0.2' },
    ],
  };
}

describe('collectPeerStatuses with fresh results', () => {
  it('reads each peer for its mark, then again a round later until it probed after it, and says since when', async () => {
    // 10.0.0.1 probes every second; 10.0.0.2 only from clock 13 on.
    const peers = new Peers({ '10.0.0.1': (c) => c - 0.5, '10.0.0.2': (c) => (c >= 13 ? c : 5) });
    const sleeps: number[] = [];
    const doc = await collectPeerStatuses(collector(peers, () => peers.clock), peers, 8080, 1000, {
      now: () => Date.parse(at(peers.clock)),
      fresh: {
        rounds: 3,
        sleep: (ms) => {
          sleeps.push(ms);
          peers.clock += 1;
          return Promise.resolve();
        },
      },
    });
    // 10.0.0.1 first read at 10 (last probe 9.5: stale), fresh at 11; 10.0.0.2 fresh at 13.
    expect(peers.reads).toEqual(['10.0.0.1/status/compact', '10.0.0.2/status/compact', '10.0.0.1/status/compact', '10.0.0.2/status/compact', '10.0.0.2/status/compact', '10.0.0.2/status/compact']);
    expect(sleeps).toEqual([2000, 2000, 2000]);
    const reports = doc.pods.map((p) => (p.state === 'ok' ? { pod: p.pod, namespace: NS, node: p.node, state: 'ok' as const, status: expandSlimStatus({ pod: p.pod, namespace: NS, node: p.node }, p.status) } : p));
    expect(reports.map((r) => r.state === 'ok' && r.status.freshSince)).toEqual([at(10), at(10), at(10)]);
    // One collection is enough for a checkpoint: marked at freshSince, nothing is stale.
    const collection = { collectedAt: 0, namespace: NS, pods: reports };
    expect(staleProbes(collection, markProbes(collection))).toEqual([]);
  });

  it('gives up after `rounds`, and the pod that never caught up stays stale for the checkpoint', async () => {
    const peers = new Peers({ '10.0.0.1': (c) => c, '10.0.0.2': () => 5 });
    const doc = await collectPeerStatuses(collector(peers, () => peers.clock), peers, 8080, 1000, {
      now: () => Date.parse(at(peers.clock)),
      fresh: { rounds: 2, sleep: () => Promise.resolve(void (peers.clock += 1)) },
    });
    const reports = doc.pods.map((p) => (p.state === 'ok' ? { pod: p.pod, namespace: NS, node: p.node, state: 'ok' as const, status: expandSlimStatus({ pod: p.pod, namespace: NS, node: p.node }, p.status) } : p));
    const collection = { collectedAt: 0, namespace: NS, pods: reports };
    expect(staleProbes(collection, markProbes(collection)).map((s) => s.pod)).toEqual(['pod-10.0.0.2']);
    // Without waiting (the negative control), the first reads are what comes back: both peers stale.
    const plain = await collectPeerStatuses(collector(peers, () => peers.clock), new Peers({ '10.0.0.1': () => 5, '10.0.0.2': () => 5 }), 8080, 1000, { now: () => Date.parse(at(peers.clock)) });
    expect(plain.pods.every((p) => p.state !== 'ok' || p.status.freshSince === undefined)).toBe(true);
  });
});
