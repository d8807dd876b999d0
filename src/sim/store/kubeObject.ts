/** Loose Kubernetes object shapes used inside the simulator (the wire format, not client-node's models). */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. Fields beyond apiVersion/kind/metadata are left untyped on purpose. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

/** A watch event as the API server streams it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** Resource key, e.g. "pods" or "apps/daemonsets". */
  resource: string;
  object: KubeObject;
  /** The object before a MODIFIED change (lets filtered watches turn it into ADDED/DELETED). */
  oldObject?: KubeObject;
}

/** Deep copy through JSON: the store never shares objects with callers. */
export function cloneObject<T>(value: T): T {
  return structuredClone(value);
}
