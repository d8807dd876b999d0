import { ApiError } from '../api/apiError.js';
import { applyDefaults } from '../api/defaults.js';
import { generateObjectName } from '../store/generateName.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';

/**
 * Whether the API server would accept new objects in a namespace: it must exist and not be
 * terminating (kube-apiserver answers 403 NamespaceTerminating otherwise). Controllers check this so
 * they do not refill a namespace the namespace controller is emptying.
 */
export function namespaceAcceptsObjects(store: ObjectStore, namespace: string | undefined): boolean {
  if (!namespace) return true;
  const ns = store.peek('namespaces', undefined, namespace);
  return Boolean(ns && !ns.metadata.deletionTimestamp && ns.status?.phase !== 'Terminating');
}

/**
 * Creates an object the way a controller's POST would be admitted: defaults applied, a name made
 * from metadata.generateName when it has none (retrying a name collision as kube-apiserver's
 * clients do), refused silently in a missing or terminating namespace (returns undefined).
 */
export function createAdmitted(store: ObjectStore, resource: string, obj: KubeObject): KubeObject | undefined {
  if (!namespaceAcceptsObjects(store, obj.metadata.namespace)) return undefined;
  applyDefaults(obj, { creating: true });
  const generated = !obj.metadata.name && obj.metadata.generateName;
  for (let attempt = 0; ; attempt++) {
    if (generated) obj.metadata.name = generateObjectName(obj.metadata.generateName ?? '');
    try {
      return store.create(resource, obj);
    } catch (err) {
      if (!generated || attempt >= 4 || !(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}
