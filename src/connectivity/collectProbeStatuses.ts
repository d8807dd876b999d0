/**
 * Collection: lists the probe pods and GETs each Ready one's /status through the API server's pod
 * proxy — no exec, no kubectl, nothing but the API the tool already talks to. A pod that is not
 * Ready, a proxy error and an unreadable answer are reported per pod, never thrown.
 */
import type { ClusterClient } from '../kube/clusterClient.js';
import type { Pod } from '../kube/kubeTypes.js';
import { COMPACT_STATUS_PATH } from './agent/peerCollection.js';
import { ProbeStatusSchema, type ProbeStatusDocument } from './agent/statusDocument.js';
import { connectivitySettings, type ConnectivitySettings } from './connectivitySettings.js';

/** One probe pod as collected. */
export type ProbePodReport = { pod: string; namespace: string; node: string } & (
  /** Its /status was read. */
  | { state: 'ok'; status: ProbeStatusDocument }
  /** Not Running and Ready (or terminating): not asked. */
  | { state: 'not-ready'; detail: string }
  /** The API server's proxy (or the pod behind it) answered with an error, or did not answer. */
  | { state: 'proxy-error'; httpStatus?: number | undefined; detail: string }
  /** The pod answered 200 with something that is not a status document. */
  | { state: 'invalid-status'; detail: string }
  /** Aggregated collection: no collector could reach its agent over the pod network (confirmed by a second one). */
  | { state: 'unreachable'; detail: string }
);

/** Every probe pod's report. */
export interface ProbeCollection {
  /** Epoch ms when collection started. */
  collectedAt: number;
  namespace: string;
  pods: ProbePodReport[];
  /** How it was collected: through which collectors, and how many pods were read directly through the proxy. */
  via?: { mode: 'aggregated' | 'full'; collectors: string[]; direct: number; proxyRequests: number; bytes: number } | undefined;
}

/** Lists the probe pods and reads each one's /status; only a failure to list pods throws. */
export async function collectProbeStatuses(client: Pick<ClusterClient, 'listPods' | 'proxyPodGet'>, opts: Partial<ConnectivitySettings> = {}): Promise<ProbeCollection> {
  const s = connectivitySettings(opts);
  const collectedAt = Date.now();
  const pods = await client.listPods({ namespace: s.namespace, labelSelector: s.labelSelector || undefined });
  pods.sort((a, b) => cmp(a.spec?.nodeName ?? '', b.spec?.nodeName ?? '') || cmp(a.metadata.name ?? '', b.metadata.name ?? ''));
  const reports = await mapLimited(pods, s.concurrency, (p) => collectOne(client, p, s));
  return { collectedAt, namespace: s.namespace, pods: reports };
}

/**
 * Reads one probe pod's /status through the API server's proxy (the full collection's unit); with
 * `compact`, its /status/compact (failing peers and counts: what an aggregated collection needs).
 */
export async function collectOne(client: Pick<ClusterClient, 'proxyPodGet'>, pod: Pod, s: ConnectivitySettings, compact?: { sinceMs?: number | undefined }): Promise<ProbePodReport> {
  const id = { pod: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? s.namespace, node: pod.spec?.nodeName ?? '(unscheduled)' };
  const notReady = notReadyReason(pod);
  if (notReady) return { ...id, state: 'not-ready', detail: notReady };
  let res;
  try {
    const query = compact?.sinceMs !== undefined ? { since: new Date(compact.sinceMs).toISOString() } : undefined;
    res = await client.proxyPodGet(id.namespace, id.pod, probePortOf(pod, s.port), compact ? COMPACT_STATUS_PATH : '/status', { timeoutMs: s.timeoutMs, query });
  } catch (e) {
    return { ...id, state: 'proxy-error', detail: e instanceof Error ? e.message : String(e) };
  }
  // The pod was deleted since it was listed (its replacement is probed at the next collection): gone, not failing.
  if (res.status === 404 && statusMessageOf(res.body) === `pods "${id.pod}" not found`) return { ...id, state: 'not-ready', detail: 'deleted since the pods were listed' };
  if (res.status !== 200) return { ...id, state: 'proxy-error', httpStatus: res.status, detail: `HTTP ${res.status}: ${statusMessageOf(res.body)}` };
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    return { ...id, state: 'invalid-status', detail: `not JSON: ${snippet(res.body)}` };
  }
  const parsed = ProbeStatusSchema.safeParse(json);
  if (!parsed.success) return { ...id, state: 'invalid-status', detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).slice(0, 3).join('; ') };
  return { ...id, state: 'ok', status: parsed.data };
}

/** Why a pod is not Running and Ready, or undefined when it is. */
export function notReadyReason(pod: Pod): string | undefined {
  if (pod.metadata.deletionTimestamp) return 'terminating';
  const phase = pod.status?.phase ?? 'Pending';
  const waiting = ((pod.status?.containerStatuses ?? []) as { state?: { waiting?: { reason?: string; message?: string } } }[])
    .map((c) => c.state?.waiting)
    .find((w) => w?.reason);
  const why = waiting ? `${waiting.reason ?? ''}${waiting.message ? `: ${waiting.message}` : ''}` : undefined;
  if (phase !== 'Running') return `${phase}${why ? ` (${why})` : ''}`;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return `Running but not Ready${ready?.message ? ` (${ready.message})` : why ? ` (${why})` : ''}`;
  return undefined;
}

/** The pod's container port named "probe", else the default. */
export function probePortOf(pod: Pod, fallback: number): number {
  const containers = (pod.spec?.containers ?? []) as { ports?: { name?: string; containerPort?: number }[] }[];
  for (const c of containers) {
    const p = (c.ports ?? []).find((port) => port.name === 'probe');
    if (p?.containerPort) return p.containerPort;
  }
  return fallback;
}

function statusMessageOf(body: string): string {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: unknown };
    if (typeof s.message === 'string' && s.message) return s.message;
  } catch {
    // not a Status: show the text
  }
  return snippet(body);
}

function snippet(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || '(empty)';
}

/** Runs fn over items, at most `limit` at once, keeping their order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
