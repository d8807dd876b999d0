/**
 * `kubectl drain` (k8s.io/kubectl/pkg/drain): cordon, list the node's pods with one field-selector
 * list, run the pod filters (drainFilters.ts), then evict every pod concurrently — 429 (a
 * PodDisruptionBudget, or rate limiting) is retried after a delay, 404 means done — and wait for
 * each pod to disappear (404, or the same name with a different UID) through one watch of the
 * node's pods (podDeletionWatch.ts). Everything shares one
 * deadline; when it passes, the error names each pod still pending and, for pods a
 * PodDisruptionBudget blocks, the budget and the server's message. The node stays cordoned on
 * failure: uncordoning is a separate, deliberate step.
 *
 * Differences from kubectl, on purpose: connection failures, request timeouts and 503/504 during
 * eviction are retried within the deadline (kubectl fails the pod at once); the deletion wait is a
 * watch, not a GET per pod every second, and resumes when cut;
 * warnings from every filter are kept (kubectl keeps the last); pods deleted without eviction
 * carry a UID precondition, so a replacement with the same name is never deleted.
 */
import type { ClusterClient, EvictionResult } from '../kube/clusterClient.js';
import { podWorkload } from './podWorkload.js';
import { isConflict, isNotFound, isTransient } from '../kube/kubeErrors.js';
import { objectKey, type Pod, type PodDisruptionBudget } from '../kube/kubeTypes.js';
import { systemClock, throwIfAborted, type Clock } from './clock.js';
import { cordonNode } from './cordon.js';
import { Deadline } from './deadline.js';
import { controllerOf, isFinished, planDrain, terminatingTooLong, type DaemonSetLookup, type DrainFilterOptions } from './drainFilters.js';
import { matchesLabelSelector } from './labelSelector.js';
import { DrainError, OperationAbortedError, WaitTimeoutError, type DrainFailure, type PendingPod } from './opsErrors.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';
import { listPodsOnNode } from './podsOnNode.js';
import { PodDeletionWatch } from './podDeletionWatch.js';

/** kubectl drain's flags, with kubectl's defaults. */
export interface DrainOptions extends Partial<DrainFilterOptions> {
  /** --grace-period: -1 (default) uses each pod's terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
  /** --pod-selector */
  podSelector?: string | undefined;
  /** --disable-eviction: DELETE pods instead of evicting (bypasses PodDisruptionBudgets). */
  disableEviction?: boolean;
  /** Pause before retrying a 429 (kubectl: 5 s). */
  evictionRetryDelayMs?: number;
  /** Pause between checks that a pod is gone (kubectl: 1 s). */
  pollIntervalMs?: number;
  /** --timeout; default none, as kubectl's 0. */
  deadline?: Deadline;
  /**
   * DaemonSet lookups shared by the drains of one step (kubectl reads each pod's DaemonSet on every
   * drain; the same few DaemonSets run on every node). Absent: read per drain.
   */
  daemonSetLookups?: Map<string, Promise<DaemonSetLookup>> | undefined;
  signal?: AbortSignal | undefined;
  clock?: Clock;
  events?: EventSink;
}

/** What a successful drain did. */
export interface DrainResult {
  node: string;
  /** Pods evicted (or deleted) and gone. */
  evicted: string[];
  /** Pods left on the node (DaemonSet pods, mirror pods, long-terminating pods). */
  skipped: string[];
  warnings: { message: string; pods: string[] }[];
  /** False when the server has no eviction API or eviction was disabled: pods were deleted. */
  usedEviction: boolean;
}

/** What to do after one eviction attempt. */
export type EvictionStep =
  | { next: 'waitForDeletion' }
  | { next: 'done' }
  | { next: 'retry'; reason: 'blockedByPdb' | 'tooManyRequests' | 'namespaceTerminating'; message: string; refreshPod: boolean }
  | { next: 'fail'; message: string };

/** kubectl's reading of an eviction answer (evictPods in drain.go). */
export function nextEvictionStep(result: EvictionResult, pod: Pod): EvictionStep {
  switch (result.outcome) {
    case 'evicted':
      return { next: 'waitForDeletion' };
    case 'notFound':
      return { next: 'done' };
    case 'blockedByPdb':
      return { next: 'retry', reason: 'blockedByPdb', message: joinCauses(result.message, result.causes.map((c) => c.message ?? '')), refreshPod: false };
    case 'tooManyRequests':
      return { next: 'retry', reason: 'tooManyRequests', message: result.message, refreshPod: false };
    case 'namespaceTerminating':
      // Eviction never succeeds in a terminating namespace; a pod already being deleted is awaited.
      if (pod.metadata.deletionTimestamp) return { next: 'waitForDeletion' };
      return { next: 'retry', reason: 'namespaceTerminating', message: result.message, refreshPod: true };
    case 'failed':
      if (result.code === 503 || result.code === 504) return { next: 'retry', reason: 'tooManyRequests', message: result.message, refreshPod: false };
      return { next: 'fail', message: `error when evicting pods/"${pod.metadata.name}" -n "${pod.metadata.namespace}": ${result.message}` };
  }
}

/** Whether a pod awaited for deletion is gone: 404, a new pod under the same name, or terminating too long. */
export function deletionProgress(original: Pod, current: Pod | undefined, skipWaitSeconds: number, now: number): 'gone' | 'skipped' | 'pending' {
  if (!current || current.metadata.uid !== original.metadata.uid) return 'gone';
  if (terminatingTooLong(current, skipWaitSeconds, now)) return 'skipped';
  return 'pending';
}

/** The PodDisruptionBudgets (namespace/name) that select a pod. */
export function pdbsSelecting(pod: Pod, pdbs: PodDisruptionBudget[]): string[] {
  return pdbs
    .filter((b) => b.metadata.namespace === pod.metadata.namespace && matchesLabelSelector(b.spec?.selector, pod.metadata.labels))
    .map((b) => objectKey(b));
}

/**
 * Budget names from the API server's cause text, in each of kube-apiserver's wordings ("The
 * disruption budget web needs 2 healthy pods …", "… web does not allow evicting pods currently …",
 * "… web is still being processed by the server.").
 */
export function pdbsFromMessage(namespace: string, message: string): string[] {
  return [...message.matchAll(/disruption budget (\S+) (?:needs|does not allow|is still being processed)/g)].map((m) => `${namespace}/${m[1]}`);
}

/** Per-pod bookkeeping while draining. */
interface PodProgress {
  pod: Pod;
  key: string;
  state: 'evicting' | 'waitingForDeletion' | 'gone' | 'failed';
  /** The last refusal (429 etc.) while evicting. */
  lastRefusal?: { reason: string; message: string };
  error?: string;
  timedOut?: boolean;
}

interface Settings {
  node: string;
  filter: DrainFilterOptions;
  gracePeriodSeconds: number;
  retryDelayMs: number;
  pollIntervalMs: number;
  deadline: Deadline;
  signal: AbortSignal | undefined;
  clock: Clock;
  events: EventSink;
  /** The node's pods, watched for every pod the drain waits on. */
  gone: PodDeletionWatch;
}

// The node's pods; without a pod selector the same list starts the deletion watch (one list, not two).
async function podsToDrain(client: ClusterClient, node: string, podSelector: string | undefined, gone: PodDeletionWatch): Promise<Pod[]> {
  if (podSelector) return listPodsOnNode(client, node, { labelSelector: podSelector });
  const listed = await client.listWithVersion({ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: `spec.nodeName=${node}` });
  gone.prime(listed);
  return listed.items;
}

/** Drains a node with kubectl's semantics. Throws DrainError (node left cordoned) when it cannot finish. */
export async function drainNode(client: ClusterClient, node: string, opts: DrainOptions = {}): Promise<DrainResult> {
  const s = settingsOf(client, node, opts);
  await cordonNode(client, node, s.events);
  const pods = await podsToDrain(client, node, opts.podSelector, s.gone);
  const daemonSets = await lookUpDaemonSets(client, pods, opts.daemonSetLookups);
  const plan = planDrain(pods, { options: s.filter, now: s.clock.now(), daemonSet: (ns, name) => daemonSets.get(`${ns}/${name}`) ?? 'exists' });
  if (plan.errors.length) {
    throw new DrainError(node, 'podFilters', [], plan.errors, `cannot drain node "${node}": ${plan.errors.join('; ')}. Nothing was evicted; the node stays cordoned.`);
  }
  // As kubectl, warnings are reported only when the drain goes ahead.
  const warnings = [...plan.warnings].map(([message, names]) => ({ message, pods: names }));
  for (const w of warnings) s.events({ type: 'drainWarning', node, message: w.message, pods: w.pods });
  const usedEviction = !opts.disableEviction && (await client.hasPodEviction());
  const progress: PodProgress[] = plan.toEvict.map((pod) => ({ pod, key: objectKey(pod), state: 'evicting' }));
  try {
    if (usedEviction) await Promise.allSettled(progress.map((p) => evictAndWait(client, p, s)));
    else await deleteAndWait(client, progress, s);
  } finally {
    s.gone.close();
  }
  const unfinished = progress.filter((p) => p.state !== 'gone');
  if (unfinished.length) throw await drainFailure(client, unfinished, s);
  const result = { node, evicted: progress.map((p) => p.key), skipped: plan.skipped.map((p) => objectKey(p)), warnings, usedEviction };
  s.events({ type: 'drainDone', node, evicted: result.evicted, skipped: result.skipped });
  return result;
}

function settingsOf(client: ClusterClient, node: string, o: DrainOptions): Settings {
  const skip = o.skipWaitForDeleteTimeoutSeconds ?? 0;
  const pollIntervalMs = o.pollIntervalMs ?? 1000;
  const deadline = o.deadline ?? Deadline.never();
  const clock = o.clock ?? systemClock;
  const events = o.events ?? ignoreEvents;
  return {
    node,
    filter: {
      ignoreDaemonSets: o.ignoreDaemonSets ?? false,
      deleteEmptyDirData: o.deleteEmptyDirData ?? false,
      force: o.force ?? false,
      skipWaitForDeleteTimeoutSeconds: skip,
    },
    gracePeriodSeconds: o.gracePeriodSeconds ?? -1,
    retryDelayMs: o.evictionRetryDelayMs ?? 5000,
    pollIntervalMs,
    deadline,
    signal: o.signal,
    clock,
    events,
    gone: new PodDeletionWatch(client, {
      node,
      judge: (original, current, now) => deletionProgress(original, current, skip, now),
      deadline,
      signal: o.signal,
      clock,
      intervalMs: pollIntervalMs,
      events,
    }),
  };
}

/**
 * GETs each running pod's DaemonSet once, so the daemonSet filter can stay pure. With `shared`, a
 * DaemonSet another drain of the step found is not read again (only "exists" is kept: a miss or an
 * error is read afresh).
 */
async function lookUpDaemonSets(client: ClusterClient, pods: Pod[], shared?: Map<string, Promise<DaemonSetLookup>>): Promise<Map<string, DaemonSetLookup>> {
  const out = new Map<string, DaemonSetLookup>();
  for (const pod of pods) {
    const ref = controllerOf(pod);
    if (ref?.kind !== 'DaemonSet' || isFinished(pod)) continue;
    const key = `${pod.metadata.namespace ?? ''}/${ref.name}`;
    if (out.has(key)) continue;
    let lookup = shared?.get(key);
    if (!lookup) {
      lookup = client.getWorkload('DaemonSet', pod.metadata.namespace ?? '', ref.name).then(
        (): DaemonSetLookup => 'exists',
        (e: unknown): DaemonSetLookup => (isNotFound(e) ? 'notFound' : { error: e instanceof Error ? e.message : String(e) }),
      );
      shared?.set(key, lookup);
    }
    const found = await lookup;
    if (found !== 'exists') shared?.delete(key);
    out.set(key, found);
  }
  return out;
}

/** One pod's eviction loop, then its deletion wait. Never throws: the outcome goes into `p`. */
async function evictAndWait(client: ClusterClient, p: PodProgress, s: Settings): Promise<void> {
  try {
    if (await evictUntilAccepted(client, p, s)) await waitUntilGone(p, s);
  } catch (e) {
    if (e instanceof OperationAbortedError) return;
    p.state = 'failed';
    p.error = e instanceof Error ? e.message : String(e);
  }
}

/** Evicts until the server accepts (true), the pod is gone (false), or the deadline passes (false). */
async function evictUntilAccepted(client: ClusterClient, p: PodProgress, s: Settings): Promise<boolean> {
  const ns = p.pod.metadata.namespace ?? '';
  const name = p.pod.metadata.name ?? '';
  let active = p.pod;
  let refresh = false;
  s.events({ type: 'podEvicting', node: s.node, pod: p.key, workload: podWorkload(p.pod) });
  for (;;) {
    throwIfAborted(s.signal);
    if (s.deadline.passed(s.clock)) {
      p.timedOut = true;
      return false;
    }
    if (refresh) active = await client.getPod(ns, name).catch(() => active);
    const step = await attemptEviction(client, active, s);
    if (step.next === 'done') {
      markGone(p, s);
      return false;
    }
    if (step.next === 'waitForDeletion') {
      p.state = 'waitingForDeletion';
      return true;
    }
    if (step.next === 'fail') {
      p.state = 'failed';
      p.error = step.message;
      return false;
    }
    p.lastRefusal = { reason: step.reason, message: step.message };
    refresh = step.refreshPod;
    const wait = Math.min(s.retryDelayMs, s.deadline.remainingMs(s.clock));
    s.events({ type: 'evictionRetry', node: s.node, pod: p.key, reason: step.reason, message: step.message, retryInMs: wait });
    await s.clock.sleep(wait, s.signal);
  }
}

/** One eviction request; transport trouble is turned into a retry. */
async function attemptEviction(client: ClusterClient, pod: Pod, s: Settings): Promise<EvictionStep | { next: 'retry'; reason: 'transient'; message: string; refreshPod: false }> {
  try {
    const grace = s.gracePeriodSeconds >= 0 ? { gracePeriodSeconds: s.gracePeriodSeconds } : {};
    return nextEvictionStep(await client.evictPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '', grace), pod);
  } catch (e) {
    if (!isTransient(e)) throw e;
    return { next: 'retry', reason: 'transient', message: e instanceof Error ? e.message : String(e), refreshPod: false };
  }
}

/** Waits until the pod is gone (404 or a new UID), through the node's shared pod watch, or the deadline passes. */
async function waitUntilGone(p: PodProgress, s: Settings): Promise<void> {
  try {
    await s.gone.until(p.pod);
    markGone(p, s);
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    p.timedOut = true;
  }
}

/** Without the eviction API: delete every pod first, then wait for all of them (kubectl's deletePods). */
async function deleteAndWait(client: ClusterClient, progress: PodProgress[], s: Settings): Promise<void> {
  for (const p of progress) {
    throwIfAborted(s.signal);
    s.events({ type: 'podDeleting', node: s.node, pod: p.key, workload: podWorkload(p.pod) });
    try {
      const grace = s.gracePeriodSeconds >= 0 ? s.gracePeriodSeconds : undefined;
      const r = await client.deletePod(p.pod.metadata.namespace ?? '', p.pod.metadata.name ?? '', { gracePeriodSeconds: grace, uid: p.pod.metadata.uid });
      if (r === 'notFound') markGone(p, s);
      else p.state = 'waitingForDeletion';
    } catch (e) {
      // A UID precondition failure means the pod we listed is already gone and replaced.
      if (isConflict(e)) markGone(p, s);
      else {
        p.state = 'failed';
        p.error = `error when deleting pod "${p.pod.metadata.name}" -n "${p.pod.metadata.namespace}": ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  await Promise.allSettled(progress.filter((p) => p.state === 'waitingForDeletion').map((p) => awaitDeletion(p, s)));
}

async function awaitDeletion(p: PodProgress, s: Settings): Promise<void> {
  try {
    await waitUntilGone(p, s);
  } catch (e) {
    if (e instanceof OperationAbortedError) return;
    p.state = 'failed';
    p.error = e instanceof Error ? e.message : String(e);
  }
}

function markGone(p: PodProgress, s: Settings): void {
  p.state = 'gone';
  s.events({ type: 'podGone', node: s.node, pod: p.key });
}

/** Builds the DrainError naming every unfinished pod, and the budgets blocking any of them. */
async function drainFailure(client: ClusterClient, unfinished: PodProgress[], s: Settings): Promise<DrainError> {
  const failure: DrainFailure = s.signal?.aborted ? 'aborted' : unfinished.some((p) => p.timedOut) ? 'timeout' : 'evictionFailed';
  const pending: PendingPod[] = [];
  for (const p of unfinished) pending.push(await describePending(client, p));
  const errors = unfinished.flatMap((p) => (p.error ? [p.error] : []));
  const head =
    failure === 'timeout'
      ? `drain of node "${s.node}" did not finish within ${s.deadline.describe()}`
      : failure === 'aborted'
        ? `drain of node "${s.node}" was interrupted`
        : `drain of node "${s.node}" failed`;
  const list = pending.map((p) => `${p.pod} (${p.reason})`).join('; ');
  // An interrupted drain says nothing about its budgets: a refusal then was only a moment's.
  const next = failure === 'aborted' ? 're-run to continue the drain' : pending.some((p) => p.pdbs.length) ? 'wait until the PodDisruptionBudget allows the disruption (or relax it) and re-run' : 're-run to continue';
  const message = `${head}: ${pending.length} pod${pending.length === 1 ? '' : 's'} still pending: ${list}. The node stays cordoned; ${next}.`;
  return new DrainError(s.node, failure, pending, errors, message);
}

async function describePending(client: ClusterClient, p: PodProgress): Promise<PendingPod> {
  if (p.state === 'failed') return { pod: p.key, reason: p.error ?? 'failed', pdbs: [] };
  if (p.state === 'waitingForDeletion') return { pod: p.key, reason: 'eviction accepted, still terminating', pdbs: [] };
  const refusal = p.lastRefusal;
  if (!refusal) return { pod: p.key, reason: 'not evicted yet', pdbs: [] };
  if (refusal.reason !== 'blockedByPdb') return { pod: p.key, reason: `eviction refused: ${refusal.message}`, pdbs: [] };
  const ns = p.pod.metadata.namespace ?? '';
  let pdbs: string[];
  try {
    pdbs = pdbsSelecting(p.pod, await client.listPodDisruptionBudgets(ns));
  } catch {
    pdbs = [];
  }
  if (!pdbs.length) pdbs = pdbsFromMessage(ns, refusal.message);
  const which = pdbs.length ? `PodDisruptionBudget ${pdbs.join(', ')}` : 'a PodDisruptionBudget';
  return { pod: p.key, reason: `eviction blocked by ${which}: ${refusal.message}`, pdbs };
}

function joinCauses(message: string, causes: string[]): string {
  const extra = causes.filter((c) => c && !message.includes(c));
  return extra.length ? `${message} ${extra.join('; ')}` : message;
}
