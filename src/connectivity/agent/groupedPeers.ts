/**
 * Grouped probing, for agents that can be told which peers are bound to answer alike. The
 * simulator can (its model's verdict for a pair depends only on the two pods' reachability
 * classes), and it runs every agent of the cluster in one process, where probing every peer from
 * every pod is O(pods²) per round. Grouped, an agent probes one member of each group per round
 * (in turn) and lets an ok stand for the group; a group whose member fails is probed member by
 * member, so every failure is measured with its own detail. What is kept is bounded the same way:
 * one record per group, and a record of its own only for a peer that failed.
 *
 * Real agents in pods never group: they probe every peer every round (probeAgent.ts).
 */
import { PeerHistory, type PeerHistoryLimits, type PeerRecord, type PeerView, type ProbeSample } from './peerHistory.js';
import type { AgentIdentity, PodNetworkInterface, ProbeTarget } from './probeTypes.js';

/** Targets bound to get the same answer from one agent. */
export interface TargetGroup {
  /** Stable while the members' class is the same, so the group's record outlives membership changes. */
  id: string;
  size: number;
  /** The i-th member, 0 ≤ i < size. */
  at(i: number): ProbeTarget;
}

/** An agent's peers, in groups. */
export interface GroupedTargets {
  /** Changes whenever the groups or their members may have changed. */
  version: number;
  self: { ips: string[]; interfaces: PodNetworkInterface[] };
  groups: readonly TargetGroup[];
  /** The current target with this key, if it is still a peer. */
  target(key: string): ProbeTarget | undefined;
  /** The id of the group a current target is in. */
  groupOf(key: string): string | undefined;
}

/** Who tells an agent its peers in groups (the simulator's SimPeerGrouping). */
export interface PeerGrouping {
  groupsFor(self: AgentIdentity): GroupedTargets;
}

/** What the group's representatives measured. */
export interface GroupRecord {
  firstSeenAt: number;
  /** The last ok answer of any member. */
  last?: ProbeSample | undefined;
  ok: number;
}

/** Counts over every current peer. */
export interface PeerCounts {
  peers: number;
  ok: number;
  failed: number;
  pending: number;
  /** The oldest last probe among probed peers (epoch ms). */
  oldestProbeAt?: number | undefined;
}

/** Bounds of a grouped book. */
export interface GroupedLimits extends PeerHistoryLimits {
  /** Peers with a record of their own (they failed at some point) kept at most (default 1000). */
  maxIndividual?: number;
}

/**
 * Records of a grouped agent: one per group, and one of its own (a PeerHistory record) for each
 * peer that failed, kept while it fails and, bounded, after (its failure episodes).
 */
export class GroupedPeerBook {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly individual: PeerHistory;
  private readonly maxIndividual: number;
  private current: GroupedTargets | undefined;

  constructor(limits: GroupedLimits = {}) {
    this.individual = new PeerHistory(limits);
    this.maxIndividual = Math.max(1, limits.maxIndividual ?? 1000);
  }

  /** Takes this round's groups: drops records of peers and groups that are gone. */
  sync(targets: GroupedTargets, now: number): void {
    if (this.current?.version === targets.version) return;
    this.current = targets;
    const live = new Set(targets.groups.map((g) => g.id));
    for (const id of this.groups.keys()) if (!live.has(id)) this.groups.delete(id);
    for (const g of targets.groups) if (!this.groups.has(g.id)) this.groups.set(g.id, { firstSeenAt: now, ok: 0 });
    for (const rec of this.individual.all()) {
      const t = targets.target(rec.target.key);
      if (!t) this.individual.drop(rec.target.key);
      else rec.target = t;
    }
  }

  /** Whether a peer is failing now (probed on its own until it answers). */
  failing(key: string): boolean {
    return (this.individual.get(key)?.consecutiveFailures ?? 0) > 0;
  }

  /** Whether a group's representatives have answered (its last record is an ok). */
  answered(id: string): boolean {
    return this.groups.get(id)?.last !== undefined;
  }

  /** Peers failing now. */
  failingTargets(): ProbeTarget[] {
    return this.individual.all().filter((r) => r.consecutiveFailures > 0).map((r) => r.target);
  }

  /** Records an ok answer that stands for a group. */
  recordGroup(id: string, sample: ProbeSample): void {
    const g = this.groups.get(id);
    if (!g || sample.result !== 'ok') return;
    g.last = sample;
    g.ok++;
  }

  /** Records one peer's own probe: failures open (or extend) its own record; an ok closes it. */
  recordPeer(target: ProbeTarget, sample: ProbeSample, now: number): void {
    if (sample.result === 'ok' && !this.individual.get(target.key)) return;
    this.individual.track(target, now);
    this.individual.record(target.key, sample);
    if (this.individual.size > this.maxIndividual) this.evict();
  }

  /** Every current peer's view, group by group (O(peers): for /status, not for every round). */
  peers(): PeerView[] {
    const out: PeerView[] = [];
    for (const g of this.current?.groups ?? []) {
      const rec = this.groups.get(g.id);
      for (let i = 0; i < g.size; i++) {
        const t = g.at(i);
        const own = this.individual.get(t.key);
        out.push(own ? withGroupAnswer(own, rec) : fromGroup(t, rec));
      }
    }
    return out;
  }

  /** Peers with a failure now or in a kept episode (what a compact document lists). */
  peersWithFailures(): PeerView[] {
    return this.individual
      .all()
      .filter((r) => r.consecutiveFailures > 0 || r.episodes.length > 0)
      .map((r) => withGroupAnswer(r, this.groupRecordOf(r.target.key)));
  }

  /** Counts over every current peer, in O(groups + peers with records of their own). */
  counts(): PeerCounts {
    let peers = 0;
    let pending = 0;
    let oldest: number | undefined;
    const older = (at: number | undefined) => {
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    };
    const failing = this.individual.all().filter((r) => r.consecutiveFailures > 0);
    const failingIn = new Map<string, number>();
    for (const r of failing) {
      older(r.last?.at);
      const g = this.current?.groupOf(r.target.key);
      if (g !== undefined) failingIn.set(g, (failingIn.get(g) ?? 0) + 1);
    }
    for (const g of this.current?.groups ?? []) {
      const rec = this.groups.get(g.id);
      peers += g.size;
      // A group never answered: its members are pending, apart from those already seen failing.
      if (!rec?.last) pending += g.size - (failingIn.get(g.id) ?? 0);
      older(rec?.last?.at);
    }
    return { peers, ok: Math.max(0, peers - pending - failing.length), failed: failing.length, pending, ...(oldest !== undefined ? { oldestProbeAt: oldest } : {}) };
  }

  private groupRecordOf(key: string): GroupRecord | undefined {
    const id = this.current?.groupOf(key);
    return id === undefined ? undefined : this.groups.get(id);
  }

  // Keeps the records of peers failing now; forgets the longest-recovered ones first.
  private evict(): void {
    const recovered = this.individual
      .all()
      .filter((r) => r.consecutiveFailures === 0)
      .sort((a, b) => (a.last?.at ?? 0) - (b.last?.at ?? 0));
    for (const r of recovered.slice(0, this.individual.size - this.maxIndividual)) this.individual.drop(r.target.key);
  }
}

/** Picks this round's representative of a group: member `round mod size`, skipping failing ones. */
export function representative(group: TargetGroup, round: number, skip: (t: ProbeTarget) => boolean): ProbeTarget | undefined {
  for (let k = 0; k < group.size; k++) {
    const t = group.at((round + k) % group.size);
    if (!skip(t)) return t;
  }
  return undefined;
}

// A recovered peer's own record shows its group's later answers as its last.
function withGroupAnswer(own: PeerRecord, group: GroupRecord | undefined): PeerView {
  if (own.consecutiveFailures > 0 || !group?.last || (own.last && own.last.at >= group.last.at)) return own;
  return { ...own, last: group.last };
}

function fromGroup(target: ProbeTarget, group: GroupRecord | undefined): PeerView {
  return { target, last: group?.last, consecutiveFailures: 0, counts: { ok: group?.ok ?? 0, failed: 0, byResult: group?.ok ? { ok: group.ok } : {} }, episodes: [] };
}
