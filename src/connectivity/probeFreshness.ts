import type { ProbeCollection } from './collectProbeStatuses.js';

// A checkpoint right after a change must judge probes made after it: a collection read a moment
// after the change still holds results from before it (agents probe every interval, and the
// simulator's rotate through their peers), and would call a broken network green. Marks are
// each agent's own clock (its status' generatedAt), compared with its own lastProbeAt, so clock
// skew between this machine and the nodes does not matter.

/** Per probe pod, the moment (its own clock) from which its results count. */
export type ProbeMarks = ReadonlyMap<string, number>;

/**
 * Marks every reporting probe pod at the time its status was generated — or, where a collector
 * waited for fresh results, at the time it first read the pod (freshSince): that collection already
 * holds results made after it, and can satisfy its own checkpoint.
 */
export function markProbes(collection: ProbeCollection): ProbeMarks {
  const marks = new Map<string, number>();
  for (const r of collection.pods) if (r.state === 'ok') marks.set(r.pod, Date.parse(r.status.freshSince ?? r.status.generatedAt));
  return marks;
}

/** A probe pod with peers not probed since its mark. */
export interface StaleProbe {
  pod: string;
  node: string;
  stalePeers: number;
}

/** Reporting pods whose results include peers not probed since their mark (pods without a mark are new: all their results are fresh). */
export function staleProbes(collection: ProbeCollection, marks: ProbeMarks): StaleProbe[] {
  const out: StaleProbe[] = [];
  for (const r of collection.pods) {
    if (r.state !== 'ok') continue;
    const mark = marks.get(r.pod);
    if (mark === undefined) continue;
    const compact = r.status.peerSummary;
    // A compact document has the oldest probe and the never-probed count instead of every peer.
    const stale = compact
      ? compact.pending + (compact.oldestProbeAt !== undefined && Date.parse(compact.oldestProbeAt) < mark ? 1 : 0)
      : r.status.peers.filter((p) => p.lastProbeAt === undefined || Date.parse(p.lastProbeAt) < mark).length;
    if (stale) out.push({ pod: r.pod, node: r.node, stalePeers: stale });
  }
  return out;
}
