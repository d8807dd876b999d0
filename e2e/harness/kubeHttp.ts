import { HttpBackend, HttpBackendError } from '../../src/sim/model/httpBackend.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';

/** A served type, found by apiVersion and kind through discovery. */
export interface ServedType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/**
 * An authenticated REST client for tests that drive a cluster "by hand" (the same methods as
 * test/support/simHttp.ts's SimHttp, so test helpers work against either). Errors carry `status`
 * and the Status `body`, like SimHttp's.
 */
export class KubeHttp {
  constructor(readonly backend: HttpBackend) {}

  /** A client for a kubeconfig's current context. */
  static fromKubeconfig(path: string): KubeHttp {
    return new KubeHttp(HttpBackend.fromKubeconfig(path, { userAgent: 'cni-migration-e2e' }));
  }

  // The REST boundary is untyped JSON, as in SimHttp.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<any> {
    try {
      return await this.backend.requestJson(method, path, body, contentType);
    } catch (e) {
      if (e instanceof HttpBackendError) throw Object.assign(new Error(e.message), { status: e.status, body: e.body, reason: e.reason });
      throw e;
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(path: string): Promise<any> {
    return this.request('GET', path);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  mergePatch(path: string, body: unknown): Promise<any> {
    return this.request('PATCH', path, body, 'application/merge-patch+json');
  }

  /** Server-side apply of one object (create or update); the path is found through discovery when omitted. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async apply(obj: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string }; [field: string]: unknown }, path?: string): Promise<any> {
    const target = path ?? (await this.objectPath(obj));
    return this.request('PATCH', `${target}?fieldManager=test&force=true`, JSON.stringify(obj), 'application/apply-patch+yaml');
  }

  /** The URL path of an object (namespaced objects default to "default"). Throws 404 when the kind is not served. */
  async objectPath(obj: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string } }): Promise<string> {
    const t = await this.lookupKind(obj.apiVersion, obj.kind);
    if (!t) throw Object.assign(new Error(`no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`), { status: 404 });
    return typePath(t, t.namespaced ? (obj.metadata.namespace ?? 'default') : undefined, obj.metadata.name);
  }

  /** The type serving apiVersion/kind, or undefined when the server does not serve it (e.g. v1beta1 RBAC). */
  async lookupKind(apiVersion: string, kind: string): Promise<ServedType | undefined> {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let list: { resources?: { name: string; kind: string; namespaced: boolean }[] };
    try {
      list = (await this.backend.requestJson('GET', base)) as typeof list;
    } catch (e) {
      if (e instanceof HttpBackendError && e.status === 404) return undefined;
      throw e;
    }
    const r = list.resources?.find((x) => x.kind === kind && !x.name.includes('/'));
    return r ? { group, version, plural: r.name, kind, namespaced: r.namespaced } : undefined;
  }

  /** Lists a resource key ("pods", "apps/daemonsets") across namespaces or in one. */
  list(resource: string, namespace?: string): Promise<KubeObject[]> {
    return this.backend.list(resource, namespace);
  }

  /** Gets one object by resource key, or undefined. */
  getObject(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.backend.get(resource, namespace, name);
  }

  close(): void {
    this.backend.close();
  }
}

/** Collection or object path of a served type. */
export function typePath(t: ServedType, namespace: string | undefined, name?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${t.plural}${name ? `/${name}` : ''}`;
}
