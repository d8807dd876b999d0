/**
 * The agent's /status document: who this pod is, its interfaces, every peer's latest result and
 * recent failure episodes, its long-lived flows and the ones that were cut, and an overall ok.
 * Built by a pure function; the collector validates what it receives with the same schema.
 */
import * as z from 'zod';
import type { PeerView } from './peerHistory.js';
import type { AgentIdentity, FlowBreakReason, PodNetworkInterface, ProbeResult } from './probeTypes.js';

/** The document's format version (bumped on incompatible changes). */
export const STATUS_VERSION = 'cni-migration.dev/probe-status/v1';

const ProbeResultSchema = z.enum(['ok', 'timeout', 'refused', 'unreachable', 'reset', 'http-error', 'wrong-peer', 'error']);

const InterfaceSchema = z.object({ network: z.string(), interface: z.string(), ips: z.array(z.string()), primary: z.boolean() });

const EpisodeSchema = z.object({
  startedAt: z.string(),
  lastFailureAt: z.string(),
  endedAt: z.string().optional(),
  failures: z.number(),
  result: ProbeResultSchema,
  detail: z.string(),
});

export const PeerStatusSchema = z.object({
  pod: z.string(),
  node: z.string(),
  ip: z.string(),
  network: z.string(),
  interface: z.string(),
  primary: z.boolean(),
  /** "pending" until the first probe returns. */
  result: z.union([ProbeResultSchema, z.literal('pending')]),
  latencyMs: z.number().optional(),
  lastProbeAt: z.string().optional(),
  detail: z.string().optional(),
  consecutiveFailures: z.number(),
  failingSince: z.string().optional(),
  counts: z.object({ ok: z.number(), failed: z.number() }),
  episodes: z.array(EpisodeSchema),
});

const OpenFlowSchema = z.object({ peer: z.string(), peerNode: z.string(), ip: z.string(), network: z.string(), openedAt: z.string() });

export const FlowBreakSchema = z.object({
  peer: z.string(),
  peerNode: z.string(),
  ip: z.string(),
  network: z.string(),
  openedAt: z.string(),
  brokenAt: z.string(),
  reason: z.enum(['peer-gone', 'network']),
  cause: z.string(),
  detail: z.string(),
});

/** Counts over every peer of an agent (a compact document's). */
export const PeerSummarySchema = z.object({
  peers: z.number(),
  ok: z.number(),
  failed: z.number(),
  pending: z.number(),
  /** The oldest last probe among the peers probed at least once. */
  oldestProbeAt: z.string().optional(),
});

/** Schema of GET /status. */
export const ProbeStatusSchema = z.object({
  version: z.literal(STATUS_VERSION),
  pod: z.object({ name: z.string(), namespace: z.string(), node: z.string(), ips: z.array(z.string()), interfaces: z.array(InterfaceSchema) }),
  ok: z.boolean(),
  startedAt: z.string(),
  generatedAt: z.string(),
  rounds: z.number(),
  lastRoundAt: z.string().optional(),
  settings: z.object({ intervalMs: z.number(), timeoutMs: z.number() }),
  peers: z.array(PeerStatusSchema),
  flows: z.object({ open: z.array(OpenFlowSchema), breaks: z.array(FlowBreakSchema), breaksTotal: z.number() }),
  /** Why the last peer lookup failed, if it did (the previous peers are kept meanwhile). */
  peerSourceError: z.string().optional(),
  /**
   * Set on a compact document (GET /status/compact): `peers` then lists only the peers whose last
   * probe failed or that had a failure episode; these counts cover every peer.
   */
  peerSummary: PeerSummarySchema.optional(),
  /**
   * Set by a collector that waited for fresh results (GET /collect?fresh=1): this agent's time when
   * the collector first read it; every peer counted was probed again after it.
   */
  freshSince: z.string().optional(),
});

/** GET /status. */
export type ProbeStatusDocument = z.infer<typeof ProbeStatusSchema>;
/** One peer in /status. */
export type PeerStatus = z.infer<typeof PeerStatusSchema>;
/** One cut flow in /status. */
export type FlowBreakStatus = z.infer<typeof FlowBreakSchema>;

/** A long-lived flow the agent holds. */
export interface OpenFlowRecord {
  peer: string;
  peerNode: string;
  ip: string;
  network: string;
  openedAt: number;
}

/** A long-lived flow that was cut. */
export interface FlowBreakRecord extends OpenFlowRecord {
  brokenAt: number;
  reason: FlowBreakReason;
  cause: string;
  detail: string;
}

/** Everything the document is built from. */
export interface StatusInput {
  self: AgentIdentity;
  interfaces: PodNetworkInterface[];
  startedAt: number;
  now: number;
  rounds: number;
  lastRoundAt?: number | undefined;
  intervalMs: number;
  timeoutMs: number;
  peers: readonly PeerView[];
  openFlows: readonly OpenFlowRecord[];
  flowBreaks: readonly FlowBreakRecord[];
  flowBreaksTotal: number;
  peerSourceError?: string | undefined;
}

/** Builds the /status document. ok: every peer probed at least once answered its last probe. */
export function buildStatusDocument(input: StatusInput): ProbeStatusDocument {
  const peers = input.peers.map(peerStatusOf);
  return {
    version: STATUS_VERSION,
    pod: {
      name: input.self.pod,
      namespace: input.self.namespace,
      node: input.self.node,
      ips: input.interfaces.flatMap((i) => i.ips),
      interfaces: input.interfaces.map((i) => ({ ...i, ips: [...i.ips] })),
    },
    ok: peers.every((p) => p.result === 'ok' || p.result === 'pending'),
    startedAt: iso(input.startedAt),
    generatedAt: iso(input.now),
    rounds: input.rounds,
    ...(input.lastRoundAt !== undefined ? { lastRoundAt: iso(input.lastRoundAt) } : {}),
    settings: { intervalMs: input.intervalMs, timeoutMs: input.timeoutMs },
    peers,
    flows: {
      open: input.openFlows.map((f) => ({ peer: f.peer, peerNode: f.peerNode, ip: f.ip, network: f.network, openedAt: iso(f.openedAt) })),
      breaks: input.flowBreaks.map((b) => ({ peer: b.peer, peerNode: b.peerNode, ip: b.ip, network: b.network, openedAt: iso(b.openedAt), brokenAt: iso(b.brokenAt), reason: b.reason, cause: b.cause, detail: b.detail })),
      breaksTotal: input.flowBreaksTotal,
    },
    ...(input.peerSourceError ? { peerSourceError: input.peerSourceError } : {}),
  };
}

function peerStatusOf(rec: PeerView): PeerStatus {
  const t = rec.target;
  const result: ProbeResult | 'pending' = rec.last?.result ?? 'pending';
  return {
    pod: t.pod,
    node: t.node,
    ip: t.ip,
    network: t.network,
    interface: t.interface,
    primary: t.primary,
    result,
    ...(rec.last ? { latencyMs: rec.last.latencyMs, lastProbeAt: iso(rec.last.at) } : {}),
    ...(rec.last?.detail ? { detail: rec.last.detail } : {}),
    consecutiveFailures: rec.consecutiveFailures,
    ...(rec.failingSince !== undefined ? { failingSince: iso(rec.failingSince) } : {}),
    counts: { ok: rec.counts.ok, failed: rec.counts.failed },
    episodes: rec.episodes.map((e) => ({
      startedAt: iso(e.startedAt),
      lastFailureAt: iso(e.lastFailureAt),
      ...(e.endedAt !== undefined ? { endedAt: iso(e.endedAt) } : {}),
      failures: e.failures,
      result: e.result,
      detail: e.detail,
    })),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The compact document collectors exchange: the same document, with only the peers that failed
 * (now or in a kept episode) and counts of all of them, so its size grows with failures, not with
 * the cluster. With `sinceMs`, episodes and cut flows that were over before then are left out (the
 * collector's reader saw them already).
 */
export function compactStatus(doc: ProbeStatusDocument, sinceMs?: number): ProbeStatusDocument {
  const probed = doc.peers.filter((p) => p.lastProbeAt !== undefined).map((p) => Date.parse(p.lastProbeAt!));
  const oldest = probed.length ? Math.min(...probed) : undefined;
  return {
    ...recentOnly({ ...doc, peers: doc.peers.filter((p) => (p.result !== 'ok' && p.result !== 'pending') || p.episodes.length > 0) }, sinceMs),
    peerSummary: {
      peers: doc.peers.length,
      ok: doc.peers.filter((p) => p.result === 'ok').length,
      failed: doc.peers.filter((p) => p.result !== 'ok' && p.result !== 'pending').length,
      pending: doc.peers.filter((p) => p.result === 'pending').length,
      ...(oldest !== undefined ? { oldestProbeAt: iso(oldest) } : {}),
    },
  };
}

/** Drops what was over before `sinceMs`: closed episodes, peers left with nothing to report, cut flows. */
function recentOnly(doc: ProbeStatusDocument, sinceMs: number | undefined): ProbeStatusDocument {
  if (sinceMs === undefined) return doc;
  const recent = (at: string | undefined) => at === undefined || Date.parse(at) >= sinceMs;
  const peers = doc.peers
    .map((p) => ({ ...p, episodes: p.episodes.filter((e) => recent(e.endedAt)) }))
    .filter((p) => (p.result !== 'ok' && p.result !== 'pending') || p.episodes.length > 0);
  return { ...doc, peers, flows: { ...doc.flows, breaks: doc.flows.breaks.filter((b) => recent(b.brokenAt)) } };
}

/**
 * The compact document built directly, by an agent that knows its failing peers and the counts of
 * all without listing every peer (a grouped agent): `input.peers` are the failing ones.
 */
export function compactStatusOf(input: StatusInput, counts: { peers: number; ok: number; failed: number; pending: number; oldestProbeAt?: number | undefined }, sinceMs?: number): ProbeStatusDocument {
  const doc = recentOnly(buildStatusDocument(input), sinceMs);
  return {
    ...doc,
    peerSummary: { peers: counts.peers, ok: counts.ok, failed: counts.failed, pending: counts.pending, ...(counts.oldestProbeAt !== undefined ? { oldestProbeAt: iso(counts.oldestProbeAt) } : {}) },
  };
}
