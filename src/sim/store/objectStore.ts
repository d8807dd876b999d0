import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, gone, notFound } from '../api/apiError.js';
import { jsonEqual } from './jsonEqual.js';
import { cloneObject, freezeObject, type KubeObject, type WatchEvent } from './kubeObject.js';
import { matchesRequirements, type Requirement } from './labelSelector.js';
import { ResourceIndexes, type StoreQuery } from './storeIndexes.js';

export { NO_CONTROLLER, type StoreQuery } from './storeIndexes.js';

/** How a resource behaves in the store: its API group (for messages) and which parts of an object are versioned. */
export interface StoreResourceInfo {
  group: string;
  plural: string;
  hasStatus: boolean;
  tracksGeneration: boolean;
}

/** Receives watch events; the event and its objects are frozen and shared with every other watcher. */
export type WatchHandler = (event: WatchEvent) => void;

/** Options for update(). */
export interface UpdateOptions {
  /** "status" replaces only .status; "main" keeps .status when the type has a status subresource. */
  part?: 'main' | 'status';
  /** When true a stale metadata.resourceVersion is a 409 Conflict (the API server's optimistic lock). */
  checkResourceVersion?: boolean;
}

interface Subscription {
  /** Subscription order, which is delivery order. */
  seq: number;
  resource?: string;
  namespace?: string;
  handler: WatchHandler;
}

/** One resource's objects by "namespace/name", and their secondary indexes. */
interface Bucket {
  objects: Map<string, KubeObject>;
  indexes: ResourceIndexes;
  /** Every key in list order; dropped when a key comes or goes (not on updates), rebuilt on the next list. */
  sortedKeys?: string[] | undefined;
}

const HISTORY_LIMIT = 20_000;
// Trimming the history on every write moved 20 000 entries each time; in batches it is amortized.
const HISTORY_TRIM_BATCH = 1_000;
// Subscriptions without a resource (every resource) are kept under this key.
const ALL_RESOURCES = '';

/**
 * In-memory object store shaped like client-go's object tracker: objects keyed by resource and
 * namespace/name, a global resourceVersion bumped on every write, and watch fan-out with a bounded
 * event history so a watch can start from a recent resourceVersion.
 *
 * Stored objects are frozen and replaced, never changed, on every write, so they can be shared:
 * watch events, the history and the read-only reads (peek, peekAll, peekInNamespace, podsOnNode,
 * objectsOwnedBy, objectsControlledBy, select, selectByLabels) hand out the stored objects
 * themselves. get, list and the write methods return private deep copies, as client-go's tracker
 * does, for callers that change what they get.
 *
 * Handlers are called synchronously after each write; they must not write to the store re-entrantly
 * (controllers queue their work instead).
 */
export class ObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly history: { rv: number; event: WatchEvent }[] = [];
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  private rv = 1;
  private subscribed = 0;
  private dispatching = 0;
  private readonly pending: WatchEvent[] = [];

  constructor(private readonly info: (resource: string) => StoreResourceInfo) {}

  /** The latest resourceVersion handed out. */
  currentResourceVersion(): string {
    return String(this.rv);
  }

  /** Oldest resourceVersion a watch can still start from. */
  oldestWatchableResourceVersion(): number {
    return this.history[0]?.rv ?? this.rv;
  }

  /** A deep copy of one object, or undefined. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.peek(resource, namespace, name);
    return o ? cloneObject(o) : undefined;
  }

  /** The stored (frozen, read-only) object, or undefined. */
  peek(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(resource).objects.get(objectKey(namespace, name));
  }

  /** Deep copies of the objects of a resource (optionally one namespace, optionally filtered), sorted by namespace/name. */
  list(resource: string, namespace?: string, filter?: (o: KubeObject) => boolean): { items: KubeObject[]; resourceVersion: string } {
    // Filter the stored objects first: copying only what is returned keeps selector lists cheap.
    const items = this.select(resource, { namespace }).filter((o) => !filter || filter(o)).map((o) => cloneObject(o));
    return { items: sortByKey(items), resourceVersion: this.currentResourceVersion() };
  }

  /** Read-only view of every object of a resource (no copy): callers must not mutate what they get. */
  peekAll(resource: string): Iterable<KubeObject> {
    return this.bucket(resource).objects.values();
  }

  /** The stored objects of a resource in one namespace, read-only, in store order. */
  peekInNamespace(resource: string, namespace: string): KubeObject[] {
    return this.select(resource, { namespace });
  }

  /** The stored pods bound to a node ("" for pods not bound yet), read-only. */
  podsOnNode(nodeName: string): KubeObject[] {
    return this.select('pods', { nodeName });
  }

  /** The stored objects listing uid among their ownerReferences (any namespace), read-only. */
  objectsOwnedBy(resource: string, uid: string): KubeObject[] {
    return this.resolve(this.bucket(resource), this.bucket(resource).indexes.ownedBy(uid));
  }

  /**
   * The stored objects whose controller reference (ownerReferences with controller: true) has uid,
   * read-only; with NO_CONTROLLER the objects no controller owns (orphans). Optionally one namespace.
   */
  objectsControlledBy(resource: string, uid: string, namespace?: string): KubeObject[] {
    const found = this.resolve(this.bucket(resource), this.bucket(resource).indexes.controlledBy(uid));
    return namespace === undefined ? found : found.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  /** The stored objects matching label requirements (optionally in one namespace), read-only. */
  selectByLabels(resource: string, namespace: string | undefined, labels: readonly Requirement[]): KubeObject[] {
    return this.select(resource, { namespace, labels });
  }

  /**
   * The stored objects matching a query, read-only, in store order: only the objects of the
   * narrowest index entry are looked at, so no query scans the whole resource unless it has nothing
   * to narrow by.
   */
  select(resource: string, query: StoreQuery): KubeObject[] {
    const bucket = this.bucket(resource);
    const keys = bucket.indexes.candidates(query);
    const out: KubeObject[] = [];
    if (keys === undefined) {
      for (const o of bucket.objects.values()) if (matchesQuery(o, query)) out.push(o);
      return out;
    }
    for (const key of keys) {
      const o = bucket.objects.get(key);
      if (o && matchesQuery(o, query)) out.push(o);
    }
    return out;
  }

  /**
   * select in list order (namespace, then name), as the API server lists. A full scan reads the
   * bucket's sorted keys, kept until an object is created or removed: at 30 000 pods, sorting
   * every list was a tenth of the simulator's time.
   */
  selectSorted(resource: string, query: StoreQuery): KubeObject[] {
    const bucket = this.bucket(resource);
    const candidates = bucket.indexes.candidates(query);
    const keys = candidates === undefined ? (bucket.sortedKeys ??= [...bucket.objects.keys()].sort()) : [...candidates].sort();
    const out: KubeObject[] = [];
    for (const key of keys) {
      const o = bucket.objects.get(key);
      if (o && matchesQuery(o, query)) out.push(o);
    }
    return out;
  }

  /** Number of objects of a resource. */
  count(resource: string): number {
    return this.bucket(resource).objects.size;
  }

  /** Where an index disagrees with the objects it indexes (empty when consistent); for tests. */
  indexProblems(): string[] {
    return [...this.buckets].flatMap(([resource, b]) => b.indexes.problems(b.objects).map((p) => `${resource}: ${p}`));
  }

  /** Stores a new object: assigns uid, resourceVersion, creationTimestamp and generation. 409 if it exists. */
  create(resource: string, obj: KubeObject): KubeObject {
    const inf = this.info(resource);
    const name = obj.metadata.name ?? '';
    const key = objectKey(obj.metadata.namespace, name);
    const bucket = this.bucket(resource);
    if (bucket.objects.has(key)) throw alreadyExists(inf.group, inf.plural, name);
    const stored = cloneObject(obj);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = kubeNow();
    if (inf.tracksGeneration) stored.metadata.generation = 1;
    else delete stored.metadata.generation;
    delete stored.metadata.deletionTimestamp;
    stored.metadata.resourceVersion = String(++this.rv);
    freezeObject(stored);
    bucket.objects.set(key, stored);
    bucket.sortedKeys = undefined;
    bucket.indexes.add(key, stored);
    this.emit({ type: 'ADDED', resource, object: stored });
    return cloneObject(stored);
  }

  /**
   * Replaces an existing object. Keeps uid and creationTimestamp, bumps generation when anything but
   * metadata/status changed, and (with checkResourceVersion) refuses a stale resourceVersion with 409.
   * Returns the stored object; an update that changes nothing keeps the old resourceVersion, as the API server does.
   */
  update(resource: string, obj: KubeObject, opts: UpdateOptions = {}): KubeObject {
    // Only the part that is stored is copied; the caller keeps its object.
    const owned = opts.part === 'status' ? { ...obj, metadata: { ...obj.metadata }, status: cloneObject(obj.status) } : cloneObject(obj);
    return cloneObject(this.replace(resource, owned, opts));
  }

  /**
   * Read-modify-write for in-process controllers: applies fn to a copy and stores it (no conflict check).
   * fn returning false means "no change". Returns the stored object (frozen, read-only) afterwards,
   * or undefined when the object does not exist. Whatever fn attaches becomes part of the stored
   * object and is frozen with it. With part "status" only the status is fn's to change (the rest is
   * the frozen stored object's, and would be dropped anyway).
   */
  mutate(
    resource: string,
    namespace: string | undefined,
    name: string,
    fn: (obj: KubeObject) => void | boolean,
    opts: { part?: 'main' | 'status' | 'all' } = {},
  ): KubeObject | undefined {
    const current = this.peek(resource, namespace, name);
    if (!current) return undefined;
    const draft = opts.part === 'status' ? statusDraft(current) : cloneObject(current);
    if (fn(draft) === false) return current;
    if (opts.part === 'all') {
      const status: unknown = draft.status;
      const afterMain = this.replace(resource, draft, { part: 'main' });
      if (!this.info(resource).hasStatus) return afterMain;
      return this.replace(resource, { ...afterMain, metadata: { ...afterMain.metadata }, status }, { part: 'status' });
    }
    return this.replace(resource, draft, { part: opts.part ?? 'main' });
  }

  /**
   * Deletes an object now, or marks it (deletionTimestamp) when it has finalizers.
   * Preconditions are checked like the API server's DeleteOptions.preconditions.
   */
  delete(
    resource: string,
    namespace: string | undefined,
    name: string,
    preconditions?: { uid?: string; resourceVersion?: string },
  ): KubeObject {
    const inf = this.info(resource);
    const current = this.peek(resource, namespace, name);
    if (!current) throw notFound(inf.group, inf.plural, name);
    if (preconditions?.uid && preconditions.uid !== current.metadata.uid) {
      throw conflict(inf.group, inf.plural, name);
    }
    if (preconditions?.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(inf.group, inf.plural, name);
    }
    if (current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return cloneObject(current);
      return cloneObject(this.storeMarked(resource, current, { deletionTimestamp: kubeNow(), deletionGracePeriodSeconds: 0 }));
    }
    return cloneObject(this.remove(resource, namespace, name));
  }

  /** Sets deletionTimestamp and grace period on an object without removing it (graceful pod deletion). */
  markForDeletion(resource: string, namespace: string | undefined, name: string, graceSeconds: number): KubeObject {
    const inf = this.info(resource);
    const current = this.peek(resource, namespace, name);
    if (!current) throw notFound(inf.group, inf.plural, name);
    if (current.metadata.deletionTimestamp) {
      // A shorter grace period may replace a longer one, as the API server allows.
      const prev = current.metadata.deletionGracePeriodSeconds ?? graceSeconds;
      if (graceSeconds >= prev) return cloneObject(current);
    }
    const deletionTimestamp = new Date(Date.now() + graceSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return cloneObject(this.storeMarked(resource, current, { deletionTimestamp, deletionGracePeriodSeconds: graceSeconds }));
  }

  /**
   * Subscribes to events of one resource (or every resource when omitted), optionally one namespace.
   * With sinceResourceVersion, events newer than it are replayed first; 410 Gone if it is too old.
   */
  watch(
    opts: { resource?: string; namespace?: string; sinceResourceVersion?: string },
    handler: WatchHandler,
  ): () => void {
    const sub: Subscription = { seq: this.subscribed++, resource: opts.resource, namespace: opts.namespace, handler };
    if (opts.sinceResourceVersion !== undefined && opts.sinceResourceVersion !== '' && opts.sinceResourceVersion !== '0') {
      const since = Number(opts.sinceResourceVersion);
      if (!Number.isFinite(since)) throw gone(opts.sinceResourceVersion);
      const oldest = this.history[0]?.rv;
      if (since < this.rv && oldest !== undefined && since < oldest - 1) throw gone(opts.sinceResourceVersion);
      for (const h of this.history) {
        if (h.rv > since && matches(sub, h.event)) handler(h.event);
      }
    }
    const key = opts.resource ?? ALL_RESOURCES;
    let subs = this.subscriptions.get(key);
    if (!subs) this.subscriptions.set(key, (subs = new Set()));
    subs.add(sub);
    return () => {
      subs.delete(sub);
    };
  }

  /**
   * Stores the next version of an existing object from an owned draft (nobody else holds it; it
   * is frozen and kept). Returns the stored object.
   */
  private replace(resource: string, obj: KubeObject, opts: UpdateOptions): KubeObject {
    const inf = this.info(resource);
    const name = obj.metadata.name ?? '';
    const key = objectKey(obj.metadata.namespace, name);
    const bucket = this.bucket(resource);
    const current = bucket.objects.get(key);
    if (!current) throw notFound(inf.group, inf.plural, name);
    if (opts.checkResourceVersion && obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(inf.group, inf.plural, name);
    }
    const next = nextVersion(current, obj, opts.part === 'status' ? 'status' : 'main', inf);
    if (jsonEqual(next, current)) return current;
    next.metadata.resourceVersion = String(++this.rv);
    freezeObject(next);
    bucket.objects.set(key, next);
    bucket.indexes.replace(key, current, next);
    this.emit({ type: 'MODIFIED', resource, object: next, oldObject: current });
    // Finalizers gone from an object already marked for deletion: it is removed now. A namespace
    // also waits for its spec.finalizers (the namespace controller clears them once it is empty).
    const specFinalizers = resource === 'namespaces' ? ((next.spec?.finalizers as unknown[] | undefined)?.length ?? 0) : 0;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && specFinalizers === 0) {
      return this.remove(resource, next.metadata.namespace, name);
    }
    return next;
  }

  /** Stores a copy of current with deletion metadata set. */
  private storeMarked(resource: string, current: KubeObject, deletion: { deletionTimestamp: string; deletionGracePeriodSeconds: number }): KubeObject {
    const key = objectKey(current.metadata.namespace, current.metadata.name ?? '');
    const bucket = this.bucket(resource);
    const marked = freezeObject({ ...current, metadata: { ...current.metadata, ...deletion, resourceVersion: String(++this.rv) } });
    bucket.objects.set(key, marked);
    bucket.indexes.replace(key, current, marked);
    this.emit({ type: 'MODIFIED', resource, object: marked, oldObject: current });
    return marked;
  }

  private remove(resource: string, namespace: string | undefined, name: string): KubeObject {
    const bucket = this.bucket(resource);
    const key = objectKey(namespace, name);
    const current = bucket.objects.get(key);
    if (!current) throw notFound(this.info(resource).group, this.info(resource).plural, name);
    bucket.objects.delete(key);
    bucket.sortedKeys = undefined;
    bucket.indexes.remove(key, current);
    const deleted = freezeObject({ ...current, metadata: { ...current.metadata, resourceVersion: String(++this.rv) } });
    this.emit({ type: 'DELETED', resource, object: deleted });
    return deleted;
  }

  private emit(event: WatchEvent): void {
    freezeObject(event);
    const rv = Number(event.object.metadata.resourceVersion);
    this.history.push({ rv, event });
    if (this.history.length > HISTORY_LIMIT + HISTORY_TRIM_BATCH) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    // Keep delivery ordered even if a handler triggers another write.
    this.pending.push(event);
    if (this.dispatching) return;
    this.dispatching++;
    try {
      while (this.pending.length) this.dispatch(this.pending.shift()!);
    } finally {
      this.dispatching--;
    }
  }

  private dispatch(ev: WatchEvent): void {
    // A snapshot: a handler may unsubscribe, and a subscription made meanwhile must not see this event.
    const subs = inSubscriptionOrder(this.subscriptions.get(ev.resource), this.subscriptions.get(ALL_RESOURCES));
    for (const sub of subs) {
      if (matches(sub, ev)) sub.handler(ev);
    }
  }

  private resolve(bucket: Bucket, keys: Iterable<string>): KubeObject[] {
    const out: KubeObject[] = [];
    for (const key of keys) {
      const o = bucket.objects.get(key);
      if (o) out.push(o);
    }
    return out;
  }

  private bucket(resource: string): Bucket {
    let b = this.buckets.get(resource);
    if (!b) {
      b = { objects: new Map(), indexes: new ResourceIndexes(resource === 'pods') };
      this.buckets.set(resource, b);
    }
    return b;
  }
}

/**
 * The version to store after current, from an owned draft: for "status" only the draft's status
 * is taken (the rest is shared with current), for "main" everything but the status (kept when the
 * type has a status subresource). Identity, creation and deletion metadata always come from
 * current; generation is bumped when anything but metadata and status changed.
 */
function nextVersion(current: KubeObject, draft: KubeObject, part: 'main' | 'status', inf: StoreResourceInfo): KubeObject {
  let next: KubeObject;
  if (part === 'status') {
    next = { ...current, metadata: { ...current.metadata } };
    if (draft.status === undefined) delete next.status;
    else next.status = draft.status;
  } else {
    next = draft;
    if (inf.hasStatus) {
      if (current.status === undefined) delete next.status;
      else next.status = current.status;
    }
  }
  next.metadata.uid = current.metadata.uid;
  next.metadata.creationTimestamp = current.metadata.creationTimestamp;
  if (current.metadata.deletionTimestamp) {
    next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    next.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
  }
  if (inf.tracksGeneration) {
    next.metadata.generation = current.metadata.generation ?? 1;
    if (specChanged(current, next)) next.metadata.generation += 1;
  }
  next.metadata.resourceVersion = current.metadata.resourceVersion;
  return next;
}

/** A draft for a status write: a copy of the status over the stored object's other (frozen) parts. */
function statusDraft(current: KubeObject): KubeObject {
  return { ...current, metadata: { ...current.metadata }, status: cloneObject(current.status) };
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function kubeNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sortByKey(items: KubeObject[]): KubeObject[] {
  const keyed = items.map((o) => ({ key: objectKey(o.metadata.namespace, o.metadata.name ?? ''), o }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.o);
}

function matchesQuery(o: KubeObject, q: StoreQuery): boolean {
  if (q.namespace !== undefined && (o.metadata.namespace ?? '') !== q.namespace) return false;
  if (q.nodeName !== undefined && (typeof o.spec?.nodeName === 'string' ? o.spec.nodeName : '') !== q.nodeName) return false;
  return !q.labels?.length || matchesRequirements(o.metadata.labels, q.labels as Requirement[]);
}

/** The subscriptions of one resource and those of every resource, merged in the order they were made. */
function inSubscriptionOrder(one: ReadonlySet<Subscription> | undefined, all: ReadonlySet<Subscription> | undefined): Subscription[] {
  const a = [...(one ?? [])];
  const b = [...(all ?? [])];
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: Subscription[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]!.seq < b[j]!.seq) ? a[i++]! : b[j++]!);
  return out;
}

function matches(sub: Subscription, ev: WatchEvent): boolean {
  if (sub.resource !== undefined && sub.resource !== ev.resource) return false;
  if (sub.namespace !== undefined && ev.object.metadata.namespace !== sub.namespace) return false;
  return true;
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key !== 'metadata' && key !== 'status' && !jsonEqual(a[key], b[key])) return true;
  }
  return false;
}
