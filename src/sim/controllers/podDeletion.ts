import { ApiError } from '../api/apiError.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';

/** True for the store's 404 NotFound errors (an object that vanished meanwhile). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

/** Runs fn and ignores NotFound: controllers must tolerate objects vanishing under them. */
export function ignoreNotFound<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Deletes a pod as a DELETE with default options does: gracefully with the pod's
 * terminationGracePeriodSeconds (default 30) when it is bound and not finished, at once otherwise.
 */
export function deletePod(store: ObjectStore, pod: KubeObject, gracePeriodSeconds?: number): void {
  const ns = pod.metadata.namespace;
  const name = pod.metadata.name ?? '';
  const phase = pod.status?.phase;
  let grace: number = gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  if (!pod.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
  ignoreNotFound(() => (grace <= 0 ? store.delete('pods', ns, name) : store.markForDeletion('pods', ns, name, grace)));
}

/** Deletes any object now (grace period 0), ignoring NotFound. */
export function deleteNow(store: ObjectStore, resource: string, obj: KubeObject): void {
  ignoreNotFound(() => store.delete(resource, obj.metadata.namespace, obj.metadata.name ?? ''));
}
