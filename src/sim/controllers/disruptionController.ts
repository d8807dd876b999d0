import type { ResourceRegistry } from '../api/resourceRegistry.js';
import { qualifiedResource } from '../api/apiError.js';
import { resourceKey } from '../api/resourceRegistry.js';
import type { KubeObject, OwnerReference, WatchEvent } from '../store/kubeObject.js';
import { labelSelectorRequirements } from '../store/labelSelector.js';
import type { ObjectStore } from '../store/objectStore.js';
import { controllerRefOf } from './ownerReferences.js';
import { computePdbStatus, countHealthyPods, liveDisruptedPods, pdbTargets, withDisruptionAllowedCondition } from './pdbStatus.js';
import { QueuedController, keyOf, keysOf, splitKey, type WatchMapping } from './queuedController.js';
import { jsonEqual } from './stableJson.js';

/** The eviction subresource's decision and bookkeeping, next to the controller whose status they read. */
export { decideEviction, recordEviction, type EvictionDecision } from './evictionDecision.js';

const PDBS = 'policy/poddisruptionbudgets';

/**
 * The scale of the controller owning a pod (the disruption controller's finders): a Deployment's
 * replicas for pods of its ReplicaSets, otherwise the owner's replicas if its kind has a scale
 * subresource. Undefined when the owner is gone; an Error when its kind cannot be scaled.
 */
function ownerScale(store: ObjectStore, registry: ResourceRegistry, namespace: string | undefined, ref: OwnerReference): { uid: string; replicas: number } | undefined {
  if (ref.kind === 'ReplicaSet') {
    const rs = store.peek('apps/replicasets', namespace, ref.name);
    const owner = rs?.metadata.uid === ref.uid ? controllerRefOf(rs) : undefined;
    if (owner?.kind === 'Deployment') {
      const d = store.peek('apps/deployments', namespace, owner.name);
      if (d?.metadata.uid === owner.uid) return { uid: owner.uid, replicas: Number(d.spec?.replicas ?? 1) };
    }
  }
  const type = registry.lookupKind(ref.apiVersion, ref.kind);
  if (!type) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
  if (!type.subresources.includes('scale')) throw new Error(`${qualifiedResource(type.group, type.plural)} does not implement the scale subresource`);
  const obj = store.peek(resourceKey(type.group, type.plural), namespace, ref.name);
  return obj?.metadata.uid === ref.uid ? { uid: ref.uid, replicas: Number(obj.spec?.replicas ?? 0) } : undefined;
}

/** getExpectedScale: the sum of the scales of the controllers of the pods (pods without one are left out). */
export function expectedScale(store: ObjectStore, registry: ResourceRegistry, pods: readonly KubeObject[]): number {
  const scales = new Map<string, number>();
  for (const pod of pods) {
    const ref = controllerRefOf(pod);
    if (!ref || scales.has(ref.uid)) continue;
    const found = ownerScale(store, registry, pod.metadata.namespace, ref);
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name ?? ''}"`);
    scales.set(ref.uid, found.replicas);
  }
  return [...scales.values()].reduce((a, b) => a + b, 0);
}

/**
 * The disruption controller (pkg/controller/disruption): keeps each PodDisruptionBudget's status —
 * expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, observedGeneration, the
 * DisruptionAllowed condition — and drops disruptedPods entries once the pods are being deleted or
 * the entries expire. A budget whose pods' controllers cannot be found fails safe (no disruptions,
 * reason SyncFailed).
 */
export class DisruptionController extends QueuedController {
  readonly name = 'disruption-controller';

  protected watches(): WatchMapping[] {
    const inNamespace = (ev: WatchEvent) => keysOf(this.ctx.store.peekInNamespace(PDBS, ev.object.metadata.namespace ?? ''));
    return [
      { resource: PDBS, keys: (ev) => (ev.type === 'DELETED' ? [] : [keyOf(ev.object)]) },
      { resource: 'pods', keys: inNamespace },
      { resource: 'apps/deployments', keys: inNamespace },
      { resource: 'apps/replicasets', keys: inNamespace },
      { resource: 'apps/statefulsets', keys: inNamespace },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll(PDBS));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const pdb = this.ctx.store.peek(PDBS, namespace, name);
    if (!pdb) return;
    const selector = labelSelectorRequirements(pdb.spec?.selector);
    const pods = selector ? this.ctx.store.selectByLabels('pods', namespace ?? '', selector) : [];
    let targets;
    try {
      targets = pdbTargets(pdb, pods.length, () => expectedScale(this.ctx.store, this.ctx.registry, pods));
    } catch (err) {
      this.failSafe(pdb, err instanceof Error ? err.message : String(err));
      return;
    }
    const now = Date.now();
    const { disrupted, recheckAtMs } = liveDisruptedPods(pods, pdb.status?.disruptedPods, now);
    this.writeStatus(pdb, computePdbStatus(pdb, targets, countHealthyPods(pods, disrupted), disrupted));
    if (recheckAtMs !== undefined) this.queue.addAfter(key, recheckAtMs - now + 1);
  }

  private failSafe(pdb: KubeObject, message: string): void {
    const status = { ...(pdb.status ?? {}), disruptionsAllowed: 0 };
    status.conditions = withDisruptionAllowedCondition(pdb.status?.conditions, false, Number(pdb.status?.observedGeneration ?? 0), { reason: 'SyncFailed', message });
    this.writeStatus(pdb, status);
  }

  private writeStatus(pdb: KubeObject, status: Record<string, unknown>): void {
    const uid = pdb.metadata.uid;
    this.ctx.store.mutate(PDBS, pdb.metadata.namespace, pdb.metadata.name ?? '', (o) => {
      if (o.metadata.uid !== uid || jsonEqual(o.status, status)) return false;
      o.status = status;
    }, { part: 'status' });
  }
}
