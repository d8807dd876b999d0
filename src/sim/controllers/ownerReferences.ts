import { memoizeFrozen } from '../store/frozenMemo.js';
import type { KubeObject, OwnerReference } from '../store/kubeObject.js';
import { NO_CONTROLLER, type ObjectStore } from '../store/objectStore.js';

/** metav1.GetControllerOf: the owner reference marked controller: true (remembered per stored object). */
export const controllerRefOf: (obj: KubeObject) => OwnerReference | undefined = memoizeFrozen((obj) => obj.metadata.ownerReferences?.find((r) => r.controller === true));

/** metav1.NewControllerRef: a controlling, deletion-blocking reference to owner. */
export function newControllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** What ControllerRefManager.Claim* would do with each candidate, as data. */
export interface ClaimPlan {
  /** Already controlled by the owner and still matching. */
  owned: KubeObject[];
  /** Orphans that match: to adopt. */
  adopt: KubeObject[];
  /** Controlled by the owner but no longer matching: to release. */
  release: KubeObject[];
}

/**
 * The objects an owner's claim looks at: those it controls and the orphans of its namespace, from
 * the store's indexes (read-only). Objects another controller owns are left out, as planClaims
 * would skip them anyway.
 */
export function claimCandidates(store: ObjectStore, resource: string, owner: KubeObject): KubeObject[] {
  return [...controlledObjects(store, resource, owner), ...store.objectsControlledBy(resource, NO_CONTROLLER, owner.metadata.namespace ?? '')];
}

/** The objects of a resource owner controls in its namespace, from the store's index (read-only). */
export function controlledObjects(store: ObjectStore, resource: string, owner: KubeObject): KubeObject[] {
  const uid = owner.metadata.uid;
  return uid ? store.objectsControlledBy(resource, uid, owner.metadata.namespace ?? '') : [];
}

/**
 * Decides adoption and release like controller.ControllerRefManager: an owner being deleted adopts
 * and releases nothing; objects being deleted are never adopted.
 */
export function planClaims(owner: KubeObject, candidates: Iterable<KubeObject>, matches: (o: KubeObject) => boolean): ClaimPlan {
  const plan: ClaimPlan = { owned: [], adopt: [], release: [] };
  const ownerGone = Boolean(owner.metadata.deletionTimestamp);
  for (const obj of candidates) {
    const ref = controllerRefOf(obj);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (matches(obj)) plan.owned.push(obj);
      else if (!ownerGone) plan.release.push(obj);
      continue;
    }
    if (ownerGone || obj.metadata.deletionTimestamp || !matches(obj)) continue;
    plan.adopt.push(obj);
  }
  return plan;
}

/** Applies a claim plan to the store and returns every object the owner now controls (fresh copies). */
export function applyClaims(store: ObjectStore, resource: string, owner: KubeObject, plan: ClaimPlan): KubeObject[] {
  const ownerUid = owner.metadata.uid;
  for (const obj of plan.release) {
    store.mutate(resource, obj.metadata.namespace, obj.metadata.name ?? '', (o) => {
      const refs = o.metadata.ownerReferences ?? [];
      const kept = refs.filter((r) => r.uid !== ownerUid);
      if (kept.length === refs.length) return false;
      if (kept.length) o.metadata.ownerReferences = kept;
      else delete o.metadata.ownerReferences;
    });
  }
  const out = [...plan.owned];
  for (const obj of plan.adopt) {
    const adopted = store.mutate(resource, obj.metadata.namespace, obj.metadata.name ?? '', (o) => {
      if (controllerRefOf(o)) return false;
      o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), newControllerRef(owner)];
    });
    if (adopted && controllerRefOf(adopted)?.uid === ownerUid) out.push(adopted);
  }
  return out;
}
