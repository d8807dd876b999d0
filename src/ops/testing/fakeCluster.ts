/**
 * An in-memory ClusterClient for unit tests, in the spirit of client-go's fake object tracker:
 * objects keyed by apiVersion/kind/namespace/name, deep-copied in and out, a resourceVersion on
 * every write (409 on a stale one), PodDisruptionBudget accounting for evictions, and failures
 * injectable per test in front of the store. Every call is recorded in `calls`.
 */
import type {
  ClusterClient,
  ServerVersion,
  DeleteOptions,
  DeleteOutcome,
  EvictionResult,
  KindRef,
  MergePatch,
  ObjectQuery,
  PodQuery,
  ProxyGetOptions,
  ProxyResponse,
  WatchEvent,
  WatchQuery,
  WorkloadPatch,
} from '../../kube/clusterClient.js';
import { KubeApiError, NoKindMatchError, type StatusCause } from '../../kube/kubeErrors.js';
import type { CustomResourceDefinition, KubeObject, Node, ObjectRef, Pod, PodDisruptionBudget, WorkloadKind, WorkloadKinds } from '../../kube/kubeTypes.js';
import { matchesLabelSelector } from '../labelSelector.js';
import { applyJsonPatch, applyMergePatch } from './mergePatch.js';
import { matchesSelector } from './selectors.js';

/** A recorded call. */
export interface FakeCall {
  method: keyof ClusterClient;
  args: unknown[];
}

/** How pods leave after a delete or an accepted eviction. */
export type PodTermination =
  /** Removed at once. */
  | 'immediate'
  /** Marked terminating until the test calls finishTermination(). */
  | 'manual'
  /** Marked terminating; removed once getPod has seen it this many times. */
  | { afterGets: number };

type Hook = (...args: unknown[]) => void;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
  'GlobalNetworkPolicy',
  'CiliumClusterwideNetworkPolicy',
]);
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'policy',
  'batch',
  'rbac.authorization.k8s.io',
  'apiextensions.k8s.io',
  'networking.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'admissionregistration.k8s.io',
  'coordination.k8s.io',
  'apiregistration.k8s.io',
  'autoscaling',
  'discovery.k8s.io',
  'node.k8s.io',
  'certificates.k8s.io',
]);
const WORKLOAD_API = 'apps/v1';

/** Builds the KubeApiError the real server would send. */
export function apiError(code: number, reason: string, message: string, causes: StatusCause[] = []): KubeApiError {
  return new KubeApiError({ code, reason, message, causes }, 'fake');
}

/** 404 NotFound for `resource "name"`. */
export function notFoundError(resource: string, name: string): KubeApiError {
  return apiError(404, 'NotFound', `${resource} "${name}" not found`);
}

/** 409 Conflict as for a stale resourceVersion. */
export function conflictError(resource: string, name: string): KubeApiError {
  return apiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
}

/** In-memory ClusterClient. */
export class FakeCluster implements ClusterClient {
  readonly target = { server: 'https://fake.invalid:6443', context: 'fake', user: 'fake-user' };
  readonly calls: FakeCall[] = [];
  /** Whether discovery offers pods/eviction. */
  podEvictionSupported = true;
  podTermination: PodTermination = 'immediate';
  /** Number of getCustomResourceDefinition calls before an applied CRD reports Established. */
  crdEstablishAfterGets = 0;
  /** Pod proxy handler: (namespace, pod, port, path) → response. */
  proxyHandler: (ns: string, pod: string, port: number, path: string, query: Record<string, string>) => ProxyResponse = () => ({
    status: 503,
    body: '{"kind":"Status","code":503,"message":"no proxy handler in the fake"}',
    contentType: 'application/json',
  });

  private readonly objects = new Map<string, KubeObject>();
  private readonly hooks = new Map<string, { fn: Hook; remaining: number }[]>();
  private readonly evictionOverrides: { match: (ns: string, name: string) => boolean; result: EvictionResult; remaining: number }[] = [];
  private readonly getsWhileTerminating = new Map<string, number>();
  private readonly crdGets = new Map<string, number>();
  private rv = 100;
  /** Every write as a watch event (kept so a watch from a resourceVersion replays what came after it). */
  private readonly history: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; rv: number }[] = [];
  /** Watches from below this resourceVersion get 410 Expired (compactWatchHistory). */
  private compactedBelow = 0;
  private readonly watchers = new Set<{ deliver: (e: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; rv: number }) => void; end: () => void }>();
  private uidSeq = 0;

  // ---- seeding and inspection -------------------------------------------------------------

  /** Stores an object as given (status included), filling uid and resourceVersion. */
  add<T extends KubeObject>(obj: T): T {
    const copy = structuredClone(obj);
    copy.metadata.uid ??= this.newUid();
    if (!CLUSTER_SCOPED.has(copy.kind ?? '')) copy.metadata.namespace ??= 'default';
    this.write(copy);
    return structuredClone(copy);
  }

  /** The stored object, or undefined. */
  peek<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): T | undefined {
    const o = this.objects.get(keyOf(apiVersion, kind, namespace, name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  /** A stored node. */
  node(name: string): Node | undefined {
    return this.peek<Node>('v1', 'Node', name);
  }

  /** A stored pod. */
  pod(namespace: string, name: string): Pod | undefined {
    return this.peek<Pod>('v1', 'Pod', name, namespace);
  }

  /** All stored pods. */
  allPods(): Pod[] {
    return this.list<Pod>('v1', 'Pod');
  }

  /** Changes a stored object in place (bumps its resourceVersion), as another writer would. */
  mutate<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace: string | undefined, fn: (o: T) => void): void {
    const o = this.objects.get(keyOf(apiVersion, kind, namespace, name));
    if (!o) throw new Error(`fake: no ${kind} ${namespace ?? ''}/${name}`);
    fn(o as T);
    this.write(o);
  }

  /** Removes a terminating pod now; with `replace`, a new pod (new UID) takes its name, as StatefulSets do. */
  finishTermination(namespace: string, name: string, opts: { replace?: boolean } = {}): void {
    const k = keyOf('v1', 'Pod', namespace, name);
    const old = this.objects.get(k);
    this.remove(k);
    this.getsWhileTerminating.delete(k);
    if (opts.replace && old) {
      const fresh = structuredClone(old);
      delete fresh.metadata.deletionTimestamp;
      fresh.metadata.uid = this.newUid();
      this.write(fresh);
    }
  }

  // ---- failure injection ------------------------------------------------------------------

  /** Runs `fn` before the next `times` calls of `method` (it may throw, or change the store). */
  before(method: keyof ClusterClient, fn: Hook, times = 1): void {
    const list = this.hooks.get(method) ?? [];
    list.push({ fn, remaining: times });
    this.hooks.set(method, list);
  }

  /** Makes the next `times` calls of `method` throw `error`. */
  failNext(method: keyof ClusterClient, error: Error, times = 1): void {
    this.before(
      method,
      () => {
        throw error;
      },
      times,
    );
  }

  /** Answers the next `times` evictions (of pods matching `pod` "ns/name", or any) with `result`. */
  overrideEviction(result: EvictionResult, opts: { times?: number; pod?: string } = {}): void {
    this.evictionOverrides.push({ match: (ns, name) => !opts.pod || opts.pod === `${ns}/${name}`, result, remaining: opts.times ?? 1 });
  }

  /** Calls of one method. */
  callsOf(method: keyof ClusterClient): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  // ---- ClusterClient ----------------------------------------------------------------------

  async getNode(name: string): Promise<Node> {
    await this.enter('getNode', name);
    return this.get<Node>('v1', 'Node', undefined, name, 'nodes');
  }

  async listNodes(opts: { labelSelector?: string | undefined } = {}): Promise<Node[]> {
    await this.enter('listNodes', opts);
    return this.list<Node>('v1', 'Node').filter((n) => matchesSelector(opts.labelSelector, n.metadata.labels ?? {}));
  }

  async patchNode(name: string, patch: MergePatch, opts: { resourceVersion?: string | undefined } = {}): Promise<Node> {
    await this.enter('patchNode', name, patch, opts);
    const current = this.get<Node>('v1', 'Node', undefined, name, 'nodes');
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== current.metadata.resourceVersion) throw conflictError('nodes', name);
    const next = applyMergePatch(current, patch) as Node;
    next.metadata = { ...next.metadata, name, uid: current.metadata.uid };
    this.write(next);
    return structuredClone(next);
  }

  async listPods(query: PodQuery = {}): Promise<Pod[]> {
    await this.enter('listPods', query);
    return this.list<Pod>('v1', 'Pod').filter(
      (p) =>
        (!query.namespace || p.metadata.namespace === query.namespace) &&
        matchesSelector(query.labelSelector, p.metadata.labels ?? {}) &&
        matchesSelector(query.fieldSelector, podFields(p)),
    );
  }

  async getPod(namespace: string, name: string): Promise<Pod> {
    await this.enter('getPod', namespace, name);
    const pod = this.get<Pod>('v1', 'Pod', namespace, name, 'pods');
    this.progressTermination(pod);
    return this.get<Pod>('v1', 'Pod', namespace, name, 'pods');
  }

  async deletePod(namespace: string, name: string, opts: DeleteOptions = {}): Promise<DeleteOutcome> {
    await this.enter('deletePod', namespace, name, opts);
    const pod: Pod | undefined = this.objects.get(keyOf('v1', 'Pod', namespace, name));
    if (!pod) return 'notFound';
    if (opts.uid && opts.uid !== pod.metadata.uid) {
      throw apiError(409, 'Conflict', `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    this.terminate(pod);
    return 'deleted';
  }

  async evictPod(namespace: string, name: string, opts: { gracePeriodSeconds?: number | undefined } = {}): Promise<EvictionResult> {
    await this.enter('evictPod', namespace, name, opts);
    const override = this.evictionOverrides.find((o) => o.remaining > 0 && o.match(namespace, name));
    if (override) {
      override.remaining--;
      return structuredClone(override.result);
    }
    const pod: Pod | undefined = this.objects.get(keyOf('v1', 'Pod', namespace, name));
    if (!pod) return { outcome: 'notFound' };
    if (pod.metadata.deletionTimestamp) return { outcome: 'evicted' };
    const pdbs = this.list<PodDisruptionBudget>('policy/v1', 'PodDisruptionBudget').filter(
      (b) => b.metadata.namespace === namespace && matchesLabelSelector(b.spec?.selector, pod.metadata.labels),
    );
    if (pdbs.length > 1) {
      return { outcome: 'failed', code: 500, reason: 'InternalError', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' };
    }
    const pdb = pdbs[0];
    if (pdb) {
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      if (allowed <= 0) {
        const healthy = pdb.status?.currentHealthy ?? 0;
        return {
          outcome: 'blockedByPdb',
          message: "Cannot evict pod as it would violate the pod's disruption budget.",
          causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? healthy} healthy pods and has ${healthy} currently` }],
        };
      }
      this.mutate<PodDisruptionBudget>('policy/v1', 'PodDisruptionBudget', pdb.metadata.name ?? '', namespace, (b) => {
        b.status = { ...(b.status ?? {}), disruptionsAllowed: allowed - 1 };
      });
    }
    this.terminate(pod);
    return { outcome: 'evicted' };
  }

  async getWorkload<K extends WorkloadKind>(kind: K, namespace: string, name: string): Promise<WorkloadKinds[K]> {
    await this.enter('getWorkload', kind, namespace, name);
    return this.get<WorkloadKinds[K]>(WORKLOAD_API, kind, namespace, name, `${kind.toLowerCase()}s.apps`);
  }

  async patchWorkload<K extends WorkloadKind>(kind: K, namespace: string, name: string, patch: WorkloadPatch): Promise<WorkloadKinds[K]> {
    await this.enter('patchWorkload', kind, namespace, name, patch);
    const current = this.get<WorkloadKinds[K]>(WORKLOAD_API, kind, namespace, name, `${kind.toLowerCase()}s.apps`);
    // Strategic merge is treated as a merge patch here; tests that need list merging use the simulator.
    const next = (patch.type === 'json' ? applyJsonPatch(current, patch.body) : applyMergePatch(current, patch.body)) as WorkloadKinds[K];
    if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    this.write(next);
    return structuredClone(next);
  }

  async listPodDisruptionBudgets(namespace?: string): Promise<PodDisruptionBudget[]> {
    await this.enter('listPodDisruptionBudgets', namespace);
    return this.list<PodDisruptionBudget>('policy/v1', 'PodDisruptionBudget').filter((b) => !namespace || b.metadata.namespace === namespace);
  }

  async applyObject(obj: KubeObject): Promise<KubeObject> {
    await this.enter('applyObject', obj);
    const ref = this.refOf(obj);
    this.assertServed(ref.apiVersion, ref.kind);
    const k = keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const existing = this.objects.get(k);
    const next = structuredClone(obj);
    next.metadata = { ...next.metadata, uid: existing?.metadata.uid ?? this.newUid(), ...(ref.namespace ? { namespace: ref.namespace } : {}) };
    if (existing && 'status' in existing && !('status' in next)) next.status = existing.status;
    this.write(next);
    return structuredClone(next);
  }

  /** SelfSubjectAccessReviews answer allowed: false for these "verb resource" pairs (e.g. "patch nodes"). */
  readonly deniedAccess = new Set<string>();

  async createObject(obj: KubeObject): Promise<KubeObject> {
    await this.enter('createObject', obj);
    if (obj.kind === 'SelfSubjectAccessReview') {
      const a = (obj as { spec?: { resourceAttributes?: { verb?: string; resource?: string; subresource?: string } } }).spec?.resourceAttributes ?? {};
      const what = `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
      return { ...structuredClone(obj), status: { allowed: !this.deniedAccess.has(what) } };
    }
    const ref = this.refOf(obj);
    this.assertServed(ref.apiVersion, ref.kind);
    if (this.objects.has(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name))) throw apiError(409, 'AlreadyExists', `${ref.kind.toLowerCase()}s "${ref.name}" already exists`);
    const next = structuredClone(obj);
    next.metadata = { ...next.metadata, uid: this.newUid(), ...(ref.namespace ? { namespace: ref.namespace } : {}) };
    this.write(next);
    return structuredClone(next);
  }

  async getObject(ref: ObjectRef): Promise<KubeObject> {
    await this.enter('getObject', ref);
    this.assertServed(ref.apiVersion, ref.kind);
    return this.get(ref.apiVersion, ref.kind, this.namespaceOf(ref.kind, ref.namespace), ref.name, ref.kind.toLowerCase());
  }

  async listObjects(kind: KindRef, query: ObjectQuery = {}): Promise<KubeObject[]> {
    await this.enter('listObjects', kind, query);
    this.assertServed(kind.apiVersion, kind.kind);
    return this.list(kind.apiVersion, kind.kind).filter(
      (o) => (!query.namespace || o.metadata.namespace === query.namespace) && matchesSelector(query.labelSelector, o.metadata.labels ?? {}),
    );
  }

  async listWithVersion(kind: KindRef, query: ObjectQuery = {}): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    await this.enter('listWithVersion', kind, query);
    this.assertServed(kind.apiVersion, kind.kind);
    return { items: this.list(kind.apiVersion, kind.kind).filter((o) => this.inQuery(o, query)), resourceVersion: String(this.rv) };
  }

  async watch(kind: KindRef, query: WatchQuery, onEvent: (event: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    await this.enter('watch', kind, query);
    this.assertServed(kind.apiVersion, kind.kind);
    const from = Number(query.resourceVersion);
    if (from < this.compactedBelow) throw new KubeApiError({ code: 410, reason: 'Expired', message: `too old resource version: ${query.resourceVersion} (${this.compactedBelow})`, causes: [] }, 'watch');
    const matches = (e: { object: KubeObject }) => e.object.apiVersion === kind.apiVersion && e.object.kind === kind.kind && this.inQuery(e.object, query);
    await new Promise<void>((resolve) => {
      const w = {
        deliver: (e: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; rv: number }) => {
          if (e.rv > from && matches(e)) onEvent({ type: e.type, object: structuredClone(e.object) });
        },
        end: () => {
          this.watchers.delete(w);
          signal?.removeEventListener('abort', w.end);
          resolve();
        },
      };
      for (const e of this.history) w.deliver(e);
      if (signal?.aborted) return w.end();
      this.watchers.add(w);
      signal?.addEventListener('abort', w.end, { once: true });
    });
  }

  /** Ends every open watch, as a dropped connection or the server's watch timeout does. */
  cutWatches(): void {
    for (const w of [...this.watchers]) w.end();
  }

  /** Forgets the watch history: a watch from a resourceVersion older than the current one now gets 410 Expired. */
  compactWatchHistory(): void {
    this.compactedBelow = this.rv;
    this.history.length = 0;
  }

  /** Open watches. */
  get openWatches(): number {
    return this.watchers.size;
  }

  private inQuery(o: KubeObject, query: ObjectQuery): boolean {
    const fields = o.kind === 'Pod' ? podFields(o) : { 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '' };
    return (!query.namespace || o.metadata.namespace === query.namespace) && matchesSelector(query.labelSelector, o.metadata.labels ?? {}) && matchesSelector(query.fieldSelector, fields);
  }

  async patchObject(ref: ObjectRef, patch: WorkloadPatch): Promise<KubeObject> {
    await this.enter('patchObject', ref, patch);
    this.assertServed(ref.apiVersion, ref.kind);
    const current = this.get(ref.apiVersion, ref.kind, this.namespaceOf(ref.kind, ref.namespace), ref.name, ref.kind.toLowerCase());
    // A resourceVersion in a merge patch is a precondition, as on the API server.
    const wanted = patch.type !== 'json' ? (patch.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion : undefined;
    if (wanted !== undefined && wanted !== current.metadata.resourceVersion) throw conflictError(`${ref.kind.toLowerCase()}s`, ref.name);
    const next = (patch.type === 'json' ? applyJsonPatch(current, patch.body) : applyMergePatch(current, patch.body)) as KubeObject;
    if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    this.write(next);
    return structuredClone(next);
  }

  async servesKind(kind: KindRef): Promise<boolean> {
    await this.enter('servesKind', kind);
    try {
      this.assertServed(kind.apiVersion, kind.kind);
      return true;
    } catch {
      return false;
    }
  }

  async deleteObject(ref: ObjectRef, opts: DeleteOptions = {}): Promise<DeleteOutcome> {
    await this.enter('deleteObject', ref, opts);
    this.assertServed(ref.apiVersion, ref.kind);
    return this.remove(keyOf(ref.apiVersion, ref.kind, this.namespaceOf(ref.kind, ref.namespace), ref.name)) ? 'deleted' : 'notFound';
  }

  async getCustomResourceDefinition(name: string): Promise<CustomResourceDefinition> {
    await this.enter('getCustomResourceDefinition', name);
    const crd = this.get<CustomResourceDefinition>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, name, 'customresourcedefinitions.apiextensions.k8s.io');
    const seen = (this.crdGets.get(name) ?? 0) + 1;
    this.crdGets.set(name, seen);
    if (seen > this.crdEstablishAfterGets && !crdIsEstablished(crd)) {
      this.mutate<CustomResourceDefinition>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', name, undefined, (c) => {
        c.status = { ...(c.status ?? {}), conditions: [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }] };
      });
      return this.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, name, 'customresourcedefinitions.apiextensions.k8s.io');
    }
    return crd;
  }

  async proxyPodGet(namespace: string, pod: string, port: number, path: string, opts: ProxyGetOptions = {}): Promise<ProxyResponse> {
    await this.enter('proxyPodGet', namespace, pod, port, path, opts);
    return this.proxyHandler(namespace, pod, port, path, opts.query ?? {});
  }

  async hasPodEviction(): Promise<boolean> {
    await this.enter('hasPodEviction');
    return this.podEvictionSupported;
  }

  /** What /version answers. */
  version: ServerVersion = { major: '1', minor: '35', gitVersion: 'v1.35.0-fake' };

  async serverVersion(): Promise<ServerVersion> {
    await this.enter('serverVersion');
    return { ...this.version };
  }

  async resourceOf(kind: KindRef): Promise<{ group: string; resource: string; namespaced: boolean }> {
    await this.enter('resourceOf', kind);
    this.assertServed(kind.apiVersion, kind.kind);
    const k = kind.kind.toLowerCase();
    const resource = k.endsWith('y') ? `${k.slice(0, -1)}ies` : k.endsWith('s') ? `${k}es` : `${k}s`;
    return { group: kind.apiVersion.includes('/') ? kind.apiVersion.split('/')[0]! : '', resource, namespaced: !CLUSTER_SCOPED.has(kind.kind) };
  }

  // ---- internals --------------------------------------------------------------------------

  /** Records the call, runs an injected hook, and yields once, as a network round trip would. */
  private async enter(method: keyof ClusterClient, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, args: structuredClone(args) });
    const hook = this.hooks.get(method)?.find((h) => h.remaining > 0);
    if (hook) {
      hook.remaining--;
      hook.fn(...args);
    }
    await Promise.resolve();
  }

  private get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, resource: string): T {
    const o = this.objects.get(keyOf(apiVersion, kind, namespace, name));
    if (!o) throw notFoundError(resource, name);
    return structuredClone(o) as T;
  }

  private list<T extends KubeObject>(apiVersion: string, kind: string): T[] {
    const prefix = `${apiVersion}|${kind}|`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o) as T);
  }

  private write(o: KubeObject): void {
    o.metadata.resourceVersion = String(++this.rv);
    const key = keyOf(o.apiVersion ?? '', o.kind ?? '', o.metadata.namespace, o.metadata.name ?? '');
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.objects.set(key, structuredClone(o));
    this.record(type, o);
  }

  /** Deletes a stored object (a DELETED event for watchers); false when there was none. */
  private remove(key: string): boolean {
    const o = this.objects.get(key);
    if (!o) return false;
    this.objects.delete(key);
    const gone = structuredClone(o);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', gone);
    return true;
  }

  private record(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject): void {
    const event = { type, object: structuredClone(o), rv: Number(o.metadata.resourceVersion) };
    this.history.push(event);
    for (const w of this.watchers) w.deliver(event);
  }

  private terminate(pod: Pod): void {
    if (this.podTermination === 'immediate') {
      this.remove(keyOf('v1', 'Pod', pod.metadata.namespace, pod.metadata.name ?? ''));
      return;
    }
    this.mutate<Pod>('v1', 'Pod', pod.metadata.name ?? '', pod.metadata.namespace, (p) => {
      p.metadata.deletionTimestamp ??= new Date().toISOString();
    });
  }

  private progressTermination(pod: Pod): void {
    const t = this.podTermination;
    if (!pod.metadata.deletionTimestamp || typeof t !== 'object') return;
    const k = keyOf('v1', 'Pod', pod.metadata.namespace, pod.metadata.name ?? '');
    const seen = (this.getsWhileTerminating.get(k) ?? 0) + 1;
    this.getsWhileTerminating.set(k, seen);
    if (seen >= t.afterGets) this.finishTermination(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  }

  private refOf(obj: KubeObject): ObjectRef {
    if (!obj.apiVersion || !obj.kind || !obj.metadata.name) throw apiError(400, 'BadRequest', 'apiVersion, kind and metadata.name are required');
    return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: this.namespaceOf(obj.kind, obj.metadata.namespace) };
  }

  private namespaceOf(kind: string, namespace: string | undefined): string | undefined {
    return CLUSTER_SCOPED.has(kind) ? undefined : (namespace ?? 'default');
  }

  /** Custom kinds are served only once a matching CRD is Established, as on a real server. */
  private assertServed(apiVersion: string, kind: string): void {
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
    if (BUILTIN_GROUPS.has(group)) return;
    const crds = this.list<CustomResourceDefinition>('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
    if (!crds.some((c) => c.spec?.group === group && c.spec.names?.kind === kind && crdIsEstablished(c))) throw new NoKindMatchError(apiVersion, kind);
  }

  private newUid(): string {
    return `uid-${++this.uidSeq}`;
  }
}

function keyOf(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${apiVersion}|${kind}|${CLUSTER_SCOPED.has(kind) ? '' : (namespace ?? '')}|${name}`;
}

function podFields(p: Pod): Record<string, string> {
  return {
    'spec.nodeName': p.spec?.nodeName ?? '',
    'metadata.name': p.metadata.name ?? '',
    'metadata.namespace': p.metadata.namespace ?? '',
    'status.phase': p.status?.phase ?? '',
  };
}

function crdIsEstablished(c: CustomResourceDefinition): boolean {
  return (c.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True');
}
