/**
 * Bounded per-peer history: the last result and latency, consecutive failures, when the current
 * failure began, counts by result, the last few samples, and the last few failure episodes (a
 * run of failed probes from the first failure to the next success). Episodes let a collector
 * that looks only now and then still see a blip that began and ended between two looks. Peers
 * that vanish from discovery are dropped with their history.
 */
import type { ProbeResult, ProbeTarget } from './probeTypes.js';

/** One probe's outcome. */
export interface ProbeSample {
  /** Epoch ms when the probe was sent. */
  at: number;
  result: ProbeResult;
  latencyMs: number;
  detail?: string | undefined;
}

/** A run of failed probes to one peer. */
export interface FailureEpisode {
  startedAt: number;
  lastFailureAt: number;
  /** When the next probe succeeded; undefined while still failing. */
  endedAt?: number | undefined;
  failures: number;
  /** The result and detail of the latest failure. */
  result: ProbeResult;
  detail: string;
}

/** Everything kept about one peer address. */
export interface PeerRecord {
  target: ProbeTarget;
  firstSeenAt: number;
  last?: ProbeSample | undefined;
  consecutiveFailures: number;
  /** When the current run of failures began; undefined when the last probe succeeded. */
  failingSince?: number | undefined;
  counts: { ok: number; failed: number; byResult: Partial<Record<ProbeResult, number>> };
  /** Newest last, at most maxSamples. */
  recent: ProbeSample[];
  /** Newest last, at most maxEpisodes. */
  episodes: FailureEpisode[];
}

/** What a status document or the metrics read of a peer: its record, or one synthesised for a grouped peer. */
export type PeerView = Pick<PeerRecord, 'target' | 'last' | 'consecutiveFailures' | 'failingSince' | 'counts' | 'episodes'>;

/** Bounds of the history. */
export interface PeerHistoryLimits {
  /** Samples kept per peer (default 20). */
  maxSamples?: number;
  /** Failure episodes kept per peer (default 10). */
  maxEpisodes?: number;
}

/** Per-peer probe history, bounded in samples and episodes per peer. */
export class PeerHistory {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly maxSamples: number;
  private readonly maxEpisodes: number;

  constructor(limits: PeerHistoryLimits = {}) {
    this.maxSamples = Math.max(1, limits.maxSamples ?? 20);
    this.maxEpisodes = Math.max(1, limits.maxEpisodes ?? 10);
  }

  /** Makes the tracked peers exactly `targets`: new ones are added, vanished ones dropped. */
  sync(targets: readonly ProbeTarget[], now: number): { added: string[]; dropped: string[] } {
    const wanted = new Map(targets.map((t) => [t.key, t]));
    const dropped: string[] = [];
    for (const key of this.peers.keys()) {
      if (!wanted.has(key)) {
        this.peers.delete(key);
        dropped.push(key);
      }
    }
    const added: string[] = [];
    for (const [key, target] of wanted) {
      const rec = this.peers.get(key);
      if (rec) rec.target = target;
      else {
        this.peers.set(key, { target, firstSeenAt: now, consecutiveFailures: 0, counts: { ok: 0, failed: 0, byResult: {} }, recent: [], episodes: [] });
        added.push(key);
      }
    }
    return { added, dropped };
  }

  /** Starts tracking one peer (a no-op when it is tracked already). */
  track(target: ProbeTarget, now: number): void {
    if (!this.peers.has(target.key)) this.peers.set(target.key, { target, firstSeenAt: now, consecutiveFailures: 0, counts: { ok: 0, failed: 0, byResult: {} }, recent: [], episodes: [] });
  }

  /** Records one probe of a tracked peer; ignored (undefined) for an unknown key. */
  record(key: string, sample: ProbeSample): PeerRecord | undefined {
    const rec = this.peers.get(key);
    if (!rec) return undefined;
    rec.last = sample;
    rec.counts.byResult[sample.result] = (rec.counts.byResult[sample.result] ?? 0) + 1;
    pushBounded(rec.recent, sample, this.maxSamples);
    const open = rec.episodes.at(-1);
    const episodeOpen = open !== undefined && open.endedAt === undefined;
    if (sample.result === 'ok') {
      rec.counts.ok++;
      rec.consecutiveFailures = 0;
      rec.failingSince = undefined;
      if (episodeOpen) open.endedAt = sample.at;
      return rec;
    }
    rec.counts.failed++;
    rec.consecutiveFailures++;
    rec.failingSince ??= sample.at;
    const detail = sample.detail ?? sample.result;
    if (episodeOpen) {
      open.lastFailureAt = sample.at;
      open.failures++;
      open.result = sample.result;
      open.detail = detail;
    } else {
      pushBounded(rec.episodes, { startedAt: sample.at, lastFailureAt: sample.at, failures: 1, result: sample.result, detail }, this.maxEpisodes);
    }
    return rec;
  }

  /** Forgets one peer. */
  drop(key: string): void {
    this.peers.delete(key);
  }

  get(key: string): PeerRecord | undefined {
    return this.peers.get(key);
  }

  /** Every tracked peer, in the order they were added. */
  all(): PeerRecord[] {
    return [...this.peers.values()];
  }

  get size(): number {
    return this.peers.size;
  }
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
