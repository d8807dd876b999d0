import { BUILTIN_RESOURCES, resourceKey } from '../api/resourceRegistry.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';
import type { Controller, ControllerContext } from './controller.js';
import { deleteNow, deletePod } from './podDeletion.js';
import { WorkQueue } from './workQueue.js';

/** An object's place in the store. */
interface ObjectRef {
  resource: string;
  namespace: string | undefined;
  name: string;
}

// Resource keys seen per store by a running collector, so orphanDependents also reaches custom resources.
const seenResources = new WeakMap<ObjectStore, Set<string>>();

function refKey(r: ObjectRef): string {
  return `${r.resource}|${r.namespace ?? ''}|${r.name}`;
}

/**
 * What a DELETE with propagationPolicy=Orphan does before the owner goes: every object that lists
 * the owner's uid in its ownerReferences loses that reference, so the collector leaves it alone.
 */
export function orphanDependents(store: ObjectStore, ownerUid: string): void {
  const resources = new Set([...BUILTIN_RESOURCES.map((t) => resourceKey(t.group, t.plural)), ...(seenResources.get(store) ?? [])]);
  for (const resource of resources) {
    for (const dep of store.objectsOwnedBy(resource, ownerUid)) {
      store.mutate(resource, dep.metadata.namespace, dep.metadata.name ?? '', (o) => {
        const kept = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
        if (kept.length) o.metadata.ownerReferences = kept;
        else delete o.metadata.ownerReferences;
      });
    }
  }
}

/**
 * The garbage collector, background propagation: when no owner listed in an object's
 * ownerReferences exists any more (by uid), the object is deleted — pods gracefully, like any
 * DELETE; when only some owners are gone, the dangling references are removed. Works across
 * resources (pods of DaemonSets and ReplicaSets, ReplicaSets of Deployments, Leases of Nodes...).
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly live = new Map<string, ObjectRef>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly refs = new Map<string, ObjectRef>();
  private readonly queue: WorkQueue;
  private stopWatch: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue((key) => this.attemptToDelete(key), (key, err) => ctx.log(`${this.name}: ${key}: ${err instanceof Error ? err.message : String(err)}`));
  }

  start(): void {
    const seen = seenResources.get(this.ctx.store) ?? new Set<string>();
    seenResources.set(this.ctx.store, seen);
    this.stopWatch = this.ctx.store.watch({}, (ev) => {
      seen.add(ev.resource);
      this.observe(ev);
    });
    const keys = new Set([...this.ctx.registry.all().map((t) => resourceKey(t.group, t.plural)), ...seen]);
    for (const resource of keys) {
      for (const object of this.ctx.store.peekAll(resource)) this.observe({ type: 'ADDED', resource, object });
    }
  }

  stop(): void {
    this.stopWatch?.();
    this.queue.stop();
  }

  /** Keeps the uid and owner indexes in step with the store and queues what may need collecting. */
  private observe(ev: WatchEvent): void {
    const o = ev.object;
    const ref: ObjectRef = { resource: ev.resource, namespace: o.metadata.namespace, name: o.metadata.name ?? '' };
    const key = refKey(ref);
    const uid = o.metadata.uid ?? '';
    if (ev.type === 'DELETED') {
      this.live.delete(uid);
      this.refs.delete(key);
      this.unindex(key, ev.oldObject ?? o);
      for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep);
      this.dependents.delete(uid);
      return;
    }
    this.live.set(uid, ref);
    if (ev.oldObject) this.unindex(key, ev.oldObject);
    this.refs.set(key, ref);
    for (const owner of o.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(owner.uid) ?? new Set<string>();
      set.add(key);
      this.dependents.set(owner.uid, set);
      if (!this.live.has(owner.uid)) this.queue.add(key);
    }
  }

  private unindex(key: string, obj: KubeObject): void {
    for (const owner of obj.metadata.ownerReferences ?? []) this.dependents.get(owner.uid)?.delete(key);
  }

  /** attemptToDeleteItem: delete when every owner is gone, drop dangling references when some remain. */
  private attemptToDelete(key: string): void {
    const ref = this.refs.get(key);
    if (!ref) return;
    const obj = this.ctx.store.peek(ref.resource, ref.namespace, ref.name);
    if (!obj) {
      this.refs.delete(key);
      return;
    }
    const owners = obj.metadata.ownerReferences ?? [];
    const dangling = owners.filter((r) => !this.ownerExists(r.uid));
    if (dangling.length === 0 || obj.metadata.deletionTimestamp) return;
    if (dangling.length === owners.length) {
      if (ref.resource === 'pods') deletePod(this.ctx.store, obj);
      else deleteNow(this.ctx.store, ref.resource, obj);
      return;
    }
    const goneUids = new Set(dangling.map((r) => r.uid));
    this.ctx.store.mutate(ref.resource, ref.namespace, ref.name, (o) => {
      o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => !goneUids.has(r.uid));
    });
  }

  /** An owner exists if the index knows its uid and the store still holds it. */
  private ownerExists(uid: string): boolean {
    const ref = this.live.get(uid);
    return Boolean(ref && this.ctx.store.peek(ref.resource, ref.namespace, ref.name)?.metadata.uid === uid);
  }
}
