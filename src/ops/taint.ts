/**
 * Node taints. `spec.taints` has no patch merge key, so every patch type replaces the whole list:
 * read the node, compute the new list, and write it with the resourceVersion that was read. A 409
 * means someone else changed the node in between (the node lifecycle controller adds and removes
 * taints on its own), so read again and retry.
 */
import type { ClusterClient, MergePatch } from '../kube/clusterClient.js';
import { isConflict } from '../kube/kubeErrors.js';
import type { Node, Taint } from '../kube/kubeTypes.js';
import { throwIfAborted } from './clock.js';
import { ConflictRetriesExhaustedError } from './opsErrors.js';
import { ignoreEvents, type EventSink } from './opsEvents.js';

/** The new taint list and whether it differs from the old one. */
export interface TaintListChange {
  taints: Taint[];
  changed: boolean;
}

/** Which taint(s) to remove: by key, and by effect when given (kubectl `key:effect-` vs `key-`). */
export interface TaintSelector {
  key: string;
  effect?: Taint['effect'] | undefined;
}

/** Options for taint edits. */
export interface TaintOptions {
  /** Attempts before giving up on conflicts (default 5, as client-go's DefaultRetry). */
  maxAttempts?: number;
  events?: EventSink;
  signal?: AbortSignal | undefined;
}

/**
 * `taints` with `taint` added. A taint with the same key and effect is replaced in place when its
 * value differs (kubectl taint --overwrite); an identical one means no change.
 */
export function taintsWith(taints: Taint[] | undefined, taint: Taint): TaintListChange {
  const list = taints ?? [];
  const i = list.findIndex((t) => t.key === taint.key && t.effect === taint.effect);
  const wanted: Taint = { key: taint.key, effect: taint.effect, ...(taint.value !== undefined && taint.value !== '' ? { value: taint.value } : {}) };
  if (i < 0) return { taints: [...list, wanted], changed: true };
  if ((list[i]!.value ?? '') === (taint.value ?? '')) return { taints: list, changed: false };
  return { taints: list.map((t, j) => (j === i ? wanted : t)), changed: true };
}

/** `taints` without those matching the selector. */
export function taintsWithout(taints: Taint[] | undefined, sel: TaintSelector): TaintListChange {
  const list = taints ?? [];
  const kept = list.filter((t) => !(t.key === sel.key && (sel.effect === undefined || t.effect === sel.effect)));
  return { taints: kept, changed: kept.length !== list.length };
}

/** Adds (or updates the value of) a taint on a node; no write when it is already there. */
export function addTaint(client: ClusterClient, node: string, taint: Taint, opts: TaintOptions = {}): Promise<{ changed: boolean }> {
  const events = opts.events ?? ignoreEvents;
  return updateTaints(client, node, (cur) => taintsWith(cur, taint), opts).then((r) => {
    events({ type: 'taint', node, action: 'add', key: taint.key, effect: taint.effect, changed: r.changed });
    return r;
  });
}

/** Removes matching taints from a node; no write when there are none. */
export function removeTaint(client: ClusterClient, node: string, sel: TaintSelector, opts: TaintOptions = {}): Promise<{ changed: boolean }> {
  const events = opts.events ?? ignoreEvents;
  return updateTaints(client, node, (cur) => taintsWithout(cur, sel), opts).then((r) => {
    events({ type: 'taint', node, action: 'remove', key: sel.key, effect: sel.effect, changed: r.changed });
    return r;
  });
}

/** More for the same write: the node as last read (saves the first GET), and fields set with the taints. */
export interface TaintWrite {
  /** The node as read moments ago (one list for many nodes): the first attempt writes with its resourceVersion; a conflict re-reads. */
  known?: Node | undefined;
  /** Set in the same patch: cordon state and labels (merge-patch semantics; null removes a label). */
  also?: { unschedulable?: boolean; labels?: Record<string, string | null> } | undefined;
}

/** Adds a taint to many nodes, read with one list rather than a GET each (a conflict re-reads that node alone). */
export async function addTaintToNodes(client: ClusterClient, nodes: readonly string[], taint: Taint, opts: TaintOptions = {}): Promise<{ changed: string[] }> {
  const events = opts.events ?? ignoreEvents;
  const byName = new Map((await client.listNodes()).map((n) => [n.metadata.name ?? '', n]));
  const changed: string[] = [];
  for (const node of nodes) {
    const r = await updateTaints(client, node, (cur) => taintsWith(cur, taint), opts, { known: byName.get(node) });
    events({ type: 'taint', node, action: 'add', key: taint.key, effect: taint.effect, changed: r.changed });
    if (r.changed) changed.push(node);
  }
  return { changed };
}

/**
 * Read → compute → write with resourceVersion, retried on 409. With `write.also`, the patch always
 * goes (it carries more than taints), with the resourceVersion precondition only when the taints change.
 */
export async function updateTaints(client: ClusterClient, node: string, compute: (current: Taint[] | undefined) => TaintListChange, opts: TaintOptions, write: TaintWrite = {}): Promise<{ changed: boolean }> {
  // A node's object changes often (status, other controllers' labels): ten tries, each re-reading it,
  // make giving up a sign of a real fight, not of a busy node (at a 30% conflict rate, 6 in a million).
  const maxAttempts = opts.maxAttempts ?? 10;
  const events = opts.events ?? ignoreEvents;
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    throwIfAborted(opts.signal);
    const current = attempt === 1 && write.known ? write.known : await client.getNode(node);
    const next = compute(current.spec?.taints);
    if (!next.changed && !write.also) return { changed: false };
    try {
      await client.patchNode(node, taintPatch(next, write.also), next.changed ? { resourceVersion: current.metadata.resourceVersion } : undefined);
      return { changed: next.changed };
    } catch (e) {
      if (!isConflict(e)) throw e;
      lastConflict = e;
      events({ type: 'conflictRetry', object: `node ${node}`, attempt });
    }
  }
  throw new ConflictRetriesExhaustedError(`node ${node}`, maxAttempts, { cause: lastConflict });
}

function taintPatch(next: TaintListChange, also: TaintWrite['also']): MergePatch {
  const spec: Record<string, unknown> = {};
  // An empty list is sent as null so the field goes away, as on a node that never had taints.
  if (next.changed) spec.taints = next.taints.length ? next.taints : null;
  // Uncordon removes the field (kubectl's patch sends null), as a fresh node has it.
  if (also?.unschedulable !== undefined) spec.unschedulable = also.unschedulable ? true : null;
  return { ...(Object.keys(spec).length ? { spec } : {}), ...(also?.labels ? { metadata: { labels: also.labels } } : {}) };
}
