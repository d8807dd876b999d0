import type { ResourceRegistry } from './resourceRegistry.js';
import { resourceKey } from './resourceRegistry.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';

interface CrdVersion {
  name: string;
  served?: boolean;
  subresources?: { status?: object; scale?: object };
}

/**
 * Serves the custom resource a CRD defines (every served version) and marks the CRD Established,
 * as the apiextensions controllers do, so clients that wait for Established can go on.
 */
export function registerCrd(store: ObjectStore, registry: ResourceRegistry, crd: KubeObject): KubeObject {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const group = String(spec.group ?? '');
  for (const v of (spec.versions ?? []) as CrdVersion[]) {
    if (v.served === false) continue;
    registry.add({
      group,
      version: v.name,
      plural: String(names.plural ?? ''),
      singular: String(names.singular ?? String(names.kind ?? '').toLowerCase()),
      kind: String(names.kind ?? ''),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames,
      categories: names.categories,
      subresources: [...(v.subresources?.status ? ['status'] : []), ...(v.subresources?.scale ? ['scale'] : [])],
      hasStatus: !!v.subresources?.status,
      tracksGeneration: !!v.subresources?.status,
      verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
    });
  }
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    store.mutate(
      'apiextensions.k8s.io/customresourcedefinitions',
      undefined,
      crd.metadata.name ?? '',
      (o) => {
        if ((o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True')) return false;
        o.status = {
          conditions: [
            { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now },
            { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now },
          ],
          acceptedNames: names,
          storedVersions: ((spec.versions ?? []) as { name: string; storage?: boolean }[]).filter((v) => v.storage).map((v) => v.name),
        };
      },
      { part: 'status' },
    ) ?? crd
  );
}

/** Stops serving a deleted CRD's resource and deletes its objects. */
export function unregisterCrd(store: ObjectStore, registry: ResourceRegistry, crd: KubeObject): void {
  const group = String(crd.spec?.group ?? '');
  const plural = String(crd.spec?.names?.plural ?? '');
  const key = resourceKey(group, plural);
  for (const o of store.list(key).items) {
    try {
      store.delete(key, o.metadata.namespace, o.metadata.name ?? '');
    } catch {
      // already gone
    }
  }
  registry.removeResource(group, plural);
}
