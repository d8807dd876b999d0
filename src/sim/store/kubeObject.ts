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

/**
 * Deep copy of a JSON value, so a caller never shares mutable state with the store. Plain objects
 * and arrays are copied by hand (several times faster than structuredClone on Kubernetes objects,
 * which matters at tens of thousands of pods); anything else falls back to structuredClone.
 */
export function cloneObject<T>(value: T): T {
  return copyJson(value) as T;
}

function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyJson((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * Deep-freezes a value in place and returns it. Stored objects are frozen so the store can hand
 * the same object to every reader, watch event and history entry without copying: a reader that
 * tries to change one fails loudly instead of corrupting the store. Frozen parts are skipped, so
 * a new version sharing most of its tree with the previous one costs only its new parts.
 */
export function freezeObject<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) freezeObject((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
