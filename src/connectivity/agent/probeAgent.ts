/**
 * The probe agent: every interval it discovers its peers, probes every peer address once with a
 * timeout, confirms failures against a fresh look at the peers (a peer that went away is not a
 * failure), keeps a bounded history per peer, and holds a few long-lived flows to peers on other
 * nodes, recording when one is cut and why. The same class runs in a pod (node transport, API
 * peer source) and in the simulator (model transport, store peer source).
 */
import { collectPeerStatuses, type CollectDocument } from './peerCollection.js';
import { setTimeout as delay } from 'node:timers/promises';
import { LatencyHistograms } from './latencyHistogram.js';
import { renderMetrics } from './metricsText.js';
import { discoverPeers, type Discovery } from './peerDiscovery.js';
import { GroupedPeerBook, representative, type GroupedTargets, type PeerGrouping } from './groupedPeers.js';
import { PeerHistory, type PeerHistoryLimits, type PeerView, type ProbeSample } from './peerHistory.js';
import type { AgentIdentity, FlowBreakReason, FlowCut, HttpGetResult, PeerSnapshot, PeerSource, PodNetworkInterface, ProbeFlow, ProbeResult, ProbeTarget, ProbeTransport } from './probeTypes.js';
import { buildStatusDocument, compactStatus, compactStatusOf, type FlowBreakRecord, type OpenFlowRecord, type ProbeStatusDocument, type StatusInput } from './statusDocument.js';

/** The path peers probe. */
export const HELLO_PATH = '/hello';

/** How an agent runs. */
export interface ProbeAgentOptions {
  self: AgentIdentity;
  /** The port every peer's agent listens on. */
  port: number;
  /** Pause between the starts of two rounds. */
  intervalMs: number;
  /** Timeout of one probe. */
  timeoutMs: number;
  transport: ProbeTransport;
  peers: PeerSource;
  /** Long-lived flows held open (default 3; 0 disables them). */
  maxFlows?: number | undefined;
  /**
   * Probe at most this many peer addresses per round, rotating so every peer is covered every
   * few rounds (the simulator runs every agent in one process, where rounds are O(pods²)).
   * Unlimited by default: a real agent probes every peer every round.
   */
  maxTargetsPerRound?: number | undefined;
  /**
   * Peers in groups bound to get the same answer (the simulator's reachability classes): one member
   * of each group is probed per round, in turn, and an ok stands for the group; see groupedPeers.ts.
   * Replaces discovery and maxTargetsPerRound. Undefined (real agents): every peer is probed.
   */
  grouping?: PeerGrouping | undefined;
  /** Peers with a record of their own kept at most when grouped (default 1000). */
  maxIndividualPeers?: number | undefined;
  /** CNI network name → display name (see DEFAULT_NETWORK_ALIASES). */
  networkAliases?: Readonly<Record<string, string>> | undefined;
  history?: PeerHistoryLimits | undefined;
  /** Cut flows kept for /status (default 50). */
  maxFlowBreaks?: number | undefined;
  now?: (() => number) | undefined;
  log?: ((line: string) => void) | undefined;
}

/** What one round did. */
export interface RoundSummary {
  probed: number;
  failed: number;
  /** Failed probes to peers that turned out to be gone: dropped, not recorded. */
  peersGone: number;
}

interface HeldFlow {
  record: OpenFlowRecord;
  target: ProbeTarget;
  flow: ProbeFlow;
}

/** Runs the probe loop for one pod and serves its results. */
export class ProbeAgent {
  readonly self: AgentIdentity;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private readonly history: PeerHistory;
  private readonly book: GroupedPeerBook | undefined;
  private grouped: GroupedTargets | undefined;
  private readonly latency = new LatencyHistograms();
  private readonly flows = new Map<string, HeldFlow>();
  private readonly opening = new Set<string>();
  private readonly breaks: FlowBreakRecord[] = [];
  private readonly breakCounts = new Map<string, { peerNode: string; network: string; reason: string; count: number }>();
  private breaksTotal = 0;
  private interfaces: PodNetworkInterface[] = [];
  private targets: ProbeTarget[] = [];
  private peerSourceError: string | undefined;
  private readonly startedAt: number;
  private rounds = 0;
  private lastRoundAt: number | undefined;
  private readonly stopper = new AbortController();
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: ProbeAgentOptions) {
    this.self = opts.self;
    this.intervalMs = opts.intervalMs;
    this.timeoutMs = opts.timeoutMs;
    this.history = new PeerHistory(opts.history);
    this.book = opts.grouping ? new GroupedPeerBook({ ...opts.history, maxIndividual: opts.maxIndividualPeers }) : undefined;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.startedAt = this.now();
  }

  /** Rounds completed so far. */
  get completedRounds(): number {
    return this.rounds;
  }

  /** Whether stop() was called. */
  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  /** Runs rounds every interval until stop() or the signal aborts; resolves then. */
  async run(signal?: AbortSignal): Promise<void> {
    const stop = signal ? AbortSignal.any([signal, this.stopper.signal]) : this.stopper.signal;
    stop.addEventListener('abort', () => this.stop(), { once: true });
    while (!stop.aborted) {
      const started = this.now();
      try {
        await this.runRound();
      } catch (e) {
        this.log(`probe round failed: ${errorText(e)}`);
      }
      try {
        await delay(Math.max(0, this.intervalMs - (this.now() - started)), undefined, { signal: stop });
      } catch {
        // Aborted: the loop condition ends it.
      }
    }
  }

  /** Stops the loop and closes every flow (our own closes are not cuts). */
  stop(): void {
    if (!this.stopper.signal.aborted) this.stopper.abort();
    for (const f of this.flows.values()) f.flow.close();
    this.flows.clear();
  }

  // The whole list, or a window of maxTargetsPerRound that moves on every round.
  private roundTargets<T extends { key: string }>(all: T[]): T[] {
    const max = this.opts.maxTargetsPerRound;
    if (max === undefined || all.length <= max) return all;
    const sorted = [...all].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const start = (this.rounds * max) % sorted.length;
    return Array.from({ length: max }, (_, i) => sorted[(start + i) % sorted.length]!);
  }

  /** One round: discover, probe every peer address, confirm failures, record, tend the flows. */
  async runRound(): Promise<RoundSummary> {
    if (this.opts.grouping) return this.runGroupedRound(this.opts.grouping, this.book!);
    const discovery = await this.discover(false);
    if (this.stopped) return { probed: 0, failed: 0, peersGone: 0 };
    const targets = this.roundTargets(discovery?.targets ?? this.targets);
    const results = await Promise.all(targets.map(async (t) => ({ target: t, sample: await this.probe(t) })));
    if (this.stopped) return { probed: 0, failed: 0, peersGone: 0 };
    const gone = await this.goneAmong(results);
    let failed = 0;
    for (const { target, sample } of results) {
      if (gone.has(target.key)) continue;
      this.history.record(target.key, sample);
      if (sample.result === 'ok') this.latency.observe({ peer_node: target.node, network: target.network }, sample.latencyMs / 1000);
      else failed++;
    }
    this.rounds++;
    this.lastRoundAt = this.now();
    this.tendFlows();
    return { probed: results.length, failed, peersGone: gone.size };
  }

  // Peers failing now are probed on their own until they answer; every group by one other member,
  // and member by member when that one fails.
  private async runGroupedRound(grouping: PeerGrouping, book: GroupedPeerBook): Promise<RoundSummary> {
    const view = grouping.groupsFor(this.self);
    this.grouped = view;
    this.interfaces = view.self.interfaces;
    book.sync(view, this.now());
    const failing = book.failingTargets();
    const failingKeys = new Set(failing.map((t) => t.key));
    const round = this.rounds;
    type Outcome = { target: ProbeTarget; sample: ProbeSample; group?: string | undefined };
    const alone = failing.map(async (target): Promise<Outcome[]> => [{ target, sample: await this.probe(target), group: view.groupOf(target.key) }]);
    const byGroup = view.groups.map(async (g): Promise<Outcome[]> => {
      const rep = representative(g, round, (t) => failingKeys.has(t.key));
      if (!rep) return [];
      const sample = await this.probe(rep);
      if (sample.result === 'ok') return [{ target: rep, sample, group: g.id }];
      const rest: ProbeTarget[] = [];
      for (let i = 0; i < g.size; i++) {
        const t = g.at(i);
        if (t !== rep && !failingKeys.has(t.key)) rest.push(t);
      }
      const others = await Promise.all(rest.map(async (target): Promise<Outcome> => ({ target, sample: await this.probe(target), group: g.id })));
      return [{ target: rep, sample, group: g.id }, ...others];
    });
    const results = (await Promise.all([...alone, ...byGroup])).flat();
    if (this.stopped) return { probed: 0, failed: 0, peersGone: 0 };
    // The grouping is as fresh as the peers' source: a failed peer it no longer lists went away.
    const now = grouping.groupsFor(this.self);
    const gone = new Set(results.filter((r) => r.sample.result !== 'ok' && !now.target(r.target.key)).map((r) => r.target.key));
    const at = this.now();
    let failed = 0;
    for (const { target, sample, group } of results) {
      if (gone.has(target.key)) continue;
      if (group !== undefined) book.recordGroup(group, sample);
      book.recordPeer(target, sample, at);
      // One series per network: per peer node would grow with the cluster in every agent.
      if (sample.result === 'ok') this.latency.observe({ network: target.network }, sample.latencyMs / 1000);
      else failed++;
    }
    this.rounds++;
    this.lastRoundAt = this.now();
    this.tendFlows();
    return { probed: view.groups.reduce((n, g) => n + g.size, 0), failed, peersGone: gone.size };
  }

  // A failure to a peer that meanwhile went away (deleted, drained) is not a network failure.
  private async goneAmong(results: readonly { target: ProbeTarget; sample: ProbeSample }[]): Promise<Set<string>> {
    if (!results.some((r) => r.sample.result !== 'ok')) return new Set();
    const fresh = await this.discover(true);
    if (!fresh) return new Set();
    const live = new Set(fresh.targets.map((t) => t.key));
    return new Set(results.filter((r) => r.sample.result !== 'ok' && !live.has(r.target.key)).map((r) => r.target.key));
  }

  /** GET /status. */
  status(): ProbeStatusDocument {
    return buildStatusDocument(this.statusInput(this.book ? this.book.peers() : this.history.all()));
  }

  /**
   * GET /status/compact: only the peers that failed (now or in a kept episode), and counts of all;
   * with `sinceMs`, without what was over before then.
   */
  compactStatus(sinceMs?: number): ProbeStatusDocument {
    if (!this.book) return compactStatus(this.status(), sinceMs);
    return compactStatusOf(this.statusInput(this.book.peersWithFailures()), this.book.counts(), sinceMs);
  }

  private statusInput(peers: readonly PeerView[]): StatusInput {
    return {
      self: this.self,
      interfaces: this.interfaces,
      startedAt: this.startedAt,
      now: this.now(),
      rounds: this.rounds,
      lastRoundAt: this.lastRoundAt,
      intervalMs: this.intervalMs,
      timeoutMs: this.timeoutMs,
      peers,
      openFlows: [...this.flows.values()].map((f) => f.record),
      flowBreaks: this.breaks,
      flowBreaksTotal: this.breaksTotal,
      peerSourceError: this.peerSourceError,
    };
  }

  /** GET /metrics. */
  /** The aggregated collection this agent answers as a collector (see peerCollection.ts). */
  collect(sinceMs?: number, fresh = false): Promise<CollectDocument> {
    const sleep = (ms: number) => delay(ms, undefined, { signal: this.stopper.signal }).catch(() => undefined);
    return collectPeerStatuses(this, this.opts.transport, this.opts.port, this.timeoutMs * 2, { now: this.now, sinceMs, ...(fresh ? { fresh: { rounds: 3, sleep } } : {}) });
  }

  metrics(): string {
    return renderMetrics({
      node: this.self.node,
      rounds: this.rounds,
      peers: this.book ? this.book.peers() : this.history.all(),
      latency: this.latency.all(),
      openFlows: this.flows.size,
      flowBreaks: [...this.breakCounts.values()],
    });
  }

  /** Every peer pod probed, at one address each: its primary one where it has several. */
  peerPods(): { pod: string; node: string; ip: string }[] {
    const byPod = new Map<string, { pod: string; node: string; ip: string }>();
    const add = (t: ProbeTarget) => {
      if (!byPod.has(t.pod) || t.primary) byPod.set(t.pod, { pod: t.pod, node: t.node, ip: t.ip });
    };
    if (this.grouped) for (const g of this.grouped.groups) for (let i = 0; i < g.size; i++) add(g.at(i));
    else for (const r of this.history.all()) add(r.target);
    return [...byPod.values()];
  }

  /** GET /hello: who answered, so a prober can tell an IP reused by another pod. */
  hello(): { pod: string; namespace: string; node: string; at: string } {
    return { pod: this.self.pod, namespace: this.self.namespace, node: this.self.node, at: new Date(this.now()).toISOString() };
  }

  /** Long-lived flows currently open (peer pod names). */
  openFlowPeers(): string[] {
    return [...this.flows.values()].map((f) => f.record.peer);
  }

  private async discover(fresh: boolean): Promise<Discovery | undefined> {
    let snapshot: PeerSnapshot;
    try {
      snapshot = await this.opts.peers.snapshot({ fresh });
      this.peerSourceError = undefined;
    } catch (e) {
      // Keep probing the peers we know: an API hiccup is not a reason to stop measuring.
      this.peerSourceError = errorText(e);
      return undefined;
    }
    const discovery = discoverPeers(this.self, snapshot, { networkAliases: this.opts.networkAliases });
    if (!fresh) {
      this.interfaces = discovery.self.interfaces;
      this.targets = discovery.targets;
      this.history.sync(discovery.targets, this.now());
    }
    return discovery;
  }

  private async probe(t: ProbeTarget): Promise<ProbeSample> {
    const at = this.now();
    const started = performance.now();
    const res = await this.opts.transport.httpGet(t.ip, this.opts.port, `${HELLO_PATH}?from=${encodeURIComponent(this.self.pod)}`, this.timeoutMs);
    const latencyMs = performance.now() - started;
    const { result, detail } = judgeHello(t, res);
    return { at, result, latencyMs, ...(detail ? { detail } : {}) };
  }

  // Keeps up to maxFlows flows open, to peers on other nodes whose last probe succeeded; each
  // agent prefers different peers (ordered by a hash of both names) so the flows spread out.
  private tendFlows(): void {
    const max = this.opts.maxFlows ?? 3;
    if (max <= 0 || this.stopped) return;
    const candidates = this.flowCandidates()
      .filter((t) => t.primary && t.node !== this.self.node && !this.flows.has(t.key) && !this.opening.has(t.key))
      .sort((a, b) => hash(`${this.self.pod}>${a.key}`) - hash(`${this.self.pod}>${b.key}`));
    const usedNodes = new Set([...this.flows.values()].map((f) => f.target.node));
    const ordered = [...candidates.filter((c) => !usedNodes.has(c.node)), ...candidates.filter((c) => usedNodes.has(c.node))];
    for (const target of ordered.slice(0, Math.max(0, max - this.flows.size - this.opening.size))) void this.openFlow(target);
  }

  // Peers that answered their last probe; grouped, one member of each group that answered.
  private flowCandidates(): ProbeTarget[] {
    if (!this.book || !this.grouped) return this.history.all().filter((r) => r.last?.result === 'ok').map((r) => r.target);
    const book = this.book;
    return this.grouped.groups.filter((g) => g.size > 0 && book.answered(g.id)).map((g) => g.at(hash(`${this.self.pod}>${g.id}`) % g.size)).filter((t) => !book.failing(t.key));
  }

  private async openFlow(target: ProbeTarget): Promise<void> {
    this.opening.add(target.key);
    try {
      const res = await this.opts.transport.openFlow(target.ip, this.opts.port, this.timeoutMs);
      if (!res.ok) return;
      if (this.stopped) {
        res.flow.close();
        return;
      }
      const held: HeldFlow = { target, flow: res.flow, record: { peer: target.pod, peerNode: target.node, ip: target.ip, network: target.network, openedAt: this.now() } };
      this.flows.set(target.key, held);
      res.flow.onBroken((cut) => void this.onFlowCut(held, cut));
    } finally {
      this.opening.delete(target.key);
    }
  }

  private async onFlowCut(held: HeldFlow, cut: FlowCut): Promise<void> {
    if (this.flows.get(held.target.key) !== held || this.stopped) return;
    this.flows.delete(held.target.key);
    const brokenAt = this.now();
    const reason = await this.judgeCut(held.target, cut);
    if (this.stopped) return;
    const record: FlowBreakRecord = { ...held.record, brokenAt, reason, cause: cut.cause, detail: cut.message };
    this.breaks.push(record);
    if (this.breaks.length > (this.opts.maxFlowBreaks ?? 50)) this.breaks.shift();
    this.breaksTotal++;
    const key = `${record.peerNode}\u0000${record.network}\u0000${reason}`;
    const counter = this.breakCounts.get(key) ?? { peerNode: record.peerNode, network: record.network, reason, count: 0 };
    counter.count++;
    this.breakCounts.set(key, counter);
    this.log(`flow to ${record.peer} (${record.ip}, ${record.network}) cut: ${reason} (${cut.cause}: ${cut.message})`);
  }

  // peer-gone when the peer said goodbye or its pod is gone or terminating; otherwise both ends
  // live and the cut is the network's.
  private async judgeCut(target: ProbeTarget, cut: FlowCut): Promise<FlowBreakReason> {
    if (cut.cause === 'peer-closed') return 'peer-gone';
    try {
      const snapshot = await this.opts.peers.snapshot({ fresh: true });
      const pod = snapshot.pods.find((p) => p.metadata.name === target.pod);
      return !pod || pod.metadata.deletionTimestamp ? 'peer-gone' : 'network';
    } catch {
      return 'network';
    }
  }
}

/** The named outcome of a /hello probe. */
export function judgeHello(t: ProbeTarget, res: HttpGetResult): { result: ProbeResult; detail?: string } {
  if (res.kind === 'failure') return { result: res.failure, detail: res.message };
  if (res.status !== 200) return { result: 'http-error', detail: `HTTP ${res.status}` };
  let answeredBy: unknown;
  try {
    answeredBy = (JSON.parse(res.body) as { pod?: unknown }).pod;
  } catch {
    return { result: 'http-error', detail: 'the answer is not JSON' };
  }
  if (answeredBy !== t.pod) return { result: 'wrong-peer', detail: `${t.ip} answered as ${String(answeredBy)}, expected ${t.pod}` };
  return { result: 'ok' };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
