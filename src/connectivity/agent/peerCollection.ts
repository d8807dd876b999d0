/**
 * Aggregated collection, the agent's half: a collector agent reads every peer it knows over the
 * pod network (GET /status/compact on the peer's own agent) and answers one document for all of
 * them, so the CLI needs one proxied request per collector instead of one per probe pod. Each
 * peer's document is compact (failures and counts only), so the answer grows with the failures
 * and the number of pods, not with their square. A peer the collector cannot reach is reported
 * as unreachable, with why — never left out.
 */
import * as z from 'zod';
import { compactStatus, ProbeStatusSchema, type ProbeStatusDocument } from './statusDocument.js';
import type { AgentIdentity, ProbeTransport } from './probeTypes.js';

/** Where a collector answers. */
export const COLLECT_PATH = '/collect';
/** Where every agent serves its compact status. */
export const COMPACT_STATUS_PATH = '/status/compact';
/** The collection document's format version. */
export const COLLECT_VERSION = 'cni-migration.dev/probe-collection/v1';

const Identity = { pod: z.string(), namespace: z.string(), node: z.string() };

/** Schema of GET /collect. */
export const CollectDocumentSchema = z.object({
  version: z.literal(COLLECT_VERSION),
  collector: z.object(Identity),
  generatedAt: z.string(),
  pods: z.array(
    z.discriminatedUnion('state', [
      z.object({ ...Identity, state: z.literal('ok'), status: ProbeStatusSchema }),
      z.object({ ...Identity, state: z.literal('unreachable'), ip: z.string(), detail: z.string() }),
    ]),
  ),
});

/** GET /collect. */
export type CollectDocument = z.infer<typeof CollectDocumentSchema>;

/** What a collector needs of its agent. */
export interface CollectorAgent {
  self: AgentIdentity;
  status(): ProbeStatusDocument;
}

/** Reads every known peer's compact status over the pod network (at most `concurrency` at once). */
export async function collectPeerStatuses(agent: CollectorAgent, transport: ProbeTransport, port: number, timeoutMs: number, now: () => number = Date.now, concurrency = 16): Promise<CollectDocument> {
  const own = agent.status();
  // One address per peer pod: its primary one where it has several networks.
  const byPod = new Map<string, { pod: string; node: string; ip: string }>();
  for (const p of own.peers) if (!byPod.has(p.pod) || p.primary) byPod.set(p.pod, { pod: p.pod, node: p.node, ip: p.ip });
  const peers = [...byPod.values()];
  const namespace = agent.self.namespace;
  const read = async (peer: { pod: string; node: string; ip: string }): Promise<CollectDocument['pods'][number]> => {
    const id = { pod: peer.pod, namespace, node: peer.node };
    const res = await transport.httpGet(peer.ip, port, COMPACT_STATUS_PATH, timeoutMs);
    if (res.kind === 'failure') return { ...id, state: 'unreachable', ip: peer.ip, detail: `${res.failure}: ${res.message}` };
    if (res.status !== 200) return { ...id, state: 'unreachable', ip: peer.ip, detail: `HTTP ${res.status} from ${peer.ip}:${port}` };
    try {
      const parsed = ProbeStatusSchema.safeParse(JSON.parse(res.body));
      if (parsed.success) return { ...id, state: 'ok', status: parsed.data };
      return { ...id, state: 'unreachable', ip: peer.ip, detail: `not a status document: ${parsed.error.issues[0]?.message ?? '?'}` };
    } catch {
      return { ...id, state: 'unreachable', ip: peer.ip, detail: 'not JSON' };
    }
  };
  const results = new Array<CollectDocument['pods'][number]>(peers.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, peers.length) }, async () => {
      while (next < peers.length) {
        const i = next++;
        results[i] = await read(peers[i]!);
      }
    }),
  );
  return {
    version: COLLECT_VERSION,
    collector: { pod: agent.self.pod, namespace, node: agent.self.node },
    generatedAt: new Date(now()).toISOString(),
    pods: [{ pod: agent.self.pod, namespace, node: agent.self.node, state: 'ok', status: compactStatus(own) }, ...results],
  };
}
