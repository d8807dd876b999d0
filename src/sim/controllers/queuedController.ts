import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { Controller, ControllerContext } from './controller.js';
import { isNotFound } from './podDeletion.js';
import { WorkQueue } from './workQueue.js';

/** Which store events a controller listens to and the queue keys each one maps to. */
export interface WatchMapping {
  /** Resource key to watch; every resource when omitted. */
  resource?: string;
  /** Runs inside the store's watch callback: it may read the store but must never write. */
  keys: (event: WatchEvent) => Iterable<string>;
}

/**
 * The shape of every controller here, like client-go's informer + work queue: store events map to
 * keys, keys are de-duplicated and reconciled later from the current store state (level-triggered).
 * An object that vanishes mid-reconcile (NotFound) is not an error.
 */
export abstract class QueuedController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue;
  private readonly stops: (() => void)[] = [];

  constructor(protected readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(
      (key) => this.safeReconcile(key),
      (key, err) => this.ctx.log(`${this.name}: ${key}: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** The watches feeding the queue. */
  protected abstract watches(): WatchMapping[];
  /** Keys to reconcile at start (existing objects). */
  protected abstract initialKeys(): Iterable<string>;
  /** Brings the world in line with one key's desired state. */
  protected abstract reconcile(key: string): void;

  start(): void {
    for (const w of this.watches()) {
      this.stops.push(this.ctx.store.watch({ resource: w.resource }, (ev) => {
        for (const key of w.keys(ev)) this.queue.add(key);
      }));
    }
    for (const key of this.initialKeys()) this.queue.add(key);
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    this.queue.stop();
  }

  private safeReconcile(key: string): void {
    try {
      this.reconcile(key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** "namespace/name" (or "name" for cluster-scoped objects): the usual queue key. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

/** Splits a queue key back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Keys of every object of a resource, for initialKeys(). */
export function keysOf(objects: Iterable<KubeObject>, filter: (o: KubeObject) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const o of objects) if (filter(o)) out.push(keyOf(o));
  return out;
}
