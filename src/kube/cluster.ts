/**
 * The ClusterClient that talks to a real (or simulated) API server over HTTP(S). With
 * kubeconfig.ts, the only module that imports @kubernetes/client-node — and only for KubeConfig,
 * whose applyToHTTPSOptions supplies credentials (tokens, client certs, exec plugins, OIDC).
 * Requests are raw (httpTransport.ts explains why) and return the objects exactly as sent.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type {
  ClusterClient,
  DeleteOptions,
  DeleteOutcome,
  EvictionResult,
  KindRef,
  MergePatch,
  ObjectQuery,
  PodQuery,
  ProxyGetOptions,
  ProxyResponse,
  ServerVersion,
  WatchEvent,
  WatchQuery,
  WorkloadPatch,
} from './clusterClient.js';
import { HttpTransport, type ExchangeNotice, type RawRequest } from './httpTransport.js';
import { allowPlainHttp, describeTarget, loadKubeconfig, loadKubeconfigText, type KubeconfigEnvironment, type KubeconfigFlags, type LoadedKubeconfig } from './kubeconfig.js';
import { isNotFound, KubeApiError, NoKindMatchError, statusFromResponse } from './kubeErrors.js';
import type { CustomResourceDefinition, KubeObject, Node, ObjectRef, Pod, PodDisruptionBudget, WorkloadKind, WorkloadKinds } from './kubeTypes.js';
import { ResourceResolver } from './resourceResolver.js';
import type { RetryNotice, RetryPolicy } from './requestRetry.js';

/** Tunables of the HTTP client. */
export interface KubeClusterOptions {
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Server-side apply field manager (default "cni-migration"). */
  fieldManager?: string;
  /** Namespace for namespaced objects that name none (default: the context's, else "default"). */
  defaultNamespace?: string;
  /** Page size for lists (kubectl drain's chunk size is 500). */
  pageSize?: number;
  /** Retries of transient failures (see requestRetry.ts; default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy | undefined;
  /** Told before each retry. */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
  /** Told after each request (debug logs). */
  onExchange?: ((e: ExchangeNotice) => void) | undefined;
}

const WORKLOAD_PLURALS: Record<WorkloadKind, string> = { DaemonSet: 'daemonsets', Deployment: 'deployments', StatefulSet: 'statefulsets' };
const PATCH_CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;
/** Set by the API server on objects; sending them in an apply body is wrong or a precondition. */
const SERVER_SET_METADATA = ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'selfLink', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/** Loads the kubeconfig like kubectl (see kubeconfig.ts) and connects a client to its current context. */
export function openCluster(flags: KubeconfigFlags, opts: KubeClusterOptions = {}, env?: KubeconfigEnvironment): { client: KubeCluster; kubeconfig: LoadedKubeconfig } {
  const kubeconfig = loadKubeconfig(flags, env);
  const client = new KubeCluster(kubeconfig.kubeConfig, { defaultNamespace: kubeconfig.namespace, ...opts });
  return { client, kubeconfig };
}

/** Connects a client to kubeconfig YAML held in memory (e.g. a simulated cluster's `kubeconfig()`). */
export function openClusterFromText(text: string, opts: KubeClusterOptions & { context?: string } = {}): { client: KubeCluster; kubeconfig: LoadedKubeconfig } {
  const kubeconfig = loadKubeconfigText(text, { context: opts.context });
  const client = new KubeCluster(kubeconfig.kubeConfig, { defaultNamespace: kubeconfig.namespace, ...opts });
  return { client, kubeconfig };
}

/** ClusterClient over HTTP(S) for the KubeConfig's current context. */
export class KubeCluster implements ClusterClient {
  readonly target: { server: string; context: string; user: string };
  private readonly http: HttpTransport;
  private readonly resolver: ResourceResolver;
  /** pods/eviction was found served (see hasPodEviction). */
  private evictionServed = false;
  private readonly fieldManager: string;
  private readonly defaultNamespace: string;
  private readonly pageSize: number;

  constructor(kc: KubeConfig, opts: KubeClusterOptions = {}) {
    allowPlainHttp(kc);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
    const t = describeTarget(kc);
    this.target = { server: t.server, context: t.context, user: t.user };
    this.http = new HttpTransport({
      server: cluster.server,
      applyAuth: (o) => kc.applyToHTTPSOptions(o),
      timeoutMs: opts.requestTimeoutMs ?? 30_000,
      useAuthAgent: Boolean(cluster.proxyUrl),
      user: t.user,
      retry: opts.retry,
      onRetry: opts.onRetry,
      onExchange: opts.onExchange,
    });
    this.resolver = new ResourceResolver(this.http);
    this.fieldManager = opts.fieldManager ?? 'cni-migration';
    this.defaultNamespace = opts.defaultNamespace ?? t.namespace;
    this.pageSize = opts.pageSize ?? 500;
  }

  /** Closes idle connections (lets a short-lived process exit promptly). */
  close(): void {
    this.http.close();
  }

  getNode(name: string): Promise<Node> {
    return this.http.json<Node>({ method: 'GET', path: `/api/v1/nodes/${enc(name)}` });
  }

  listNodes(opts: { labelSelector?: string | undefined } = {}): Promise<Node[]> {
    return this.listAll<Node>('/api/v1/nodes', { labelSelector: opts.labelSelector });
  }

  patchNode(name: string, patch: MergePatch, opts: { resourceVersion?: string | undefined } = {}): Promise<Node> {
    const body = opts.resourceVersion ? withResourceVersion(patch, opts.resourceVersion) : patch;
    return this.patch<Node>(`/api/v1/nodes/${enc(name)}`, PATCH_CONTENT_TYPES.merge, body);
  }

  listPods(query: PodQuery = {}): Promise<Pod[]> {
    const base = query.namespace ? `/api/v1/namespaces/${enc(query.namespace)}/pods` : '/api/v1/pods';
    return this.listAll<Pod>(base, { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector });
  }

  getPod(namespace: string, name: string): Promise<Pod> {
    return this.http.json<Pod>({ method: 'GET', path: podPath(namespace, name) });
  }

  deletePod(namespace: string, name: string, opts: DeleteOptions = {}): Promise<DeleteOutcome> {
    return this.delete(podPath(namespace, name), opts);
  }

  async evictPod(namespace: string, name: string, opts: { gracePeriodSeconds?: number | undefined } = {}): Promise<EvictionResult> {
    const eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace },
      // kubectl sends a grace period only when it is >= 0 (-1 means "the pod's own").
      ...(opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds >= 0 ? { deleteOptions: { gracePeriodSeconds: opts.gracePeriodSeconds } } : {}),
    };
    const req: RawRequest = { method: 'POST', path: `${podPath(namespace, name)}/eviction`, body: JSON.stringify(eviction) };
    const res = await this.http.request(req);
    if (res.status >= 200 && res.status <= 299) return { outcome: 'evicted' };
    return evictionResultOf(this.http.apiError(req, res));
  }

  getWorkload<K extends WorkloadKind>(kind: K, namespace: string, name: string): Promise<WorkloadKinds[K]> {
    return this.http.json<WorkloadKinds[K]>({ method: 'GET', path: workloadPath(kind, namespace, name) });
  }

  patchWorkload<K extends WorkloadKind>(kind: K, namespace: string, name: string, patch: WorkloadPatch): Promise<WorkloadKinds[K]> {
    return this.patch<WorkloadKinds[K]>(workloadPath(kind, namespace, name), PATCH_CONTENT_TYPES[patch.type], patch.body);
  }

  listPodDisruptionBudgets(namespace?: string): Promise<PodDisruptionBudget[]> {
    const ns = namespace ? `/namespaces/${enc(namespace)}` : '';
    return this.listAll<PodDisruptionBudget>(`/apis/policy/v1${ns}/poddisruptionbudgets`, {});
  }

  async applyObject(obj: KubeObject): Promise<KubeObject> {
    const ref = refOf(obj);
    const { path, namespaced } = await this.resolver.objectPath(ref, this.defaultNamespace);
    const body = applyBody(obj, namespaced ? ref.namespace || this.defaultNamespace : undefined);
    return this.http.json<KubeObject>({
      method: 'PATCH',
      path,
      query: { fieldManager: this.fieldManager, force: 'true' },
      // JSON is YAML: the body goes out exactly as given, unknown fields included.
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(body),
    });
  }

  async getObject(ref: ObjectRef): Promise<KubeObject> {
    const { path } = await this.resolver.objectPath(ref, this.defaultNamespace);
    return this.http.json<KubeObject>({ method: 'GET', path });
  }

  async listObjects(kind: KindRef, query: ObjectQuery = {}): Promise<KubeObject[]> {
    const r = await this.resolver.resolve(kind.apiVersion, kind.kind);
    const ns = r.namespaced && query.namespace ? `/namespaces/${enc(query.namespace)}` : '';
    const items = await this.listAll<KubeObject>(`${r.groupVersionPath}${ns}/${r.plural}`, { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector });
    // The API server leaves apiVersion/kind off list items; callers keep them with the objects.
    return items.map((o) => ({ ...o, apiVersion: o.apiVersion ?? kind.apiVersion, kind: o.kind ?? kind.kind }));
  }

  async createObject(obj: KubeObject): Promise<KubeObject> {
    // No name needed: reviews (SelfSubjectAccessReview) have none, generateName makes one.
    if (!obj.apiVersion || !obj.kind) throw new Error(`cannot create an object without apiVersion and kind (got ${obj.kind ?? '?'} ${obj.metadata?.name ?? '?'})`);
    const r = await this.resolver.resolve(obj.apiVersion, obj.kind);
    const ns = r.namespaced ? `/namespaces/${enc(obj.metadata?.namespace || this.defaultNamespace)}` : '';
    return this.http.json<KubeObject>({ method: 'POST', path: `${r.groupVersionPath}${ns}/${r.plural}`, query: { fieldManager: this.fieldManager }, body: JSON.stringify(obj) });
  }

  async listWithVersion(kind: KindRef, query: ObjectQuery = {}): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const path = await this.collectionPath(kind, query.namespace);
    const { items, resourceVersion } = await this.listPages<KubeObject>(path, { labelSelector: query.labelSelector, fieldSelector: query.fieldSelector });
    return { items: items.map((o) => ({ ...o, apiVersion: o.apiVersion ?? kind.apiVersion, kind: o.kind ?? kind.kind })), resourceVersion };
  }

  async watch(kind: KindRef, query: WatchQuery, onEvent: (event: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    const path = await this.collectionPath(kind, query.namespace);
    let failure: KubeApiError | undefined;
    const inner = new AbortController();
    const both = signal ? AbortSignal.any([signal, inner.signal]) : inner.signal;
    await this.http.stream(
      {
        method: 'GET',
        path,
        query: { watch: 'true', allowWatchBookmarks: 'true', resourceVersion: query.resourceVersion, labelSelector: query.labelSelector, fieldSelector: query.fieldSelector, timeoutSeconds: query.timeoutSeconds },
      },
      (line) => {
        const ev = JSON.parse(line) as { type: string; object: KubeObject };
        if (ev.type === 'ERROR') {
          failure = new KubeApiError(statusFromResponse(Number((ev.object as { code?: number }).code ?? 500), JSON.stringify(ev.object)), `watch ${path}`);
          inner.abort();
          return;
        }
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED' || ev.type === 'BOOKMARK') onEvent({ type: ev.type, object: { ...ev.object, apiVersion: ev.object.apiVersion ?? kind.apiVersion, kind: ev.object.kind ?? kind.kind } });
      },
      both,
    );
    if (failure) throw failure;
  }

  async patchObject(ref: ObjectRef, patch: WorkloadPatch): Promise<KubeObject> {
    const { path } = await this.resolver.objectPath(ref, this.defaultNamespace);
    return this.patch<KubeObject>(path, PATCH_CONTENT_TYPES[patch.type], patch.body);
  }

  async servesKind(kind: KindRef): Promise<boolean> {
    try {
      await this.resolver.resolve(kind.apiVersion, kind.kind);
      return true;
    } catch (e) {
      if (e instanceof NoKindMatchError) return false;
      throw e;
    }
  }

  async deleteObject(ref: ObjectRef, opts: DeleteOptions = {}): Promise<DeleteOutcome> {
    const { path } = await this.resolver.objectPath(ref, this.defaultNamespace);
    return this.delete(path, opts);
  }

  getCustomResourceDefinition(name: string): Promise<CustomResourceDefinition> {
    return this.http.json<CustomResourceDefinition>({ method: 'GET', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${enc(name)}` });
  }

  async proxyPodGet(namespace: string, pod: string, port: number, path: string, opts: ProxyGetOptions = {}): Promise<ProxyResponse> {
    const sub = path.split('/').filter((s) => s !== '').map(enc).join('/');
    const res = await this.http.request({
      method: 'GET',
      path: `${podPath(namespace, `${pod}:${port}`)}/proxy/${sub}`,
      query: opts.query,
      accept: '*/*',
      timeoutMs: opts.timeoutMs,
    });
    const ct = res.headers['content-type'];
    return { status: res.status, body: res.text, contentType: typeof ct === 'string' ? ct : undefined };
  }

  async hasPodEviction(): Promise<boolean> {
    // kubectl's CheckEvictionSupport: v1 lists "pods/eviction" of kind Eviction with a group and version.
    // Found once it stays (an API server does not lose it mid-run): one discovery read per run, not per drain.
    if (this.evictionServed) return true;
    const list = await this.resolver.resources('v1');
    this.evictionServed = list.some((r) => r.name === 'pods/eviction' && r.kind === 'Eviction' && Boolean(r.group) && Boolean(r.version));
    return this.evictionServed;
  }

  serverVersion(): Promise<ServerVersion> {
    return this.http.json<ServerVersion>({ method: 'GET', path: '/version' });
  }

  async resourceOf(kind: KindRef): Promise<{ group: string; resource: string; namespaced: boolean }> {
    const r = await this.resolver.resolve(kind.apiVersion, kind.kind);
    return { group: kind.apiVersion.includes('/') ? kind.apiVersion.split('/')[0]! : '', resource: r.plural, namespaced: r.namespaced };
  }

  private patch<T>(path: string, contentType: string, body: unknown): Promise<T> {
    return this.http.json<T>({ method: 'PATCH', path, contentType, body: JSON.stringify(body) });
  }

  private async delete(path: string, opts: DeleteOptions): Promise<DeleteOutcome> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...(opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds >= 0 ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
      ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
      ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
    };
    try {
      await this.http.json({ method: 'DELETE', path, body: JSON.stringify(body) });
      return 'deleted';
    } catch (e) {
      if (isNotFound(e)) return 'notFound';
      throw e;
    }
  }

  private async listAll<T>(path: string, query: Record<string, string | undefined>): Promise<T[]> {
    return (await this.listPages<T>(path, query)).items;
  }

  /** Every page of a list, and the resourceVersion of the first (the list's, which a watch starts from). */
  private async listPages<T>(path: string, query: Record<string, string | undefined>): Promise<{ items: T[]; resourceVersion: string }> {
    const out: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.http.json<{ items?: T[]; metadata?: { continue?: string; resourceVersion?: string } }>({
        method: 'GET',
        path,
        query: { ...query, limit: this.pageSize, continue: cont },
      });
      out.push(...(page.items ?? []));
      resourceVersion ||= page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items: out, resourceVersion };
  }

  private async collectionPath(kind: KindRef, namespace: string | undefined): Promise<string> {
    const r = await this.resolver.resolve(kind.apiVersion, kind.kind);
    const ns = r.namespaced && namespace ? `/namespaces/${enc(namespace)}` : '';
    return `${r.groupVersionPath}${ns}/${r.plural}`;
  }
}

/** Turns an eviction error answer into data, with kubectl's reading of each status. */
export function evictionResultOf(err: KubeApiError): EvictionResult {
  if (err.code === 404) return { outcome: 'notFound' };
  if (err.code === 429) {
    const pdb = err.hasCause('DisruptionBudget') || /disruption budget/i.test(err.message);
    return pdb
      ? { outcome: 'blockedByPdb', message: err.message, causes: err.causes }
      : { outcome: 'tooManyRequests', message: err.message, retryAfterSeconds: err.retryAfterSeconds };
  }
  if (err.code === 403 && err.hasCause('NamespaceTerminating')) return { outcome: 'namespaceTerminating', message: err.message };
  return { outcome: 'failed', code: err.code, reason: err.reason, message: err.message };
}

/** The body of a server-side apply: the object without fields only the server may set. */
export function applyBody(obj: KubeObject, namespace: string | undefined): KubeObject {
  const metadata = { ...obj.metadata };
  for (const k of SERVER_SET_METADATA) delete metadata[k];
  if (namespace) metadata.namespace = namespace;
  else delete metadata.namespace;
  return { ...obj, metadata };
}

function refOf(obj: KubeObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
    throw new Error(`cannot apply an object without apiVersion, kind and metadata.name (got ${obj.kind ?? '?'} ${obj.metadata?.name ?? '?'})`);
  }
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
}

function withResourceVersion(patch: MergePatch, resourceVersion: string): MergePatch {
  const meta = (patch.metadata && typeof patch.metadata === 'object' ? patch.metadata : {}) as Record<string, unknown>;
  return { ...patch, metadata: { ...meta, resourceVersion } };
}

function podPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`;
}

function workloadPath(kind: WorkloadKind, namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${enc(namespace)}/${WORKLOAD_PLURALS[kind]}/${enc(name)}`;
}

function enc(segment: string): string {
  // ":" separates a pod from its port in proxy paths; keep it readable.
  return encodeURIComponent(segment).replace(/%3A/gi, ':');
}
