/**
 * The continuous monitor: collects every probe pod's status in the background while a migration
 * step runs, and keeps a timeline of every failed pair (first and last failed probe, when it
 * recovered, why), every long-lived flow cut, and every probe pod that stopped reporting. The
 * agents' failure episodes carry their own timestamps, so a blip that began and ended between two
 * collections is still on the timeline. The engine gates on failures(): pairs that failed for at
 * least failureThresholdMs, and flows cut by the network.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ClusterClient } from '../kube/clusterClient.js';
import { collectAggregated } from './collectAggregated.js';
import { collectProbeStatuses, type ProbeCollection } from './collectProbeStatuses.js';
import { buildConnectivityMatrix, type ConnectivityMatrix } from './connectivityMatrix.js';
import { connectivitySettings, type ConnectivitySettings } from './connectivitySettings.js';

/** Timeline entries kept (the oldest finished ones are dropped beyond this). */
export const MAX_TIMELINE_ENTRIES = 10_000;

/** How far before the last collection an aggregated collection still asks for failures that ended. */
const SINCE_MARGIN_MS = 30_000;

/** What a timeline entry is about: a probe pair, a cut flow, or a probe pod not reporting. */
export type TimelineKind = 'pair' | 'flow' | 'pod';

/** One failure on the timeline. Times are epoch ms. */
export interface TimelineEntry {
  id: string;
  kind: TimelineKind;
  fromNode: string;
  fromPod: string;
  toNode?: string | undefined;
  toPod?: string | undefined;
  ip?: string | undefined;
  network?: string | undefined;
  /** The probe result (timeout, refused, …), the flow cut's reason (network, peer-gone), or the pod's state. */
  reason: string;
  detail: string;
  firstSeen: number;
  lastSeen: number;
  /** When it was over; undefined while ongoing. */
  resolvedAt?: number | undefined;
  /** Failed probes in a pair episode. */
  failures?: number | undefined;
}

/** The gate's answer. */
export interface MonitorVerdict {
  ok: boolean;
  failures: TimelineEntry[];
}

/** Collaborators (tests inject time and observe samples). */
export interface MonitorDeps {
  now?: () => number;
  /** Called after every collection, with the matrix (reporters render it). */
  onSample?: (matrix: ConnectivityMatrix) => void;
  /** Called when a collection fails as a whole (listing pods failed). */
  onError?: (error: Error) => void;
}

/** Collects in the background and keeps the failure timeline. */
export class ConnectivityMonitor {
  readonly settings: ConnectivitySettings;
  private readonly entries = new Map<string, TimelineEntry>();
  /** The open 'pod' entry of each pod (a collection looks one up per pod). */
  private readonly openPods = new Map<string, TimelineEntry>();
  private readonly errorLog: { at: number; message: string }[] = [];
  private latest: ConnectivityMatrix | undefined;
  private latestCollection: ProbeCollection | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private collections = 0;
  /** When the latest collection (the loop's or a checkpoint's) ended, wall clock. */
  private lastCollectedAt = 0;
  /** Collections started, and the one under way. */
  private started = 0;
  private inflight: { seq: number; fresh: boolean; promise: Promise<{ matrix: ConnectivityMatrix; collection: ProbeCollection }> } | undefined;
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<ClusterClient, 'listPods' | 'proxyPodGet'>,
    settings: Partial<ConnectivitySettings> = {},
    private readonly deps: MonitorDeps = {},
  ) {
    this.settings = connectivitySettings(settings);
    this.now = deps.now ?? Date.now;
  }

  /** Starts collecting every settings.intervalMs until stop() or the signal aborts. */
  start(signal?: AbortSignal): void {
    if (this.loop) return;
    const stop = signal ? AbortSignal.any([signal, this.stopper.signal]) : this.stopper.signal;
    this.loop = this.run(stop);
  }

  /** Stops collecting and waits for a collection in flight to finish. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  /** Collects once, updates the timeline, and returns the matrix. Throws when pods cannot be listed. */
  async collectOnce(): Promise<ConnectivityMatrix> {
    return (await this.collect()).matrix;
  }

  /**
   * A collection started after this call, with the statuses it read. Callers at once (the
   * background loop, the checkpoints of a batch's nodes) share one: a collection already under way
   * when the call came is waited out, never reused, since it may predate what the caller did. With
   * `fresh` (a checkpoint), the collectors wait for results made after they read each pod (see
   * freshSince); such a collection serves any caller, a plain one only plain callers.
   */
  async collect(opts: { fresh?: boolean } = {}): Promise<{ matrix: ConnectivityMatrix; collection: ProbeCollection }> {
    const fresh = opts.fresh === true && this.settings.collection === 'aggregated';
    const startedBefore = this.started;
    for (;;) {
      const f = this.inflight;
      if (!f) break;
      if (f.seq > startedBefore && (f.fresh || !fresh)) return f.promise;
      await f.promise.catch(() => undefined);
    }
    const seq = ++this.started;
    const promise = this.collectNow(fresh).finally(() => {
      if (this.inflight?.seq === seq) this.inflight = undefined;
    });
    this.inflight = { seq, fresh, promise };
    return promise;
  }

  private async collectNow(fresh: boolean): Promise<{ matrix: ConnectivityMatrix; collection: ProbeCollection }> {
    // Failures over well before the last collection began were recorded from it: collectors leave
    // them out (the margin covers clock skew between nodes and the flow-break window).
    const since = this.latestCollection ? this.latestCollection.collectedAt - Math.max(SINCE_MARGIN_MS, this.settings.flowBreakWindowMs) : undefined;
    const collection = this.settings.collection === 'aggregated' ? await collectAggregated(this.client, this.settings, since, fresh) : await collectProbeStatuses(this.client, this.settings);
    const matrix = buildConnectivityMatrix(collection, { flowBreakWindowMs: this.settings.flowBreakWindowMs });
    this.record(collection);
    this.lastCollectedAt = Date.now();
    this.latest = matrix;
    this.latestCollection = collection;
    this.collections++;
    this.deps.onSample?.(matrix);
    return { matrix, collection };
  }

  /** The matrix of the last collection. */
  lastMatrix(): ConnectivityMatrix | undefined {
    return this.latest;
  }

  /** The raw statuses of the last collection. */
  lastCollection(): ProbeCollection | undefined {
    return this.latestCollection;
  }

  /** Collections completed so far. */
  get samples(): number {
    return this.collections;
  }

  /** Collections that failed as a whole. */
  errors(): { at: number; message: string }[] {
    return [...this.errorLog];
  }

  /** Every entry, oldest first. */
  timeline(): TimelineEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e })).sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : 1));
  }

  /**
   * Failures that count: pairs failing for at least failureThresholdMs (ongoing ones measured to
   * now) and flows cut by the network; with `since`, only those still going on at or after it.
   */
  failures(opts: { since?: number } = {}): TimelineEntry[] {
    const now = this.now();
    const since = opts.since ?? -Infinity;
    return this.timeline().filter((e) => {
      if (e.kind === 'flow') return e.reason === 'network' && e.firstSeen >= since;
      if (e.kind !== 'pair') return false;
      const end = e.resolvedAt ?? now;
      return end - e.firstSeen >= this.settings.failureThresholdMs && end >= since;
    });
  }

  /** ok when nothing counts as a failure (since the given time). */
  verdict(opts: { since?: number } = {}): MonitorVerdict {
    const failures = this.failures(opts);
    return { ok: failures.length === 0, failures };
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.collectOnce();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        this.errorLog.push({ at: this.now(), message: err.message });
        if (this.errorLog.length > 100) this.errorLog.shift();
        this.deps.onError?.(err);
      }
      try {
        // An interval after the latest collection, whoever asked for it: while checkpoints
        // collect, the background loop has nothing to add and stays quiet.
        do await delay(Math.max(1, this.lastCollectedAt + this.settings.intervalMs - Date.now()), undefined, { signal });
        while (Date.now() < this.lastCollectedAt + this.settings.intervalMs);
      } catch {
        // aborted
      }
    }
  }

  private record(collection: ProbeCollection): void {
    const at = collection.collectedAt;
    const present = new Set(collection.pods.map((p) => p.pod));
    const reporting = new Map<string, Set<string>>();
    for (const report of collection.pods) {
      const open = this.openPodEntry(report.pod);
      if (report.state !== 'ok') {
        if (open) {
          open.lastSeen = at;
          open.reason = report.state;
          open.detail = report.detail;
        } else {
          const id = `pod:${report.pod}#${at}`;
          const entry: TimelineEntry = { id, kind: 'pod', fromNode: report.node, fromPod: report.pod, reason: report.state, detail: report.detail, firstSeen: at, lastSeen: at };
          this.entries.set(id, entry);
          this.openPods.set(report.pod, entry);
        }
        continue;
      }
      if (open) open.resolvedAt = at;
      const status = report.status;
      reporting.set(report.pod, new Set(status.peers.map((p) => `${p.pod}@${p.ip}`)));
      for (const peer of status.peers) {
        for (const ep of peer.episodes) {
          const id = `pair:${report.pod}>${peer.pod}@${peer.ip}#${ep.startedAt}`;
          const entry: TimelineEntry = {
            id,
            kind: 'pair',
            fromNode: status.pod.node,
            fromPod: report.pod,
            toNode: peer.node,
            toPod: peer.pod,
            ip: peer.ip,
            network: peer.network,
            reason: ep.result,
            detail: ep.detail,
            firstSeen: Date.parse(ep.startedAt),
            lastSeen: Date.parse(ep.lastFailureAt),
            resolvedAt: ep.endedAt ? Date.parse(ep.endedAt) : undefined,
            failures: ep.failures,
          };
          this.entries.set(id, entry);
        }
      }
      for (const b of status.flows.breaks) {
        const id = `flow:${report.pod}>${b.peer}@${b.ip}#${b.brokenAt}`;
        if (this.entries.has(id)) continue;
        const t = Date.parse(b.brokenAt);
        this.entries.set(id, { id, kind: 'flow', fromNode: status.pod.node, fromPod: report.pod, toNode: b.peerNode, toPod: b.peer, ip: b.ip, network: b.network, reason: b.reason, detail: `${b.cause}: ${b.detail}`, firstSeen: t, lastSeen: t, resolvedAt: t });
      }
    }
    // Open entries whose source pod is gone, or whose peer the source no longer probes, are over.
    for (const e of this.entries.values()) {
      if (e.resolvedAt !== undefined) continue;
      if (e.kind === 'pod' && !present.has(e.fromPod)) e.resolvedAt = at;
      if (e.kind !== 'pair') continue;
      const peers = reporting.get(e.fromPod);
      if (!present.has(e.fromPod) || (peers && !peers.has(`${e.toPod ?? ''}@${e.ip ?? ''}`))) e.resolvedAt = at;
    }
    this.trim();
  }

  // A long run on a big cluster must not grow without bound: the oldest finished entries go first.
  private trim(): void {
    const excess = this.entries.size - MAX_TIMELINE_ENTRIES;
    if (excess <= 0) return;
    const finished = [...this.entries.values()].filter((e) => e.resolvedAt !== undefined).sort((a, b) => a.firstSeen - b.firstSeen);
    for (const e of finished.slice(0, excess)) this.entries.delete(e.id);
  }

  private openPodEntry(pod: string): TimelineEntry | undefined {
    const e = this.openPods.get(pod);
    if (e && e.resolvedAt === undefined && this.entries.get(e.id) === e) return e;
    this.openPods.delete(pod);
    return undefined;
  }
}
