import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, gone, notFound } from '../api/apiError.js';
import { cloneObject, type KubeObject, type WatchEvent } from './kubeObject.js';

/** How a resource behaves in the store: its API group (for messages) and which parts of an object are versioned. */
export interface StoreResourceInfo {
  group: string;
  plural: string;
  hasStatus: boolean;
  tracksGeneration: boolean;
}

export type WatchHandler = (event: WatchEvent) => void;

/** Options for update(). */
export interface UpdateOptions {
  /** "status" replaces only .status; "main" keeps .status when the type has a status subresource. */
  part?: 'main' | 'status';
  /** When true a stale metadata.resourceVersion is a 409 Conflict (the API server's optimistic lock). */
  checkResourceVersion?: boolean;
}

interface Subscription {
  resource?: string;
  namespace?: string;
  handler: WatchHandler;
}

const HISTORY_LIMIT = 20_000;

/**
 * In-memory object store shaped like client-go's object tracker: objects keyed by resource and
 * namespace/name, deep-copied in and out, a global resourceVersion bumped on every write, and watch
 * fan-out with a bounded event history so a watch can start from a recent resourceVersion.
 * Handlers are called synchronously after each write; they must not write to the store re-entrantly
 * (controllers queue their work instead).
 */
export class ObjectStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: { rv: number; event: WatchEvent }[] = [];
  private readonly subscriptions = new Set<Subscription>();
  private rv = 1;
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
    const o = this.bucket(resource).get(objectKey(namespace, name));
    return o ? cloneObject(o) : undefined;
  }

  /** Deep copies of the objects of a resource (optionally one namespace, optionally filtered), sorted by namespace/name. */
  list(resource: string, namespace?: string, filter?: (o: KubeObject) => boolean): { items: KubeObject[]; resourceVersion: string } {
    const items: KubeObject[] = [];
    for (const o of this.bucket(resource).values()) {
      if (namespace !== undefined && o.metadata.namespace !== namespace) continue;
      // Filter on the stored object first: copying only what is returned keeps selector lists cheap.
      if (filter && !filter(o)) continue;
      items.push(cloneObject(o));
    }
    items.sort((a, b) => compareKeys(a, b));
    return { items, resourceVersion: this.currentResourceVersion() };
  }

  /** Read-only view for hot paths (no copy): callers must not mutate what they get. */
  peekAll(resource: string): Iterable<KubeObject> {
    return this.bucket(resource).values();
  }

  /** Number of objects of a resource. */
  count(resource: string): number {
    return this.bucket(resource).size;
  }

  /** Stores a new object: assigns uid, resourceVersion, creationTimestamp and generation. 409 if it exists. */
  create(resource: string, obj: KubeObject): KubeObject {
    const inf = this.info(resource);
    const name = obj.metadata.name ?? '';
    const key = objectKey(obj.metadata.namespace, name);
    const bucket = this.bucket(resource);
    if (bucket.has(key)) throw alreadyExists(inf.group, inf.plural, name);
    const stored = cloneObject(obj);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (inf.tracksGeneration) stored.metadata.generation = 1;
    else delete stored.metadata.generation;
    delete stored.metadata.deletionTimestamp;
    stored.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, stored);
    this.emit({ type: 'ADDED', resource, object: cloneObject(stored) });
    return cloneObject(stored);
  }

  /**
   * Replaces an existing object. Keeps uid and creationTimestamp, bumps generation when anything but
   * metadata/status changed, and (with checkResourceVersion) refuses a stale resourceVersion with 409.
   * Returns the stored object; an update that changes nothing keeps the old resourceVersion, as the API server does.
   */
  update(resource: string, obj: KubeObject, opts: UpdateOptions = {}): KubeObject {
    const inf = this.info(resource);
    const name = obj.metadata.name ?? '';
    const key = objectKey(obj.metadata.namespace, name);
    const bucket = this.bucket(resource);
    const current = bucket.get(key);
    if (!current) throw notFound(inf.group, inf.plural, name);
    if (opts.checkResourceVersion && obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(inf.group, inf.plural, name);
    }
    let next: KubeObject;
    if (opts.part === 'status') {
      next = cloneObject(current);
      if (obj.status === undefined) delete next.status;
      else next.status = cloneObject(obj.status);
    } else {
      next = cloneObject(obj);
      if (inf.hasStatus) {
        if (current.status === undefined) delete next.status;
        else next.status = cloneObject(current.status);
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
    if (JSON.stringify(next) === JSON.stringify(current)) return cloneObject(current);
    next.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, next);
    this.emit({ type: 'MODIFIED', resource, object: cloneObject(next), oldObject: cloneObject(current) });
    // Finalizers gone from an object already marked for deletion: it is removed now. A namespace
    // also waits for its spec.finalizers (the namespace controller clears them once it is empty).
    const specFinalizers = resource === 'namespaces' ? ((next.spec?.finalizers as unknown[] | undefined)?.length ?? 0) : 0;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && specFinalizers === 0) {
      return this.remove(resource, next.metadata.namespace, name);
    }
    return cloneObject(next);
  }

  /**
   * Read-modify-write for in-process controllers: applies fn to a copy and stores it (no conflict check).
   * fn returning false means "no change". Returns undefined when the object does not exist.
   */
  mutate(
    resource: string,
    namespace: string | undefined,
    name: string,
    fn: (obj: KubeObject) => void | boolean,
    opts: { part?: 'main' | 'status' | 'all' } = {},
  ): KubeObject | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    if (fn(current) === false) return current;
    if (opts.part === 'all') {
      const afterMain = this.update(resource, current, { part: 'main' });
      if (!this.info(resource).hasStatus) return afterMain;
      return this.update(resource, { ...afterMain, status: current.status }, { part: 'status' });
    }
    return this.update(resource, current, { part: opts.part ?? 'main' });
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
    const current = this.bucket(resource).get(objectKey(namespace, name));
    if (!current) throw notFound(inf.group, inf.plural, name);
    if (preconditions?.uid && preconditions.uid !== current.metadata.uid) {
      throw conflict(inf.group, inf.plural, name);
    }
    if (preconditions?.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(inf.group, inf.plural, name);
    }
    if (current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return cloneObject(current);
      const marked = cloneObject(current);
      marked.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      marked.metadata.deletionGracePeriodSeconds = 0;
      marked.metadata.resourceVersion = String(++this.rv);
      this.bucket(resource).set(objectKey(namespace, name), marked);
      this.emit({ type: 'MODIFIED', resource, object: cloneObject(marked), oldObject: cloneObject(current) });
      return cloneObject(marked);
    }
    return this.remove(resource, namespace, name);
  }

  /** Sets deletionTimestamp and grace period on an object without removing it (graceful pod deletion). */
  markForDeletion(resource: string, namespace: string | undefined, name: string, graceSeconds: number): KubeObject {
    const inf = this.info(resource);
    const current = this.bucket(resource).get(objectKey(namespace, name));
    if (!current) throw notFound(inf.group, inf.plural, name);
    if (current.metadata.deletionTimestamp) {
      // A shorter grace period may replace a longer one, as the API server allows.
      const prev = current.metadata.deletionGracePeriodSeconds ?? graceSeconds;
      if (graceSeconds >= prev) return cloneObject(current);
    }
    const marked = cloneObject(current);
    const now = new Date();
    marked.metadata.deletionTimestamp = new Date(now.getTime() + graceSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    marked.metadata.deletionGracePeriodSeconds = graceSeconds;
    marked.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(objectKey(namespace, name), marked);
    this.emit({ type: 'MODIFIED', resource, object: cloneObject(marked), oldObject: cloneObject(current) });
    return cloneObject(marked);
  }

  /**
   * Subscribes to events of one resource (or every resource when omitted), optionally one namespace.
   * With sinceResourceVersion, events newer than it are replayed first; 410 Gone if it is too old.
   */
  watch(
    opts: { resource?: string; namespace?: string; sinceResourceVersion?: string },
    handler: WatchHandler,
  ): () => void {
    const sub: Subscription = { resource: opts.resource, namespace: opts.namespace, handler };
    if (opts.sinceResourceVersion !== undefined && opts.sinceResourceVersion !== '' && opts.sinceResourceVersion !== '0') {
      const since = Number(opts.sinceResourceVersion);
      if (!Number.isFinite(since)) throw gone(opts.sinceResourceVersion);
      const oldest = this.history[0]?.rv;
      if (since < this.rv && oldest !== undefined && since < oldest - 1) throw gone(opts.sinceResourceVersion);
      for (const h of this.history) {
        if (h.rv > since && matches(sub, h.event)) handler(cloneObject(h.event));
      }
    }
    this.subscriptions.add(sub);
    return () => {
      this.subscriptions.delete(sub);
    };
  }

  private remove(resource: string, namespace: string | undefined, name: string): KubeObject {
    const bucket = this.bucket(resource);
    const key = objectKey(namespace, name);
    const current = bucket.get(key);
    if (!current) throw notFound(this.info(resource).group, this.info(resource).plural, name);
    bucket.delete(key);
    const deleted = cloneObject(current);
    deleted.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource, object: cloneObject(deleted) });
    return deleted;
  }

  private emit(event: WatchEvent): void {
    const rv = Number(event.object.metadata.resourceVersion);
    this.history.push({ rv, event });
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    // Keep delivery ordered even if a handler triggers another write.
    this.pending.push(event);
    if (this.dispatching) return;
    this.dispatching++;
    try {
      while (this.pending.length) {
        const ev = this.pending.shift()!;
        for (const sub of [...this.subscriptions]) {
          if (matches(sub, ev)) sub.handler(ev);
        }
      }
    } finally {
      this.dispatching--;
    }
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) {
      b = new Map();
      this.objects.set(resource, b);
    }
    return b;
  }
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function compareKeys(a: KubeObject, b: KubeObject): number {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function matches(sub: Subscription, ev: WatchEvent): boolean {
  if (sub.resource !== undefined && sub.resource !== ev.resource) return false;
  if (sub.namespace !== undefined && ev.object.metadata.namespace !== sub.namespace) return false;
  return true;
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}
