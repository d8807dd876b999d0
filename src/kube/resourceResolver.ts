/**
 * Maps apiVersion + kind to a REST path through the API server's discovery documents, the way
 * kubectl's RESTMapper does. Discovery for a group/version is cached; a miss refetches once, so
 * custom resources resolve as soon as their CRD is Established.
 */
import type { HttpTransport } from './httpTransport.js';
import { isNotFound, NoKindMatchError } from './kubeErrors.js';
import type { ObjectRef } from './kubeTypes.js';

/** One entry of an APIResourceList. */
export interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  verbs?: string[];
}

/** Where objects of one kind live. */
export interface ResolvedResource {
  /** "/api/v1" or "/apis/{group}/{version}" */
  groupVersionPath: string;
  plural: string;
  namespaced: boolean;
}

/** Resolves kinds to resources with cached discovery. */
export class ResourceResolver {
  private readonly cache = new Map<string, Promise<ApiResource[]>>();

  constructor(private readonly transport: HttpTransport) {}

  /** The APIResourceList of one group/version ("v1", "apps/v1"); [] when the server does not serve it. */
  async resources(apiVersion: string, refresh = false): Promise<ApiResource[]> {
    if (refresh) this.cache.delete(apiVersion);
    let entry = this.cache.get(apiVersion);
    if (!entry) {
      entry = this.fetch(apiVersion);
      this.cache.set(apiVersion, entry);
      // A failed fetch must not poison the cache.
      entry.catch(() => this.cache.delete(apiVersion));
    }
    return entry;
  }

  /** The resource for apiVersion/kind; throws NoKindMatchError when the server does not serve it. */
  async resolve(apiVersion: string, kind: string): Promise<ResolvedResource> {
    const find = (list: ApiResource[]) => list.find((r) => r.kind === kind && !r.name.includes('/'));
    const hit = find(await this.resources(apiVersion)) ?? find(await this.resources(apiVersion, true));
    if (!hit) throw new NoKindMatchError(apiVersion, kind);
    return { groupVersionPath: groupVersionPath(apiVersion), plural: hit.name, namespaced: hit.namespaced };
  }

  /** The object's URL path; namespaced kinds without a namespace get `defaultNamespace`. */
  async objectPath(ref: ObjectRef, defaultNamespace: string): Promise<{ path: string; namespaced: boolean }> {
    const r = await this.resolve(ref.apiVersion, ref.kind);
    const ns = r.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace || defaultNamespace)}` : '';
    return { path: `${r.groupVersionPath}${ns}/${r.plural}/${encodeURIComponent(ref.name)}`, namespaced: r.namespaced };
  }

  private async fetch(apiVersion: string): Promise<ApiResource[]> {
    try {
      const list = await this.transport.json<{ resources?: ApiResource[] }>({ method: 'GET', path: groupVersionPath(apiVersion) });
      return list.resources ?? [];
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }
}

/** "/api/v1" for the core group, "/apis/{group}/{version}" otherwise. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}
