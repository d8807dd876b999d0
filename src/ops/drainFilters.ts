/**
 * kubectl drain's pod filters (k8s.io/kubectl/pkg/drain/filters.go), as pure functions that
 * return a verdict. They run in kubectl's order; the first verdict that does not delete decides.
 * Messages are kubectl's, so the flag that overrides each refusal is named.
 */
import type { OwnerReference, Pod } from '../kube/kubeTypes.js';
import { objectKey } from '../kube/kubeTypes.js';

/** The drain flags the filters look at. */
export interface DrainFilterOptions {
  /** --ignore-daemonsets */
  ignoreDaemonSets: boolean;
  /** --delete-emptydir-data */
  deleteEmptyDirData: boolean;
  /** --force: delete pods without a controller, and pods of a DaemonSet that no longer exists. */
  force: boolean;
  /** --skip-wait-for-delete-timeout (seconds, 0 = off). */
  skipWaitForDeleteTimeoutSeconds: number;
}

/** What a filter (and the whole chain) decides for one pod. */
export type FilterVerdict =
  | { verdict: 'delete' }
  | { verdict: 'deleteWithWarning'; warning: string }
  | { verdict: 'skip'; warning?: string }
  | { verdict: 'error'; error: string };

/** Result of looking up a pod's DaemonSet (done before filtering, so filters stay pure). */
export type DaemonSetLookup = 'exists' | 'notFound' | { error: string };

/** Facts from outside the pod that the filters need. */
export interface FilterContext {
  options: DrainFilterOptions;
  /** Clock time in ms, for deletionTimestamp ages. */
  now: number;
  daemonSet(namespace: string, name: string): DaemonSetLookup;
}

/** One named filter. */
export interface DrainFilter {
  name: string;
  filter(pod: Pod, ctx: FilterContext): FilterVerdict;
}

export const DAEMONSET_FATAL = 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)';
export const DAEMONSET_WARNING = 'ignoring DaemonSet-managed Pods';
export const LOCAL_STORAGE_FATAL = 'Pods with local storage (use --delete-emptydir-data to override)';
export const LOCAL_STORAGE_WARNING = 'deleting Pods with local storage';
export const UNMANAGED_FATAL = 'Pods declare no controller (use --force to override)';
export const UNMANAGED_WARNING = 'deleting Pods that declare no controller';

const DELETE: FilterVerdict = { verdict: 'delete' };

/** The pod's managing controller (the owner reference with controller: true). */
export function controllerOf(pod: Pod): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.controller === true);
}

/** Succeeded or Failed: always safe to delete. */
export function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** kubectl's shouldSkipPod: terminating for longer than --skip-wait-for-delete-timeout. */
export function terminatingTooLong(pod: Pod, skipSeconds: number, now: number): boolean {
  const ts = pod.metadata.deletionTimestamp;
  if (skipSeconds <= 0 || !ts) return false;
  return Math.floor((now - Date.parse(ts)) / 1000) > skipSeconds;
}

/** skipDeleted: pods terminating for longer than the skip timeout are left alone. */
export const skipDeletedFilter: DrainFilter = {
  name: 'skipDeleted',
  filter: (pod, ctx) => (terminatingTooLong(pod, ctx.options.skipWaitForDeleteTimeoutSeconds, ctx.now) ? { verdict: 'skip' } : DELETE),
};

/** daemonSet: DaemonSet pods would come straight back; refuse unless --ignore-daemonsets, then skip them. */
export const daemonSetFilter: DrainFilter = {
  name: 'daemonSet',
  filter(pod, ctx) {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== 'DaemonSet') return DELETE;
    if (isFinished(pod)) return DELETE;
    const found = ctx.daemonSet(pod.metadata.namespace ?? '', ref.name);
    if (found !== 'exists') {
      const message = found === 'notFound' ? `daemonsets.apps "${ref.name}" not found` : found.error;
      // Orphaned pods of a deleted DaemonSet go with --force.
      if (found === 'notFound' && ctx.options.force) return { verdict: 'deleteWithWarning', warning: message };
      return { verdict: 'error', error: message };
    }
    if (!ctx.options.ignoreDaemonSets) return { verdict: 'error', error: DAEMONSET_FATAL };
    return { verdict: 'skip', warning: DAEMONSET_WARNING };
  },
};

/** mirrorPod: static pods are managed by the kubelet; skipped silently. */
export const mirrorPodFilter: DrainFilter = {
  name: 'mirrorPod',
  filter: (pod) => (pod.metadata.annotations && 'kubernetes.io/config.mirror' in pod.metadata.annotations ? { verdict: 'skip' } : DELETE),
};

/** localStorage: emptyDir data is lost on eviction; refuse unless --delete-emptydir-data. */
export const localStorageFilter: DrainFilter = {
  name: 'localStorage',
  filter(pod, ctx) {
    if (!(pod.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined && v.emptyDir !== null)) return DELETE;
    if (isFinished(pod)) return DELETE;
    if (!ctx.options.deleteEmptyDirData) return { verdict: 'error', error: LOCAL_STORAGE_FATAL };
    return { verdict: 'deleteWithWarning', warning: LOCAL_STORAGE_WARNING };
  },
};

/** unreplicated: a pod without a controller is gone for good; refuse unless --force. */
export const unreplicatedFilter: DrainFilter = {
  name: 'unreplicated',
  filter(pod, ctx) {
    if (isFinished(pod)) return DELETE;
    if (controllerOf(pod)) return DELETE;
    if (ctx.options.force) return { verdict: 'deleteWithWarning', warning: UNMANAGED_WARNING };
    return { verdict: 'error', error: UNMANAGED_FATAL };
  },
};

/** kubectl's order. */
export const DRAIN_FILTERS: readonly DrainFilter[] = [skipDeletedFilter, daemonSetFilter, mirrorPodFilter, localStorageFilter, unreplicatedFilter];

/** A pod's final verdict and every warning collected on the way. */
export interface PodClassification {
  pod: Pod;
  verdict: FilterVerdict;
  /** The filter that decided (the first that did not delete), or undefined when all deleted. */
  decidedBy: string | undefined;
  warnings: string[];
}

/**
 * Runs the filters in order, stopping at the first that does not delete. Unlike kubectl, which
 * keeps only the last status (its own TODO notes the dropped warnings), every warning is kept.
 */
export function classifyPod(pod: Pod, ctx: FilterContext, filters: readonly DrainFilter[] = DRAIN_FILTERS): PodClassification {
  const warnings: string[] = [];
  for (const f of filters) {
    const v = f.filter(pod, ctx);
    if (v.verdict === 'deleteWithWarning') warnings.push(v.warning);
    if (v.verdict === 'skip' && v.warning) warnings.push(v.warning);
    if (v.verdict === 'skip' || v.verdict === 'error') return { pod, verdict: v, decidedBy: f.name, warnings };
  }
  return { pod, verdict: warnings.length ? { verdict: 'deleteWithWarning', warning: warnings.at(-1)! } : DELETE, decidedBy: undefined, warnings };
}

/** What a drain will do with the pods on a node. */
export interface DrainPlan {
  /** Pods to evict (or delete), in listing order. */
  toEvict: Pod[];
  /** Pods left alone (DaemonSet with --ignore-daemonsets, mirror, long-terminating). */
  skipped: Pod[];
  /** Warning message → pods, in first-seen order. */
  warnings: Map<string, string[]>;
  /** kubectl's refusals, "cannot delete <what>: ns/a, ns/b" — any one of them stops the drain. */
  errors: string[];
}

/** Classifies every pod; the drain may proceed only when `errors` is empty. */
export function planDrain(pods: Pod[], ctx: FilterContext, filters: readonly DrainFilter[] = DRAIN_FILTERS): DrainPlan {
  const plan: DrainPlan = { toEvict: [], skipped: [], warnings: new Map(), errors: [] };
  const failed = new Map<string, string[]>();
  for (const pod of pods) {
    const c = classifyPod(pod, ctx, filters);
    const key = objectKey(pod);
    for (const w of c.warnings) plan.warnings.set(w, [...(plan.warnings.get(w) ?? []), key]);
    if (c.verdict.verdict === 'error') failed.set(c.verdict.error, [...(failed.get(c.verdict.error) ?? []), key]);
    else if (c.verdict.verdict === 'skip') plan.skipped.push(pod);
    else plan.toEvict.push(pod);
  }
  for (const [msg, names] of failed) plan.errors.push(`cannot delete ${msg}: ${names.join(', ')}`);
  return plan;
}
