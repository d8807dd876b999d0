/**
 * Aggregated collection, the agent's half: a collector agent reads every peer it knows over the
 * pod network (GET /status/compact on the peer's own agent) and answers one document for all of
 * them, so the CLI needs one proxied request per collector instead of one per probe pod. Each pod
 * is reported slim — counts of its peers, its failing peers and cut flows, when it last probed —
 * so the answer grows with the failures and the number of pods, not with their square; with
 * `since`, failures that were over before then are left out (the reader saw them already). A
 * peer the collector cannot reach is reported as unreachable, with why — never left out.
 */
import * as z from 'zod';
import { FlowBreakSchema, PeerStatusSchema, PeerSummarySchema, ProbeStatusSchema, STATUS_VERSION, type ProbeStatusDocument } from './statusDocument.js';
import type { AgentIdentity, ProbeTransport } from './probeTypes.js';

/** Where a collector answers. */
export const COLLECT_PATH = '/collect';
/** Where every agent serves its compact status. */
export const COMPACT_STATUS_PATH = '/status/compact';
/** The collection document's format version. */
export const COLLECT_VERSION = 'cni-migration.dev/probe-collection/v2';

const Identity = { pod: z.string(), namespace: z.string(), node: z.string() };

/** One pod's state in a collection: a compact status without what the CLI does not need (its interfaces, settings, open flows). */
export const SlimStatusSchema = z.object({
  generatedAt: z.string(),
  rounds: z.number(),
  lastRoundAt: z.string().optional(),
  ok: z.boolean(),
  summary: PeerSummarySchema,
  /** Peers failing now or with a failure episode (since the collection's `since`). */
  peers: z.array(PeerStatusSchema).optional(),
  /** Flows the network cut (since the collection's `since`); breaksTotal counts every cut. */
  breaks: z.array(FlowBreakSchema).optional(),
  breaksTotal: z.number().optional(),
  peerSourceError: z.string().optional(),
  /** See ProbeStatusDocument.freshSince. */
  freshSince: z.string().optional(),
});

/** A pod's slim status in a collection. */
export type SlimStatus = z.infer<typeof SlimStatusSchema>;

/** Schema of GET /collect. */
export const CollectDocumentSchema = z.object({
  version: z.literal(COLLECT_VERSION),
  collector: z.object(Identity),
  generatedAt: z.string(),
  pods: z.array(
    z.discriminatedUnion('state', [
      z.object({ ...Identity, state: z.literal('ok'), status: SlimStatusSchema }),
      z.object({ ...Identity, state: z.literal('unreachable'), ip: z.string(), detail: z.string() }),
    ]),
  ),
});

/** GET /collect. */
export type CollectDocument = z.infer<typeof CollectDocumentSchema>;

/**
 * A compact status, slim (what a collection carries of each pod): flows cut because their peer
 * went away are expected while nodes drain (thousands an hour on a big cluster) and only counted;
 * flows the network cut are kept.
 */
export function slimStatus(doc: ProbeStatusDocument): SlimStatus {
  const breaks = doc.flows.breaks.filter((b) => b.reason === 'network');
  const summary = doc.peerSummary ?? { peers: doc.peers.length, ok: doc.peers.filter((p) => p.result === 'ok').length, failed: doc.peers.filter((p) => p.result !== 'ok' && p.result !== 'pending').length, pending: doc.peers.filter((p) => p.result === 'pending').length };
  return {
    generatedAt: doc.generatedAt,
    rounds: doc.rounds,
    ...(doc.lastRoundAt !== undefined ? { lastRoundAt: doc.lastRoundAt } : {}),
    ok: doc.ok,
    summary,
    ...(doc.peers.length ? { peers: doc.peers } : {}),
    ...(breaks.length ? { breaks } : {}),
    ...(doc.flows.breaksTotal ? { breaksTotal: doc.flows.breaksTotal } : {}),
    ...(doc.peerSourceError ? { peerSourceError: doc.peerSourceError } : {}),
    ...(doc.freshSince ? { freshSince: doc.freshSince } : {}),
  };
}

/** The compact status document a slim one stands for (interfaces, settings and open flows unknown: empty). */
export function expandSlimStatus(id: { pod: string; namespace: string; node: string }, slim: SlimStatus): ProbeStatusDocument {
  return {
    version: STATUS_VERSION,
    pod: { name: id.pod, namespace: id.namespace, node: id.node, ips: [], interfaces: [] },
    ok: slim.ok,
    startedAt: slim.generatedAt,
    generatedAt: slim.generatedAt,
    rounds: slim.rounds,
    ...(slim.lastRoundAt !== undefined ? { lastRoundAt: slim.lastRoundAt } : {}),
    settings: { intervalMs: 0, timeoutMs: 0 },
    peers: slim.peers ?? [],
    flows: { open: [], breaks: slim.breaks ?? [], breaksTotal: slim.breaksTotal ?? 0 },
    ...(slim.peerSourceError ? { peerSourceError: slim.peerSourceError } : {}),
    ...(slim.freshSince ? { freshSince: slim.freshSince } : {}),
    peerSummary: slim.summary,
  };
}

/** What a collector needs of its agent. */
export interface CollectorAgent {
  self: AgentIdentity;
  /** Its own compact status (without what was over before `sinceMs`). */
  compactStatus(sinceMs?: number): ProbeStatusDocument;
  /** Every peer pod it probes, at one address each (its primary where it has several). */
  peerPods(): { pod: string; node: string; ip: string }[];
}

/** How a collection runs. */
export interface CollectOptions {
  now?: () => number;
  /** Peers read at once (default 16). */
  concurrency?: number;
  /** Leave out failures over before this time (epoch ms). */
  sinceMs?: number | undefined;
  /**
   * Fresh results only: each peer read once for its own time, then again (a probe round later,
   * at most `fresh.rounds` times) until every peer it counts was probed after that time. What a
   * checkpoint needs, in one proxied request instead of a collection to mark and more to wait.
   */
  fresh?: { rounds: number; sleep: (ms: number) => Promise<void> } | undefined;
}

/** Whether a compact status shows every peer probed at or after `mark` (its own clock). */
export function freshAfter(doc: ProbeStatusDocument, mark: number): boolean {
  const s = doc.peerSummary;
  if (!s) return doc.peers.every((p) => p.lastProbeAt !== undefined && Date.parse(p.lastProbeAt) >= mark);
  return s.pending === 0 && (s.oldestProbeAt === undefined || Date.parse(s.oldestProbeAt) >= mark);
}

/** Reads every known peer's compact status over the pod network (at most `concurrency` at once). */
export async function collectPeerStatuses(agent: CollectorAgent, transport: ProbeTransport, port: number, timeoutMs: number, opts: CollectOptions = {}): Promise<CollectDocument> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const peers = agent.peerPods();
  const namespace = agent.self.namespace;
  const path = opts.sinceMs === undefined ? COMPACT_STATUS_PATH : `${COMPACT_STATUS_PATH}?since=${encodeURIComponent(new Date(opts.sinceMs).toISOString())}`;
  type Read = { entry: CollectDocument['pods'][number]; doc?: ProbeStatusDocument };
  const read = async (peer: { pod: string; node: string; ip: string }): Promise<Read> => {
    const id = { pod: peer.pod, namespace, node: peer.node };
    const res = await transport.httpGet(peer.ip, port, path, timeoutMs);
    if (res.kind === 'failure') return { entry: { ...id, state: 'unreachable', ip: peer.ip, detail: `${res.failure}: ${res.message}` } };
    if (res.status !== 200) return { entry: { ...id, state: 'unreachable', ip: peer.ip, detail: `HTTP ${res.status} from ${peer.ip}:${port}` } };
    try {
      const parsed = ProbeStatusSchema.safeParse(JSON.parse(res.body));
      if (parsed.success) return { entry: { ...id, state: 'ok', status: slimStatus(parsed.data) }, doc: parsed.data };
      return { entry: { ...id, state: 'unreachable', ip: peer.ip, detail: `not a status document: ${parsed.error.issues[0]?.message ?? '?'}` } };
    } catch {
      return { entry: { ...id, state: 'unreachable', ip: peer.ip, detail: 'not JSON' } };
    }
  };
  const concurrency = opts.concurrency ?? 16;
  let results = await mapConcurrently(peers, concurrency, read);
  let own = agent.compactStatus(opts.sinceMs);
  const fresh = opts.fresh;
  if (fresh) {
    // Each agent's own time at the first read is its mark; those not yet past it are read again.
    const marks = results.map((r) => (r.doc ? Date.parse(r.doc.generatedAt) : undefined));
    const ownMark = startedAt;
    for (let round = 0; round < fresh.rounds; round++) {
      const stale = results.map((r, i) => (r.doc && !freshAfter(r.doc, marks[i]!) ? i : -1)).filter((i) => i >= 0);
      if (!stale.length && freshAfter(own, ownMark)) break;
      await fresh.sleep(Math.max(own.settings.intervalMs, 1));
      const again = await mapConcurrently(stale.map((i) => peers[i]!), concurrency, read);
      stale.forEach((i, k) => (results[i] = again[k]!));
      own = agent.compactStatus(opts.sinceMs);
    }
    results = results.map((r, i) => (r.entry.state === 'ok' && marks[i] !== undefined ? { ...r, entry: { ...r.entry, status: { ...r.entry.status, freshSince: new Date(marks[i]).toISOString() } } } : r));
    own = { ...own, freshSince: new Date(ownMark).toISOString() };
  }
  return {
    version: COLLECT_VERSION,
    collector: { pod: agent.self.pod, namespace, node: agent.self.node },
    generatedAt: new Date(now()).toISOString(),
    pods: [{ pod: agent.self.pod, namespace, node: agent.self.node, state: 'ok', status: slimStatus(own) }, ...results.map((r) => r.entry)],
  };
}

async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
