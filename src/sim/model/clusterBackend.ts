import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';
import { registerCrd } from '../api/crdTypes.js';
import type { ResourceRegistry } from '../api/resourceRegistry.js';

/**
 * The narrow API the node/CNI model (our simulated kubelets) needs. It is implemented over the
 * in-process store for the simulated cluster, and over HTTP for a real control plane (e2e), so the
 * model behaves the same against both. Resource keys are "pods", "nodes", "apps/daemonsets", ...
 */
export interface ClusterBackend {
  /** Streams ADDED for every existing object, then changes, until the returned function is called. */
  watch(resource: string, handler: (event: WatchEvent) => void): Promise<() => void>;
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  list(resource: string, namespace?: string): Promise<KubeObject[]>;
  create(resource: string, obj: KubeObject): Promise<KubeObject>;
  /** JSON merge patch of the main resource (metadata/spec). */
  patch(resource: string, namespace: string | undefined, name: string, mergePatch: object): Promise<void>;
  /** JSON merge patch of the status subresource. */
  patchStatus(resource: string, namespace: string | undefined, name: string, status: object): Promise<void>;
  /** Delete with an explicit grace period and an optional uid precondition (404 and uid mismatch are ignored). */
  delete(resource: string, namespace: string | undefined, name: string, opts?: { gracePeriodSeconds?: number; uid?: string }): Promise<void>;
}

const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';

/**
 * ClusterBackend over the simulator's own store: no HTTP, same semantics. Given the registry, a
 * CustomResourceDefinition written through it becomes served, as the API server makes one served.
 */
export class InProcessBackend implements ClusterBackend {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry?: ResourceRegistry,
  ) {}

  watch(resource: string, handler: (event: WatchEvent) => void): Promise<() => void> {
    // Subscribe first, then replay the current objects, so nothing written in between is lost.
    const buffered: WatchEvent[] = [];
    let replaying = true;
    const stop = this.store.watch({ resource }, (ev) => {
      if (replaying) buffered.push(ev);
      else handler(ev);
    });
    for (const object of this.store.list(resource).items) handler({ type: 'ADDED', resource, object });
    replaying = false;
    for (const ev of buffered) handler(ev);
    return Promise.resolve(stop);
  }

  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return Promise.resolve(this.store.get(resource, namespace, name));
  }

  list(resource: string, namespace?: string): Promise<KubeObject[]> {
    return Promise.resolve(this.store.list(resource, namespace).items);
  }

  create(resource: string, obj: KubeObject): Promise<KubeObject> {
    const stored = this.store.create(resource, obj);
    return Promise.resolve(resource === CRDS && this.registry ? registerCrd(this.store, this.registry, stored) : stored);
  }

  patch(resource: string, namespace: string | undefined, name: string, mergePatch: object): Promise<void> {
    this.store.mutate(resource, namespace, name, (o) => {
      applyMergePatchInPlace(o, mergePatch);
    });
    return Promise.resolve();
  }

  patchStatus(resource: string, namespace: string | undefined, name: string, status: object): Promise<void> {
    this.store.mutate(
      resource,
      namespace,
      name,
      (o) => {
        o.status = mergePatchValue(o.status, status);
      },
      { part: 'status' },
    );
    return Promise.resolve();
  }

  delete(resource: string, namespace: string | undefined, name: string, opts: { gracePeriodSeconds?: number; uid?: string } = {}): Promise<void> {
    const current = this.store.get(resource, namespace, name);
    if (!current) return Promise.resolve();
    if (opts.uid && current.metadata.uid !== opts.uid) return Promise.resolve();
    if ((opts.gracePeriodSeconds ?? 0) > 0) this.store.markForDeletion(resource, namespace, name, opts.gracePeriodSeconds ?? 0);
    else this.store.delete(resource, namespace, name);
    return Promise.resolve();
  }
}

/** RFC 7386 JSON merge patch of a value (null deletes). */
export function mergePatchValue(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = mergePatchValue(base[k], v);
  }
  return base;
}

/** Applies a JSON merge patch to an object in place. */
export function applyMergePatchInPlace(target: KubeObject, patch: object): void {
  const merged = mergePatchValue(target, patch) as KubeObject;
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, merged);
}
