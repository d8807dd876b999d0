import { describe, expect, it } from 'vitest';
import type { Pod } from '../../kube/kubeTypes.js';
import { waitFor } from '../../../test/support/waitFor.js';
import { probePod, snapshotOf } from '../testing/probeBuilders.js';
import { agentHttpHandler } from './agentHttpHandler.js';
import type { PeerGrouping } from './groupedPeers.js';
import { discoverPeers } from './peerDiscovery.js';
import { ProbeAgent, type ProbeAgentOptions } from './probeAgent.js';
import type { FlowCut, HttpGetResult, OpenFlowResult, PeerSnapshot, PeerSource, ProbeFlow, ProbeTransport } from './probeTypes.js';
import { ProbeStatusSchema } from './statusDocument.js';

/** A transport whose answers the test decides per IP; flows can be cut by the test. */
class FakeTransport implements ProbeTransport {
  readonly down = new Map<string, HttpGetResult>();
  readonly answeredBy = new Map<string, string>();
  readonly gets: string[] = [];
  readonly flows: FakeFlow[] = [];

  httpGet(ip: string, _port: number, path: string): Promise<HttpGetResult> {
    this.gets.push(`${ip}${path}`);
    const down = this.down.get(ip);
    if (down) return Promise.resolve(down);
    return Promise.resolve({ kind: 'response', status: 200, body: JSON.stringify({ pod: this.answeredBy.get(ip) }) });
  }

  openFlow(ip: string): Promise<OpenFlowResult> {
    const flow = new FakeFlow(ip);
    this.flows.push(flow);
    return Promise.resolve({ ok: true, flow });
  }
}

class FakeFlow implements ProbeFlow {
  listener: ((c: FlowCut) => void) | undefined;
  closed = false;
  constructor(readonly ip: string) {}
  onBroken(l: (c: FlowCut) => void): void {
    this.listener = l;
  }
  close(): void {
    this.closed = true;
  }
}

/** Peers the test changes between rounds; `fresh` reads can see a newer state than cached ones. */
class FakePeers implements PeerSource {
  constructor(
    public current: PeerSnapshot,
    public fresh?: PeerSnapshot,
  ) {}
  snapshot(opts: { fresh?: boolean } = {}): Promise<PeerSnapshot> {
    return Promise.resolve(opts.fresh && this.fresh ? this.fresh : this.current);
  }
}

const pods = (): Pod[] => [probePod('a1', 'n1', '10.0.1.1'), probePod('b1', 'n1', '10.0.1.2'), probePod('a2', 'n2', '10.0.2.1'), probePod('a3', 'n3', '10.0.3.1')];

function agentWith(snapshot: PeerSnapshot, opts: { maxFlows?: number; fresh?: PeerSnapshot; intervalMs?: number; grouping?: ProbeAgentOptions['grouping']; maxIndividualPeers?: number | undefined } = {}) {
  const transport = new FakeTransport();
  for (const p of snapshot.pods) transport.answeredBy.set(p.status!.podIP!, p.metadata.name!);
  const peers = new FakePeers(snapshot, opts.fresh);
  let now = 1_700_000_000_000;
  const agent = new ProbeAgent({ self: { pod: 'a1', namespace: 'cni-migration-probe', node: 'n1', podIP: '10.0.1.1' }, port: 8080, intervalMs: opts.intervalMs ?? 1000, timeoutMs: 500, transport, peers, maxFlows: opts.maxFlows ?? 0, grouping: opts.grouping, maxIndividualPeers: opts.maxIndividualPeers, now: () => (now += 10) });
  return { agent, transport, peers };
}

describe('ProbeAgent', () => {
  describe('grouped', () => {
    // b1 and a2 in one group (one reachability class, say), a3 in another; a fake grouping over
    // the real discovery of the snapshot.
    function grouped(initial: PeerSnapshot, opts: { maxIndividualPeers?: number; fresh?: PeerSnapshot } = {}) {
      const self = { pod: 'a1', namespace: 'cni-migration-probe', node: 'n1', podIP: '10.0.1.1' };
      let version = 1;
      let members: string[][] = [['b1', 'a2'], ['a3']];
      let calls = 0;
      const grouping: PeerGrouping = {
        // Asked again after the probes (to confirm failures): then the fresh snapshot, if any.
        groupsFor: () => {
          const snapshot = calls++ % 2 === 1 && opts.fresh ? opts.fresh : initial;
          const d = discoverPeers(self, snapshot);
          const groups = members.map((names, i) => {
            const ts = names.map((n) => d.targets.find((t) => t.pod === n)!).filter(Boolean);
            return { id: `g${i}`, size: ts.length, at: (k: number) => ts[k]! };
          });
          const target = (key: string) => d.targets.find((t) => t.key === key);
          return { version, self: d.self, groups, target, groupOf: (key) => groups.find((g) => Array.from({ length: g.size }, (_, k) => g.at(k).key).includes(key))?.id };
        },
      };
      const setMembers = (m: string[][]) => {
        members = m;
        version++;
      };
      const { agent, transport } = agentWith(initial, { grouping, maxIndividualPeers: opts.maxIndividualPeers, fresh: opts.fresh });
      return { agent, transport, setMembers };
    }
    const peersOf = (agent: ProbeAgent) => agent.status().peers.map((p) => [p.pod, p.result, p.consecutiveFailures]);

    it('probes one member per group, in turn, and an ok stands for every member', async () => {
      const { agent, transport } = grouped(snapshotOf(pods()));
      expect(await agent.runRound()).toEqual({ probed: 3, failed: 0, peersGone: 0 });
      expect(transport.gets.sort()).toEqual(['10.0.1.2/hello?from=a1', '10.0.3.1/hello?from=a1']);
      transport.gets.length = 0;
      await agent.runRound();
      expect(transport.gets.sort()).toEqual(['10.0.2.1/hello?from=a1', '10.0.3.1/hello?from=a1']);
      expect(peersOf(agent)).toEqual([
        ['b1', 'ok', 0],
        ['a2', 'ok', 0],
        ['a3', 'ok', 0],
      ]);
      expect(agent.compactStatus()).toMatchObject({ ok: true, peers: [], peerSummary: { peers: 3, ok: 3, failed: 0, pending: 0 } });
    });

    it('probes a failing group member by member, then each failing peer alone until it answers', async () => {
      const { agent, transport } = grouped(snapshotOf(pods()));
      transport.down.set('10.0.1.2', { kind: 'failure', failure: 'timeout', message: 'b1 silent' });
      transport.down.set('10.0.2.1', { kind: 'failure', failure: 'refused', message: 'a2 refused' });
      expect(await agent.runRound()).toEqual({ probed: 3, failed: 2, peersGone: 0 });
      expect(agent.status().peers.map((p) => [p.pod, p.result, p.detail])).toEqual([
        ['b1', 'timeout', 'b1 silent'],
        ['a2', 'refused', 'a2 refused'],
        ['a3', 'ok', undefined],
      ]);
      expect(agent.compactStatus()).toMatchObject({ ok: false, peerSummary: { peers: 3, ok: 1, failed: 2, pending: 0 } });
      // a2 recovers: probed on its own, its episode closes; b1 still fails.
      transport.down.delete('10.0.2.1');
      transport.gets.length = 0;
      expect(await agent.runRound()).toMatchObject({ failed: 1 });
      expect(transport.gets.sort()).toEqual(['10.0.1.2/hello?from=a1', '10.0.2.1/hello?from=a1', '10.0.3.1/hello?from=a1']);
      expect(peersOf(agent)).toEqual([
        ['b1', 'timeout', 2],
        ['a2', 'ok', 0],
        ['a3', 'ok', 0],
      ]);
      const compact = agent.compactStatus();
      expect(compact.peers.map((p) => [p.pod, p.result, p.episodes.map((e) => e.endedAt !== undefined)])).toEqual([
        ['b1', 'timeout', [false]],
        ['a2', 'ok', [true]],
      ]);
      expect(compact.peerSummary).toMatchObject({ peers: 3, ok: 2, failed: 1 });
      // While b1 fails, its group is represented by a2 only.
      transport.gets.length = 0;
      await agent.runRound();
      await agent.runRound();
      expect(transport.gets.filter((g) => g.startsWith('10.0.1.2'))).toHaveLength(2);
    });

    it('keeps records of its own only for peers that failed, at most maxIndividualPeers, the failing ones first', async () => {
      const { agent, transport } = grouped(snapshotOf(pods()), { maxIndividualPeers: 1 });
      transport.down.set('10.0.3.1', { kind: 'failure', failure: 'timeout', message: 'a3 silent' });
      await agent.runRound();
      transport.down.delete('10.0.3.1');
      await agent.runRound();
      expect(agent.compactStatus().peers.map((p) => p.pod)).toEqual(['a3']);
      transport.down.set('10.0.1.2', { kind: 'failure', failure: 'timeout', message: 'b1 silent' });
      await agent.runRound();
      // a3 recovered and is forgotten for b1, which fails now.
      expect(agent.compactStatus().peers.map((p) => p.pod)).toEqual(['b1']);
    });

    it('follows the groups as they change, dropping the records of peers that are gone', async () => {
      const all = pods();
      const { agent, transport, setMembers } = grouped(snapshotOf(all));
      transport.down.set('10.0.3.1', { kind: 'failure', failure: 'timeout', message: 'a3 silent' });
      await agent.runRound();
      setMembers([['b1'], ['a2']]);
      transport.gets.length = 0;
      await agent.runRound();
      expect(transport.gets.sort()).toEqual(['10.0.1.2/hello?from=a1', '10.0.2.1/hello?from=a1', '10.0.3.1/hello?from=a1']);
      expect(peersOf(agent)).toEqual([
        ['b1', 'ok', 0],
        ['a2', 'ok', 0],
      ]);
    });

    it('does not count a failure to a peer that turns out to be gone', async () => {
      const all = pods();
      const { agent, transport } = grouped(snapshotOf(all), { fresh: snapshotOf(all.filter((p) => p.metadata.name !== 'a3')) });
      transport.down.set('10.0.3.1', { kind: 'failure', failure: 'refused', message: 'connection refused' });
      expect(await agent.runRound()).toEqual({ probed: 3, failed: 0, peersGone: 1 });
      expect(agent.compactStatus()).toMatchObject({ ok: true, peers: [] });
    });
  });

  it('probes every peer once a round and reports all ok', async () => {
    const { agent, transport } = agentWith(snapshotOf(pods()));
    expect(await agent.runRound()).toEqual({ probed: 3, failed: 0, peersGone: 0 });
    expect(transport.gets.sort()).toEqual(['10.0.1.2/hello?from=a1', '10.0.2.1/hello?from=a1', '10.0.3.1/hello?from=a1']);
    const status = ProbeStatusSchema.parse(agent.status());
    expect(status.ok).toBe(true);
    expect(status.peers.map((p) => [p.pod, p.node, p.result])).toEqual([
      ['b1', 'n1', 'ok'],
      ['a2', 'n2', 'ok'],
      ['a3', 'n3', 'ok'],
    ]);
  });

  it('records a failing peer with its named outcome, and a wrong answerer as wrong-peer', async () => {
    const { agent, transport } = agentWith(snapshotOf(pods()));
    transport.down.set('10.0.3.1', { kind: 'failure', failure: 'timeout', message: 'no answer within 500 ms' });
    transport.answeredBy.set('10.0.2.1', 'someone-else');
    expect(await agent.runRound()).toEqual({ probed: 3, failed: 2, peersGone: 0 });
    await agent.runRound();
    const status = agent.status();
    expect(status.ok).toBe(false);
    const a3 = status.peers.find((p) => p.pod === 'a3')!;
    expect([a3.result, a3.detail, a3.consecutiveFailures, a3.episodes.length]).toEqual(['timeout', 'no answer within 500 ms', 2, 1]);
    expect(status.peers.find((p) => p.pod === 'a2')!.result).toBe('wrong-peer');
  });

  it('does not count a failure to a peer that turns out to be gone, and stops probing it', async () => {
    const all = pods();
    const withoutA3 = snapshotOf(all.filter((p) => p.metadata.name !== 'a3'));
    const { agent, transport, peers } = agentWith(snapshotOf(all), { fresh: withoutA3 });
    transport.down.set('10.0.3.1', { kind: 'failure', failure: 'refused', message: 'connection refused' });
    expect(await agent.runRound()).toEqual({ probed: 3, failed: 0, peersGone: 1 });
    expect(agent.status().ok).toBe(true);
    peers.current = withoutA3;
    await agent.runRound();
    expect(agent.status().peers.map((p) => p.pod)).toEqual(['b1', 'a2']);
  });

  it('holds flows to peers on other nodes and tells a network cut from a peer going away', async () => {
    const { agent, transport, peers } = agentWith(snapshotOf(pods()), { maxFlows: 2 });
    await agent.runRound();
    await Promise.resolve();
    expect(transport.flows.map((f) => f.ip).sort()).toEqual(['10.0.2.1', '10.0.3.1']);
    expect(agent.openFlowPeers().sort()).toEqual(['a2', 'a3']);
    const [toA2, toA3] = [transport.flows.find((f) => f.ip === '10.0.2.1')!, transport.flows.find((f) => f.ip === '10.0.3.1')!];
    // a2's pod still exists: a silent connection is the network's fault.
    toA2.listener!({ cause: 'timeout', message: 'silent for 5000 ms' });
    // a3 said goodbye: its pod is going away.
    toA3.listener!({ cause: 'peer-closed', message: 'bye' });
    await new Promise((r) => setImmediate(r));
    let breaks = agent.status().flows.breaks;
    expect(breaks.map((b) => [b.peer, b.reason, b.cause])).toEqual([
      ['a3', 'peer-gone', 'peer-closed'],
      ['a2', 'network', 'timeout'],
    ]);
    // A cut without goodbye while the peer's pod is terminating is still the peer going away.
    await agent.runRound();
    await Promise.resolve();
    const reopened = transport.flows.filter((f) => !f.closed && f.listener).at(-1)!;
    const reopenedPod = pods().find((p) => p.status!.podIP === reopened.ip)!.metadata.name!;
    peers.fresh = snapshotOf(pods().map((p) => (p.metadata.name === reopenedPod ? probePod(reopenedPod, p.spec!.nodeName!, p.status!.podIP!, { terminating: true }) : p)));
    reopened.listener!({ cause: 'closed', message: 'closed without goodbye' });
    await new Promise((r) => setImmediate(r));
    breaks = agent.status().flows.breaks;
    expect(breaks.at(-1)).toMatchObject({ peer: reopenedPod, reason: 'peer-gone', cause: 'closed' });
    expect(agent.metrics()).toContain('cni_migration_probe_flow_breaks_total{node="n1",peer_node="n2",network="default",reason="network"} 1');
  });

  it('closes its flows when stopped, without recording cuts', async () => {
    const { agent, transport } = agentWith(snapshotOf(pods()), { maxFlows: 1 });
    await agent.runRound();
    await Promise.resolve();
    agent.stop();
    expect(transport.flows.every((f) => f.closed)).toBe(true);
    expect(agent.status().flows).toMatchObject({ open: [], breaks: [] });
  });

  it('keeps probing the known peers when the peer source fails, and says why', async () => {
    const { agent, transport, peers } = agentWith(snapshotOf(pods()));
    await agent.runRound();
    peers.snapshot = () => Promise.reject(new Error('endpoints "cni-migration-probe" is forbidden'));
    transport.gets.length = 0;
    await agent.runRound();
    expect(transport.gets).toHaveLength(3);
    expect(agent.status().peerSourceError).toContain('forbidden');
  });

  it('runs rounds until aborted', async () => {
    const { agent } = agentWith(snapshotOf(pods()), { intervalMs: 10 });
    const stop = new AbortController();
    const done = agent.run(stop.signal);
    await waitFor('two rounds', () => agent.status().rounds >= 2, 5000);
    stop.abort();
    await done;
    expect(agent.stopped).toBe(true);
  }, 10_000);
});

describe('agentHttpHandler', () => {
  it('serves /healthz, /status, /metrics and /hello, and 404 elsewhere', async () => {
    const { agent } = agentWith(snapshotOf(pods()));
    await agent.runRound();
    const serve = agentHttpHandler(agent);
    expect(serve({ method: 'GET', path: '/healthz' })).toMatchObject({ status: 200, body: 'ok\n' });
    const status = serve({ method: 'GET', path: '/status' });
    expect(status.headers['content-type']).toBe('application/json');
    expect(ProbeStatusSchema.parse(JSON.parse(status.body)).pod.name).toBe('a1');
    expect(serve({ method: 'GET', path: '/metrics' }).headers['content-type']).toContain('version=0.0.4');
    expect(JSON.parse(serve({ method: 'GET', path: '/hello' }).body)).toMatchObject({ pod: 'a1', node: 'n1' });
    expect(serve({ method: 'GET', path: '/nope' }).status).toBe(404);
    expect(serve({ method: 'POST', path: '/status' }).status).toBe(405);
    agent.stop();
    expect(serve({ method: 'GET', path: '/healthz' }).status).toBe(503);
  });
});
