import { ApiError, badRequest, conflict, notFound, unsupportedMediaType } from './apiError.js';
import type { ApiRequest, ApiResponse } from './apiServer.js';
import { applyDefaults } from './defaults.js';
import { paginate, parseListFilter, passesFilter, storeQueryOf } from './listing.js';
import { applyJsonPatch } from './patch/jsonPatch.js';
import { applyStrategicMergePatch } from './patch/strategicMerge.js';
import { apiVersionOf, resourceKey, type ResourceRegistry, type ResourceType } from './resourceRegistry.js';
import { buildTable, wantsTable } from './tables.js';
import { validateObject } from './validation.js';
import { serveWatch } from './watchHandler.js';
import { registerCrd, unregisterCrd } from './crdTypes.js';
import { mergePatchValue } from '../model/clusterBackend.js';
import { generateObjectName } from '../store/generateName.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';

/** What the eviction handler learns from the disruption controller's rules. */
export type EvictionDecision =
  | { allowed: true; pdb?: KubeObject }
  | { allowed: false; code: 429 | 500; message: string; causes?: { reason: string; message: string }[] };

/** A request forwarded through pods/proxy. */
export interface ProxyRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The answer of a proxied pod. */
export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Behaviour that lives outside the API layer (controllers, node model), wired in by the simulated cluster. */
export interface ApiServerHooks {
  decideEviction?: (pod: KubeObject) => EvictionDecision;
  recordEviction?: (pdb: KubeObject, podName: string) => void;
  orphanDependents?: (uid: string) => void;
  proxyToPod?: (namespace: string, name: string, port: string | undefined, req: ProxyRequest) => Promise<ProxyResponse>;
  podLog?: (namespace: string, name: string) => string;
}

const PATCH_TYPES = new Set([
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
]);

/** CRUD, patch, watch and subresource handling for every served resource type. */
export class ResourceHandlers {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly hooks: ApiServerHooks,
  ) {}

  /** Routes one resource request. Returns undefined when the response was streamed. */
  async handle(r: ApiRequest, type: ResourceType): Promise<ApiResponse | undefined> {
    if (r.info.type !== 'resource') throw badRequest('not a resource request');
    const info = r.info;
    const key = resourceKey(type.group, type.plural);
    const ns = type.namespaced ? info.namespace : undefined;
    if (!type.namespaced && info.namespace) return { status: 404, text: '404 page not found\n' };
    const sub = info.subresource;
    if (sub === 'proxy') return this.proxy(r, ns ?? '', info.name ?? '');
    if (sub === 'eviction') return this.evict(r, ns ?? '', info.name ?? '');
    if (sub === 'binding') return this.bind(r, ns ?? '', info.name ?? '');
    if (sub === 'log') return this.log(ns ?? '', info.name ?? '');
    if (sub === 'scale') return this.scale(r, type, key, ns, info.name ?? '');
    const part = sub === 'status' ? 'status' : 'main';
    switch (r.method) {
      case 'GET':
        if (info.legacyWatch || r.query.get('watch') === 'true' || r.query.get('watch') === '1') {
          serveWatch(r, this.store, key, ns, info.name);
          return undefined;
        }
        if (!info.name) return this.list(r, type, key, ns);
        if (wantsTable(String(r.headers.accept ?? '')) && !sub) {
          const obj = this.get(type, key, ns, info.name);
          return { status: 200, body: buildTable(key, [obj], obj.metadata.resourceVersion ?? '', r.query.get('includeObject') ?? 'Metadata') };
        }
        return { status: 200, body: this.get(type, key, ns, info.name) };
      case 'POST':
        if (info.name) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        return this.create(r, type, key, ns);
      case 'PUT':
        return this.update(r, type, key, ns, info.name ?? '', part);
      case 'PATCH':
        return this.patch(r, type, key, ns, info.name ?? '', part);
      case 'DELETE':
        return info.name ? this.delete(r, type, key, ns, info.name) : this.deleteCollection(r, type, key, ns);
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  private get(type: ResourceType, key: string, ns: string | undefined, name: string): KubeObject {
    const obj = this.store.get(key, ns, name);
    if (!obj) throw notFound(type.group, type.plural, name);
    return obj;
  }

  private list(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined): ApiResponse {
    const filter = parseListFilter(key, r.query);
    const resourceVersion = this.store.currentResourceVersion();
    // The store's own (frozen) objects: the response only serializes them, so nothing is copied.
    const filtered = this.store.selectSorted(key, storeQueryOf(key, ns, filter)).filter((o) => passesFilter(o, filter));
    const page = paginate(filtered, r.query, resourceVersion);
    if (wantsTable(String(r.headers.accept ?? ''))) {
      return { status: 200, body: buildTable(key, page.items, resourceVersion, r.query.get('includeObject') ?? 'Metadata', page.continue) };
    }
    return {
      status: 200,
      body: {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type.group, type.version),
        metadata: { resourceVersion, ...(page.continue ? { continue: page.continue, remainingItemCount: page.remainingItemCount } : {}) },
        items: page.items,
      },
    };
  }

  private decodeObject(r: ApiRequest, type: ResourceType, ns: string | undefined): KubeObject {
    let body: unknown;
    try {
      body = r.body();
    } catch (e) {
      if (e instanceof ApiError) {
        throw badRequest(`the object provided is unrecognized (must be of type ${type.kind}): couldn't get version/kind; ${e.message}`);
      }
      throw e;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest(`the object provided is unrecognized (must be of type ${type.kind}): couldn't get version/kind; json parse error: expected an object`);
    }
    const obj = body as KubeObject;
    const expected = apiVersionOf(type.group, type.version);
    if (!obj.apiVersion || !obj.kind) {
      obj.apiVersion ??= expected;
      obj.kind ??= type.kind;
    }
    if (obj.kind !== type.kind) {
      throw badRequest(`the object provided is unrecognized (must be of type ${type.kind}): no kind "${obj.kind}" is registered for version "${obj.apiVersion}" in scheme`);
    }
    if (obj.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
    if (type.namespaced) {
      if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (ns) obj.metadata.namespace = ns;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private checkNamespace(type: ResourceType, ns: string | undefined): void {
    if (!type.namespaced || !ns) return;
    const nsObj = this.store.peek('namespaces', undefined, ns);
    if (!nsObj) throw notFound('', 'namespaces', ns);
    if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating') {
      throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, {
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private strict(r: ApiRequest): boolean {
    return r.query.get('fieldValidation') === 'Strict';
  }

  private dryRun(r: ApiRequest): boolean {
    return r.query.getAll('dryRun').includes('All');
  }

  private createObject(r: ApiRequest, type: ResourceType, key: string, obj: KubeObject): KubeObject {
    this.checkNamespace(type, obj.metadata.namespace);
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = generateObjectName(obj.metadata.generateName);
    validateObject(obj, type, { strict: this.strict(r), urlNamespace: obj.metadata.namespace });
    applyDefaults(obj, { creating: true });
    delete obj.metadata.resourceVersion;
    if (this.dryRun(r)) {
      if (this.store.peek(key, obj.metadata.namespace, obj.metadata.name ?? '')) {
        throw new ApiError(409, 'AlreadyExists', `${type.group ? `${type.plural}.${type.group}` : type.plural} "${obj.metadata.name}" already exists`);
      }
      return { ...obj, metadata: { ...obj.metadata, uid: '00000000-0000-0000-0000-000000000000', creationTimestamp: new Date().toISOString() } };
    }
    const created = this.store.create(key, obj);
    if (type.kind === 'CustomResourceDefinition') return registerCrd(this.store, this.registry, created);
    return created;
  }

  private create(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined): ApiResponse {
    if (type.namespaced && !ns) return { status: 404, text: '404 page not found\n' };
    const obj = this.decodeObject(r, type, ns);
    return { status: 201, body: this.createObject(r, type, key, obj) };
  }

  private update(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined, name: string, part: 'main' | 'status'): ApiResponse {
    const obj = this.decodeObject(r, type, ns);
    if (obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    const current = this.store.get(key, ns, name);
    if (!current) throw notFound(type.group, type.plural, name);
    return { status: 200, body: this.store_update(r, type, key, obj, current, part) };
  }

  private store_update(r: ApiRequest, type: ResourceType, key: string, obj: KubeObject, current: KubeObject, part: 'main' | 'status'): KubeObject {
    if (part === 'main') {
      validateObject(obj, type, { strict: this.strict(r), urlNamespace: current.metadata.namespace });
      applyDefaults(obj, { creating: false });
    }
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type.group, type.plural, obj.metadata.name ?? '');
    }
    if (this.dryRun(r)) return obj;
    const updated = this.store.update(key, obj, { part, checkResourceVersion: true });
    if (type.kind === 'CustomResourceDefinition') return registerCrd(this.store, this.registry, updated);
    return updated;
  }

  private patch(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined, name: string, part: 'main' | 'status'): ApiResponse {
    const ct = String(r.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (!PATCH_TYPES.has(ct)) throw unsupportedMediaType(ct);
    if (ct === 'application/strategic-merge-patch+json' && !isBuiltin(type)) {
      throw unsupportedMediaType(`strategic merge patch is not supported for ${type.kind}.${type.group}`);
    }
    const patchBody = r.body();
    const current = this.store.get(key, ns, name);
    if (ct === 'application/apply-patch+yaml') {
      if (!r.query.get('fieldManager')) {
        throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      }
      if (!current) {
        if (part === 'status') throw notFound(type.group, type.plural, name);
        const obj = this.checkAppliedIdentity(patchBody, type, ns, name);
        return { status: 201, body: this.createObject(r, type, key, obj) };
      }
      this.checkAppliedIdentity(patchBody, type, ns, name);
    }
    if (!current) throw notFound(type.group, type.plural, name);
    let patched: KubeObject;
    switch (ct) {
      case 'application/json-patch+json':
        patched = applyJsonPatch(current, patchBody) as KubeObject;
        break;
      case 'application/merge-patch+json':
        patched = mergePatchValue(current, patchBody) as KubeObject;
        break;
      default:
        // Strategic merge, and server-side apply approximated as a strategic merge of the applied configuration.
        patched = applyStrategicMergePatch(current, patchBody) as KubeObject;
    }
    if (!patched || typeof patched !== 'object' || !patched.metadata) throw badRequest('patch produced an invalid object');
    if (patched.metadata.name !== name) throw badRequest(`the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`);
    patched.metadata.namespace = current.metadata.namespace;
    patched.apiVersion = current.apiVersion;
    patched.kind = current.kind;
    return { status: 200, body: this.store_update(r, type, key, patched, current, part) };
  }

  private checkAppliedIdentity(body: unknown, type: ResourceType, ns: string | undefined, name: string): KubeObject {
    if (!body || typeof body !== 'object') throw badRequest('apply patch must be an object');
    const obj = body as KubeObject;
    obj.metadata ??= {};
    if (obj.kind !== type.kind || obj.apiVersion !== apiVersionOf(type.group, type.version)) {
      throw badRequest(`the object provided is unrecognized (must be of type ${type.kind}): apiVersion/kind ${obj.apiVersion}/${obj.kind}`);
    }
    if (obj.metadata.name && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    obj.metadata.name = name;
    if (type.namespaced) obj.metadata.namespace = ns;
    return obj;
  }

  private deleteOptions(r: ApiRequest): { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: boolean } {
    let opts: Record<string, unknown> = {};
    if (r.rawBody.length) {
      const b = r.body();
      if (b && typeof b === 'object') opts = b as Record<string, unknown>;
    }
    const grace = r.query.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    return {
      gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
      propagationPolicy: (r.query.get('propagationPolicy') ?? opts.propagationPolicy) as string | undefined,
      preconditions: opts.preconditions as { uid?: string; resourceVersion?: string } | undefined,
      // Typed clients put dryRun in the DeleteOptions body rather than the query.
      dryRun: Array.isArray(opts.dryRun) && opts.dryRun.includes('All'),
    };
  }

  private delete(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined, name: string): ApiResponse {
    const current = this.store.peek(key, ns, name);
    if (!current) throw notFound(type.group, type.plural, name);
    const opts = this.deleteOptions(r);
    if (this.dryRun(r) || opts.dryRun) return { status: 200, body: current };
    return { status: 200, body: this.deleteObject(type, key, current, opts) };
  }

  /** Deletes one object with the semantics of its type (graceful pods, terminating namespaces, CRDs). */
  deleteObject(type: ResourceType, key: string, current: KubeObject, opts: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string } }): KubeObject {
    const ns = current.metadata.namespace;
    const name = current.metadata.name ?? '';
    if (opts.preconditions?.uid && opts.preconditions.uid !== current.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${type.plural} "${name}": Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (opts.propagationPolicy === 'Orphan' && current.metadata.uid) this.hooks.orphanDependents?.(current.metadata.uid);
    if (type.kind === 'Pod') return this.deletePod(current, opts.gracePeriodSeconds);
    if (type.kind === 'Namespace') {
      const marked = this.store.mutate(key, undefined, name, (o) => {
        if (o.status?.phase === 'Terminating') return false;
        o.status = { ...(o.status ?? {}), phase: 'Terminating' };
      }, { part: 'status' });
      return this.store.markForDeletion(key, undefined, name, 0) ?? marked;
    }
    const deleted = this.store.delete(key, ns, name, opts.preconditions);
    if (type.kind === 'CustomResourceDefinition') unregisterCrd(this.store, this.registry, deleted);
    return deleted;
  }

  private deletePod(pod: KubeObject, requestedGrace: number | undefined): KubeObject {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name ?? '';
    let grace = requestedGrace ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const phase = pod.status?.phase;
    // Pods that never ran on a node, or already finished, have nothing to stop: deleted at once.
    if (!pod.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    if (grace <= 0) return this.store.delete('pods', ns, name);
    return this.store.markForDeletion('pods', ns, name, grace);
  }

  private deleteCollection(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined): ApiResponse {
    const filter = parseListFilter(key, r.query);
    const opts = this.deleteOptions(r);
    const items = this.store.selectSorted(key, storeQueryOf(key, ns, filter)).filter((o) => passesFilter(o, filter));
    const out: KubeObject[] = [];
    if (!this.dryRun(r) && !opts.dryRun) {
      for (const o of items) {
        try {
          out.push(this.deleteObject(type, key, o, opts));
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    return { status: 200, body: { kind: `${type.kind}List`, apiVersion: apiVersionOf(type.group, type.version), metadata: { resourceVersion: this.store.currentResourceVersion() }, items: out } };
  }

  private evict(r: ApiRequest, ns: string, name: string): ApiResponse {
    if (r.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const body = r.body() as { kind?: string; apiVersion?: string; metadata?: { name?: string }; deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string } } };
    if (!body || typeof body !== 'object' || body.kind !== 'Eviction') {
      throw badRequest('the object provided is unrecognized (must be of type Eviction)');
    }
    if (body.metadata?.name && body.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
    const pod = this.store.peek('pods', ns, name);
    if (!pod) throw notFound('', 'pods', name);
    if (body.deleteOptions?.preconditions?.uid && body.deleteOptions.preconditions.uid !== pod.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods "${name}": Precondition failed`);
    }
    if (!pod.metadata.deletionTimestamp) {
      const decision = this.hooks.decideEviction?.(pod) ?? { allowed: true };
      if (!decision.allowed) {
        throw new ApiError(decision.code, decision.code === 429 ? 'TooManyRequests' : 'InternalError', decision.message, decision.causes ? { causes: decision.causes } : undefined);
      }
      if (decision.pdb) this.hooks.recordEviction?.(decision.pdb, name);
      // As the eviction REST handler does, mark why the pod is going before deleting it.
      this.store.mutate('pods', ns, name, (p) => {
        const conds = (((p.status ??= {}).conditions ??= []) as { type: string }[]).filter((c) => c.type !== 'DisruptionTarget');
        conds.push({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: new Date().toISOString() } as { type: string });
        p.status.conditions = conds;
      }, { part: 'status' });
      this.deletePod(pod, body.deleteOptions?.gracePeriodSeconds);
    }
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }

  private bind(r: ApiRequest, ns: string, name: string): ApiResponse {
    const body = r.body() as { target?: { name?: string } };
    const node = body?.target?.name;
    if (!node) throw badRequest('Binding.target.name is required');
    const pod = this.store.peek('pods', ns, name);
    if (!pod) throw notFound('', 'pods', name);
    if (pod.spec?.nodeName) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    this.store.mutate('pods', ns, name, (p) => {
      p.spec.nodeName = node;
    });
    this.store.mutate('pods', ns, name, (p) => {
      const conds = (((p.status ??= {}).conditions ??= []) as { type: string }[]).filter((c) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date().toISOString() } as { type: string });
      p.status.conditions = conds;
    }, { part: 'status' });
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  }

  private log(ns: string, name: string): ApiResponse {
    const pod = this.store.peek('pods', ns, name);
    if (!pod) throw notFound('', 'pods', name);
    return { status: 200, text: this.hooks.podLog?.(ns, name) ?? '' };
  }

  private async proxy(r: ApiRequest, ns: string, rawName: string): Promise<ApiResponse> {
    // name may be "pod", "pod:port" or "scheme:pod:port"
    const parts = rawName.split(':');
    const name = parts.length === 3 ? parts[1]! : parts[0]!;
    const port = parts.length === 3 ? parts[2] : parts[1];
    const pod = this.store.peek('pods', ns, name);
    if (!pod) throw notFound('', 'pods', name);
    if (!this.hooks.proxyToPod) throw new ApiError(503, 'ServiceUnavailable', 'error trying to reach service: no node model');
    const info = r.info.type === 'resource' ? r.info : undefined;
    const q = r.query.toString();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string' && k !== 'authorization' && k !== 'host') headers[k] = v;
    const resp = await this.hooks.proxyToPod(ns, name, port, { method: r.method, path: `/${info?.subpath ?? ''}`, query: q, headers, body: r.rawBody });
    const body = typeof resp.body === 'string' ? resp.body : resp.body.toString('utf8');
    return { status: resp.status, text: body, contentType: resp.headers['content-type'] ?? 'text/plain; charset=utf-8' };
  }

  private scale(r: ApiRequest, type: ResourceType, key: string, ns: string | undefined, name: string): ApiResponse {
    const obj = this.store.get(key, ns, name);
    if (!obj) throw notFound(type.group, type.plural, name);
    const toScale = (o: KubeObject) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace: ns, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: o.spec?.replicas ?? 0 },
      status: { replicas: o.status?.replicas ?? 0, selector: Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') },
    });
    if (r.method === 'GET') return { status: 200, body: toScale(obj) };
    const body = r.body() as { spec?: { replicas?: number } } | unknown[];
    let replicas: number | undefined;
    const ct = String(r.headers['content-type'] ?? '');
    if (r.method === 'PATCH' && ct.startsWith('application/json-patch+json')) {
      replicas = (applyJsonPatch(toScale(obj), body) as { spec?: { replicas?: number } }).spec?.replicas;
    } else {
      replicas = (body as { spec?: { replicas?: number } }).spec?.replicas;
    }
    if (typeof replicas !== 'number' || replicas < 0) throw badRequest('spec.replicas must be a non-negative integer');
    const updated = this.store.mutate(key, ns, name, (o) => {
      if (o.spec.replicas === replicas) return false;
      o.spec.replicas = replicas;
    });
    return { status: 200, body: toScale(updated ?? obj) };
  }
}

function isBuiltin(type: ResourceType): boolean {
  return ['', 'apps', 'policy', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io'].includes(type.group);
}
