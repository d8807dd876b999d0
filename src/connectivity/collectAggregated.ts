/**
 * Aggregated collection, the CLI's half: one pod list, then one proxied GET /collect to each of a
 * few collector agents — on different nodes and, where pods sit in different ranges (both sides
 * of a migration), on different pod networks — instead of one proxied GET per probe pod. The
 * collectors read their peers over the pod network and return compact documents (failures and
 * counts), so requests per collection stay constant and bytes grow with pods and failures only.
 *
 * Never a silent pass: a pod no collector could reach is reported unreachable only when a second
 * source confirms it (another collector, or the pod's own /status read through the proxy); a pod
 * no collector knows yet (just started) is read directly; when no collector answers at all the
 * full collection runs instead.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import type { Pod } from '../kube/kubeTypes.js';
import { COLLECT_PATH, CollectDocumentSchema, expandSlimStatus, type CollectDocument } from './agent/peerCollection.js';
import { collectOne, mapLimited, notReadyReason, probePortOf, type ProbeCollection, type ProbePodReport } from './collectProbeStatuses.js';
import { connectivitySettings, type ConnectivitySettings } from './connectivitySettings.js';

/** What each collector's answer came to. */
export interface CollectorOutcome {
  pod: string;
  node: string;
  ok: boolean;
  detail?: string | undefined;
}

/**
 * Collects through collector agents; see the module comment. With `sinceMs`, failures that were
 * over before then are left out (a caller that saw an earlier collection). Only a failure to list
 * pods throws.
 */
export async function collectAggregated(client: Pick<ClusterClient, 'listPods' | 'proxyPodGet'>, opts: Partial<ConnectivitySettings> = {}, sinceMs?: number, fresh = false): Promise<ProbeCollection & { collectors: CollectorOutcome[] }> {
  const s = connectivitySettings(opts);
  const collectedAt = Date.now();
  const pods = await client.listPods({ namespace: s.namespace, labelSelector: s.labelSelector || undefined });
  pods.sort((a, b) => cmp(a.spec?.nodeName ?? '', b.spec?.nodeName ?? '') || cmp(a.metadata.name ?? '', b.metadata.name ?? ''));
  let proxyRequests = 0;
  let bytes = 0;
  const collectors: CollectorOutcome[] = [];
  const docs: CollectDocument[] = [];
  // Asked in turn until enough have answered: a collector that fails is replaced by the next.
  for (const c of chooseCollectors(pods, s.collectors + 2)) {
    if (docs.length >= s.collectors) break;
    const id = { pod: c.metadata.name ?? '', node: c.spec?.nodeName ?? '' };
    proxyRequests++;
    try {
      const query = { ...(sinceMs === undefined ? {} : { since: new Date(sinceMs).toISOString() }), ...(fresh ? { fresh: '1' } : {}) };
      const res = await client.proxyPodGet(c.metadata.namespace ?? s.namespace, id.pod, probePortOf(c, s.port), COLLECT_PATH, { timeoutMs: s.timeoutMs * 4, query });
      bytes += res.body.length;
      if (res.status !== 200) {
        collectors.push({ ...id, ok: false, detail: `HTTP ${res.status}` });
        continue;
      }
      const parsed = CollectDocumentSchema.safeParse(JSON.parse(res.body));
      if (!parsed.success) {
        collectors.push({ ...id, ok: false, detail: `not a collection document: ${parsed.error.issues[0]?.message ?? '?'}` });
        continue;
      }
      docs.push(parsed.data);
      collectors.push({ ...id, ok: true });
    } catch (e) {
      collectors.push({ ...id, ok: false, detail: e instanceof Error ? e.message : String(e) });
    }
  }
  const merged = mergeCollections(pods, docs);
  // Read directly: pods no collector knows, and unreachable ones only one collector saw.
  const direct = merged.filter((m) => m.report === undefined);
  proxyRequests += direct.length;
  const read = await mapLimited(direct, s.concurrency, async (m) => {
    const r = await collectOne(client, m.pod, s, { sinceMs });
    if (r.state === 'ok') bytes += JSON.stringify(r.status).length;
    return r.state === 'ok' || r.state === 'not-ready' || !m.unreachable ? r : ({ pod: r.pod, namespace: r.namespace, node: r.node, state: 'unreachable', detail: `${m.unreachable}; its status through the API server: ${r.detail}` } as const);
  });
  direct.forEach((m, i) => (m.report = read[i]));
  return {
    collectedAt,
    namespace: s.namespace,
    pods: merged.map((m) => m.report!),
    via: { mode: 'aggregated', collectors: collectors.filter((c) => c.ok).map((c) => c.pod), direct: direct.length, proxyRequests, bytes },
    collectors,
  };
}

/**
 * Collector candidates: Ready probe pods, one per node, taking pod ranges (the first two octets of
 * their IPs: the source's pool and Cilium's) in turn so both sides of a migration are asked.
 */
export function chooseCollectors(pods: readonly Pod[], count: number): Pod[] {
  const ready = pods.filter((p) => !notReadyReason(p) && p.status?.podIP);
  const sides = new Map<string, Pod[]>();
  for (const p of ready) {
    const side = (p.status!.podIP ?? '').split('.').slice(0, 2).join('.');
    sides.set(side, [...(sides.get(side) ?? []), p]);
  }
  const queues = [...sides.values()];
  const out: Pod[] = [];
  const nodes = new Set<string>();
  while (out.length < count && queues.some((q) => q.length)) {
    for (const q of queues) {
      while (q.length && nodes.has(q[0]!.spec?.nodeName ?? '')) q.shift();
      const p = q.shift();
      if (!p) continue;
      out.push(p);
      nodes.add(p.spec?.nodeName ?? '');
      if (out.length >= count) break;
    }
  }
  return out;
}

/** One listed pod and what the collectors said of it (report undefined: read it directly). */
export interface MergedPod {
  pod: Pod;
  report: ProbePodReport | undefined;
  /** Why one collector alone could not reach it (to be confirmed). */
  unreachable?: string | undefined;
}

/**
 * Per listed pod: not Ready as the list says; else the freshest status any collector read; else,
 * when two or more collectors could not reach it, unreachable (confirmed); else (one collector
 * could not, or none knows the pod) to be read directly.
 */
export function mergeCollections(pods: readonly Pod[], docs: readonly CollectDocument[]): MergedPod[] {
  // What every collector said of each pod, by pod name (one pass over each document).
  const seenBy = new Map<string, { by: string; x: CollectDocument['pods'][number] }[]>();
  for (const d of docs) {
    for (const x of d.pods) {
      const list = seenBy.get(x.pod);
      if (list) list.push({ by: d.collector.pod, x });
      else seenBy.set(x.pod, [{ by: d.collector.pod, x }]);
    }
  }
  return pods.map((pod): MergedPod => {
    const id = { pod: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', node: pod.spec?.nodeName ?? '(unscheduled)' };
    const notReady = notReadyReason(pod);
    if (notReady) return { pod, report: { ...id, state: 'not-ready', detail: notReady } };
    const seen = seenBy.get(id.pod) ?? [];
    let freshest: Extract<CollectDocument['pods'][number], { state: 'ok' }> | undefined;
    for (const { x } of seen) if (x.state === 'ok' && (!freshest || Date.parse(x.status.generatedAt) > Date.parse(freshest.status.generatedAt))) freshest = x;
    if (freshest) return { pod, report: { ...id, state: 'ok', status: expandSlimStatus(id, freshest.status) } };
    const misses = seen.flatMap(({ by, x }) => (x.state === 'unreachable' ? [`${by} could not reach ${x.ip} (${x.detail})`] : []));
    if (misses.length >= 2) return { pod, report: { ...id, state: 'unreachable', detail: `no collector reached its agent over the pod network: ${misses.join('; ')}` } };
    return { pod, report: undefined, unreachable: misses[0] };
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
