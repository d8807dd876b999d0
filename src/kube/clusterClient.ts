/**
 * The narrow interface the rest of the product uses to talk to a cluster. The real
 * implementation (cluster.ts) speaks HTTP to an API server; tests use an in-memory fake
 * (src/ops/testing/fakeCluster.ts). Errors are the typed ones from kubeErrors.ts.
 */
import type { StatusCause } from './kubeErrors.js';
import type {
  CustomResourceDefinition,
  KubeObject,
  Node,
  ObjectRef,
  Pod,
  PodDisruptionBudget,
  WorkloadKind,
  WorkloadKinds,
} from './kubeTypes.js';

/** An RFC 7386 JSON merge patch: objects merge, `null` deletes a key, arrays replace. */
export type MergePatch = { [key: string]: unknown };

/** One RFC 6902 JSON Patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** A patch for a workload: merge (default), strategic merge (built-in kinds only) or JSON Patch. */
export type WorkloadPatch =
  | { type: 'merge'; body: MergePatch }
  | { type: 'strategic'; body: MergePatch }
  | { type: 'json'; body: JsonPatchOperation[] };

/** A kind, as apiVersion + kind (resolved to a resource through discovery). */
export interface KindRef {
  apiVersion: string;
  kind: string;
}

/** Which objects to list; all namespaces when `namespace` is omitted. */
export interface ObjectQuery {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

/** A watch from a list's resourceVersion. */
export interface WatchQuery extends ObjectQuery {
  resourceVersion: string;
  /** The server ends the watch after this long (kube-apiserver's timeoutSeconds). */
  timeoutSeconds?: number | undefined;
}

/** One watch event; BOOKMARKs carry only a resourceVersion. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KubeObject;
}

/** Which pods to list; all namespaces when `namespace` is omitted. */
export interface PodQuery {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** e.g. `spec.nodeName=node-1` */
  fieldSelector?: string | undefined;
}

/** What an eviction request came to, as data: callers decide what to retry. */
export type EvictionResult =
  /** The API server accepted the eviction; the pod is being deleted. */
  | { outcome: 'evicted' }
  /** The pod no longer exists. */
  | { outcome: 'notFound' }
  /** 429 because a PodDisruptionBudget allows no disruption now. */
  | { outcome: 'blockedByPdb'; message: string; causes: StatusCause[] }
  /** 429 for another reason (rate limiting): retry later. */
  | { outcome: 'tooManyRequests'; message: string; retryAfterSeconds?: number | undefined }
  /** 403 NamespaceTerminating: the namespace is being deleted. */
  | { outcome: 'namespaceTerminating'; message: string }
  /** Any other API error (500 when several PDBs match the pod, 403, …). */
  | { outcome: 'failed'; code: number; reason: string; message: string };

/** DELETE options. */
export interface DeleteOptions {
  /** Seconds to wait before killing; omitted = the object's default. */
  gracePeriodSeconds?: number | undefined;
  /** Delete only if the object still has this UID (409 Conflict otherwise). */
  uid?: string | undefined;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' | undefined;
}

/** Whether a DELETE removed something. */
export type DeleteOutcome = 'deleted' | 'notFound';

/** A pod proxy answer: whatever the pod (or the API server on its behalf) returned. */
export interface ProxyResponse {
  status: number;
  body: string;
  contentType: string | undefined;
}

/** The API server's /version. */
export interface ServerVersion {
  major: string;
  minor: string;
  gitVersion: string;
}

/** Options for one proxied GET. */
export interface ProxyGetOptions {
  query?: Record<string, string> | undefined;
  timeoutMs?: number | undefined;
}

/** Everything the engine and its primitives need from a cluster. */
export interface ClusterClient {
  /** Server, context and user for messages (never credentials). */
  readonly target: { server: string; context: string; user: string };

  getNode(name: string): Promise<Node>;
  listNodes(opts?: { labelSelector?: string | undefined }): Promise<Node[]>;
  /**
   * Merge-patches a node. With `resourceVersion` the write only succeeds if the node has not
   * changed since it was read (409 Conflict otherwise).
   */
  patchNode(name: string, patch: MergePatch, opts?: { resourceVersion?: string | undefined }): Promise<Node>;

  /** Lists pods (all pages). */
  listPods(query?: PodQuery): Promise<Pod[]>;
  getPod(namespace: string, name: string): Promise<Pod>;
  deletePod(namespace: string, name: string, opts?: DeleteOptions): Promise<DeleteOutcome>;
  /** POSTs a policy/v1 Eviction; the result is data, only transport failures throw. */
  evictPod(namespace: string, name: string, opts?: { gracePeriodSeconds?: number | undefined }): Promise<EvictionResult>;

  getWorkload<K extends WorkloadKind>(kind: K, namespace: string, name: string): Promise<WorkloadKinds[K]>;
  patchWorkload<K extends WorkloadKind>(kind: K, namespace: string, name: string, patch: WorkloadPatch): Promise<WorkloadKinds[K]>;

  /** PodDisruptionBudgets in a namespace, or in all namespaces. */
  listPodDisruptionBudgets(namespace?: string): Promise<PodDisruptionBudget[]>;

  /** Server-side apply (fieldManager cni-migration, force); creates or updates. Returns the stored object. */
  applyObject(obj: KubeObject): Promise<KubeObject>;
  /** Reads any object (kind resolved by discovery). */
  getObject(ref: ObjectRef): Promise<KubeObject>;
  /** Lists objects of any kind (all pages); NoKindMatchError when the server does not serve the kind. */
  listObjects(kind: KindRef, query?: ObjectQuery): Promise<KubeObject[]>;
  /** A list with the resourceVersion a watch can start from. */
  listWithVersion(kind: KindRef, query?: ObjectQuery): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /**
   * Watches from `query.resourceVersion`, calling `onEvent` for each event, until the server ends
   * the stream (resolves: a cut or its timeout) or `signal` aborts (resolves). An ERROR event
   * rejects with its status as KubeApiError (410 Expired: the resourceVersion is too old; re-list).
   */
  watch(kind: KindRef, query: WatchQuery, onEvent: (event: WatchEvent) => void, signal?: AbortSignal): Promise<void>;
  /** Creates an object (POST); 409 AlreadyExists when it exists — unlike applyObject, never takes it over. */
  createObject(obj: KubeObject): Promise<KubeObject>;
  /** Patches any object (kind resolved by discovery); strategic merge only for built-in kinds. */
  patchObject(ref: ObjectRef, patch: WorkloadPatch): Promise<KubeObject>;
  /** Whether the server serves the kind now (discovery, refreshed on a miss). */
  servesKind(kind: KindRef): Promise<boolean>;
  deleteObject(ref: ObjectRef, opts?: DeleteOptions): Promise<DeleteOutcome>;
  getCustomResourceDefinition(name: string): Promise<CustomResourceDefinition>;

  /** GET /api/v1/namespaces/{ns}/pods/{name}:{port}/proxy/{path}; non-2xx answers are returned, not thrown. */
  proxyPodGet(namespace: string, pod: string, port: number, path: string, opts?: ProxyGetOptions): Promise<ProxyResponse>;

  /** Whether the server offers policy/v1 pods/eviction (kubectl falls back to DELETE otherwise). */
  hasPodEviction(): Promise<boolean>;

  /** GET /version. */
  serverVersion(): Promise<ServerVersion>;
  /** The API group and resource plural of a kind (discovery); NoKindMatchError when not served. */
  resourceOf(kind: KindRef): Promise<{ group: string; resource: string; namespaced: boolean }>;
}
