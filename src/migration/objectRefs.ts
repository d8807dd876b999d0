import type { KubeObject, ObjectRef } from '../kube/kubeTypes.js';

// Typed references to the objects a plan touches: plans carry these values, never strings that
// would have to be parsed back.

/** A DaemonSet by namespace and name. */
export function daemonSetRef(namespace: string, name: string): ObjectRef {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name };
}

/** The reference of an object (from a manifest or the API). */
export function refOfObject(o: KubeObject): ObjectRef {
  return { apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', name: o.metadata.name ?? '', ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) };
}

/** "DaemonSet kube-system/canal", for messages and plans. */
export function describeRef(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** kubectl's short form, "daemonset/canal -n kube-system" style without the flag: "daemonset kube-system/canal". */
export function shortRef(r: ObjectRef): string {
  return `${r.kind.toLowerCase()} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** Whether two references name the same object (apiVersion ignored: one object, several versions). */
export function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return a.kind === b.kind && (a.namespace ?? '') === (b.namespace ?? '') && a.name === b.name;
}
