import type { KubeObject } from './kubeObject.js';
import type { Requirement } from './labelSelector.js';

/** What a narrowed read asks for; every part given must hold. */
export interface StoreQuery {
  namespace?: string;
  /** spec.nodeName, "" for pods not bound yet (pods only). */
  nodeName?: string;
  labels?: readonly Requirement[];
}

const EMPTY: ReadonlySet<string> = new Set();

/** Stored keys grouped by one value (a namespace, a node, an owner uid, a label). */
class KeyIndex {
  private readonly sets = new Map<string, Set<string>>();

  add(value: string, key: string): void {
    let set = this.sets.get(value);
    if (!set) this.sets.set(value, (set = new Set()));
    set.add(key);
  }

  delete(value: string, key: string): void {
    const set = this.sets.get(value);
    if (!set) return;
    set.delete(key);
    // An empty set per value ever seen (pod-template hashes, deleted nodes) would grow without bound.
    if (set.size === 0) this.sets.delete(value);
  }

  keys(value: string): ReadonlySet<string> {
    return this.sets.get(value) ?? EMPTY;
  }

  entries(): IterableIterator<[string, Set<string>]> {
    return this.sets.entries();
  }
}

/** The indexes every resource has, and the one only pods have. */
type IndexName = 'namespace' | 'owner' | 'controller' | 'label' | 'node';

/**
 * Per index: the part of an object it is computed from, and its values. A new version that shares
 * that part with the old one (a status update shares all of them) keeps its index entries untouched.
 */
const INDEXED: Record<IndexName, { source: (o: KubeObject) => unknown; values: (o: KubeObject) => readonly string[] }> = {
  namespace: { source: (o) => o.metadata.namespace, values: (o) => [o.metadata.namespace ?? ''] },
  owner: { source: (o) => o.metadata.ownerReferences, values: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid) },
  controller: { source: (o) => o.metadata.ownerReferences, values: (o) => [controllerUidOf(o)] },
  label: { source: (o) => o.metadata.labels, values: (o) => labelTerms(o.metadata.labels) },
  node: { source: (o) => o.spec, values: (o) => [typeof o.spec?.nodeName === 'string' ? o.spec.nodeName : ''] },
};

/** The controller uid that stands for "no controller" in objectsControlledBy (orphans). */
export const NO_CONTROLLER = '';

function controllerUidOf(o: KubeObject): string {
  return o.metadata.ownerReferences?.find((r) => r.controller === true)?.uid ?? NO_CONTROLLER;
}

// Label keys and values never hold a NUL, so "key\0value" cannot collide with another pair or a bare key.
function labelPair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/** A label is indexed as key=value (for = and in) and as its bare key (for exists). */
function labelTerms(labels: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) out.push(labelPair(k, v), k);
  return out;
}

/** Candidate keys for a query: the smallest index entry (or union of entries) that holds every match. */
interface Candidates {
  size: number;
  keys: () => Iterable<string>;
}

/**
 * Secondary indexes of one resource's objects, so reads by namespace, node, owner or label look
 * at the objects that can match instead of the whole resource (with 30 000 pods, a scan per
 * reconcile made the controllers quadratic). Keys are the store's "namespace/name"; within one
 * index value they keep the order they entered it in.
 */
export class ResourceIndexes {
  private readonly indexes = new Map<IndexName, KeyIndex>();

  constructor(withNodeIndex: boolean) {
    const names: IndexName[] = ['namespace', 'owner', 'controller', 'label', ...(withNodeIndex ? (['node'] as const) : [])];
    for (const name of names) this.indexes.set(name, new KeyIndex());
  }

  /** Indexes a new object. */
  add(key: string, obj: KubeObject): void {
    for (const [name, index] of this.indexes) for (const v of INDEXED[name].values(obj)) index.add(v, key);
  }

  /** Forgets a removed object (as it was stored). */
  remove(key: string, obj: KubeObject): void {
    for (const [name, index] of this.indexes) for (const v of INDEXED[name].values(obj)) index.delete(v, key);
  }

  /** Moves an object from its old index values to its new ones; values it keeps are not touched. */
  replace(key: string, before: KubeObject, after: KubeObject): void {
    for (const [name, index] of this.indexes) {
      const { source, values } = INDEXED[name];
      if (source(before) === source(after)) continue;
      const was = values(before);
      const is = values(after);
      for (const v of was) if (!is.includes(v)) index.delete(v, key);
      for (const v of is) if (!was.includes(v)) index.add(v, key);
    }
  }

  /** Keys of objects listing uid among their ownerReferences. */
  ownedBy(uid: string): ReadonlySet<string> {
    return this.index('owner').keys(uid);
  }

  /** Keys of objects whose controller reference has uid; "" for objects no controller owns. */
  controlledBy(uid: string): ReadonlySet<string> {
    return this.index('controller').keys(uid);
  }

  /** Keys that can match a query (a superset: the caller still checks each object), or undefined for "any key". */
  candidates(query: StoreQuery): Iterable<string> | undefined {
    let best: Candidates | undefined;
    const consider = (c: Candidates | undefined) => {
      if (c && (!best || c.size < best.size)) best = c;
    };
    if (query.namespace !== undefined) consider(single(this.index('namespace').keys(query.namespace)));
    const node = this.indexes.get('node');
    if (query.nodeName !== undefined && node) consider(single(node.keys(query.nodeName)));
    for (const r of query.labels ?? []) consider(this.labelCandidates(r));
    return best?.keys();
  }

  /**
   * Differences between these indexes and ones rebuilt from scratch over the objects (empty when
   * consistent): the check behind the store's indexProblems().
   */
  problems(objects: ReadonlyMap<string, KubeObject>): string[] {
    const fresh = new ResourceIndexes(this.indexes.has('node'));
    for (const [key, obj] of objects) fresh.add(key, obj);
    const out: string[] = [];
    for (const [name, index] of this.indexes) out.push(...indexDifferences(name, index, fresh.index(name)));
    return out;
  }

  private labelCandidates(r: Requirement): Candidates | undefined {
    const labels = this.index('label');
    if (r.operator === 'exists') return single(labels.keys(r.key));
    if (r.operator !== '=' && r.operator !== 'in') return undefined; // negative requirements narrow nothing
    const sets = r.values.map((v) => labels.keys(labelPair(r.key, v)));
    if (sets.length === 1) return single(sets[0]!);
    return { size: sets.reduce((n, s) => n + s.size, 0), keys: () => new Set(sets.flatMap((s) => [...s])) };
  }

  private index(name: IndexName): KeyIndex {
    return this.indexes.get(name) ?? new KeyIndex();
  }
}

function single(keys: ReadonlySet<string>): Candidates {
  return { size: keys.size, keys: () => keys };
}

function indexDifferences(name: IndexName, actual: KeyIndex, expected: KeyIndex): string[] {
  const out: string[] = [];
  const values = new Set([...[...actual.entries()].map(([v]) => v), ...[...expected.entries()].map(([v]) => v)]);
  for (const value of values) {
    const has = actual.keys(value);
    const want = expected.keys(value);
    const missing = [...want].filter((k) => !has.has(k));
    const extra = [...has].filter((k) => !want.has(k));
    const shown = JSON.stringify(value.replace('\u0000', '='));
    if (missing.length) out.push(`${name} index ${shown} lacks ${missing.join(', ')}`);
    if (extra.length) out.push(`${name} index ${shown} wrongly holds ${extra.join(', ')}`);
  }
  return out;
}
