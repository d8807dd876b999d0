import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { labelSelectorMatcher } from '../store/labelSelector.js';
import { createAdmitted } from './objectCreation.js';
import { applyClaims, claimCandidates, controlledObjects, controllerRefOf, newControllerRef, planClaims } from './ownerReferences.js';
import { deletePod } from './podDeletion.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable } from './podStatus.js';
import { QueuedController, keyOf, keysOf, splitKey, type WatchMapping } from './queuedController.js';
import { rankPodsForDeletion } from './replicaSetPodRanking.js';
import { jsonEqual } from './stableJson.js';

const REPLICASETS = 'apps/replicasets';

/** The pod a ReplicaSet creates: its template, a controlling owner reference, a generated name. */
export function buildReplicaSetPod(rs: KubeObject): KubeObject {
  const template = structuredClone(rs.spec?.template ?? {});
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name ?? ''}-`,
      namespace: rs.metadata.namespace,
      labels: meta.labels ?? {},
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
      ownerReferences: [newControllerRef(rs)],
    },
    spec: template.spec ?? {},
  };
}

/** ReplicaSet status from its active pods (calculateStatus). */
export function replicaSetStatusCounts(rs: KubeObject, pods: readonly KubeObject[], nowMs: number): Record<string, number> {
  const hasTemplateLabels = labelSelectorMatcher({ matchLabels: (rs.spec?.template?.metadata?.labels ?? {}) as Record<string, string> });
  const minReady = Number(rs.spec?.minReadySeconds ?? 0);
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (hasTemplateLabels(p.metadata.labels)) fullyLabeled++;
    if (!isPodReady(p)) continue;
    ready++;
    if (!minReady || isPodAvailable(p, minReady, nowMs)) available++;
  }
  return { replicas: pods.length, fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available };
}

/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas active pods matching
 * the selector (adopting orphans, releasing pods that stopped matching), deletes the surplus in
 * ActivePodsWithRanks order, and keeps status counts.
 */
export class ReplicaSetController extends QueuedController {
  readonly name = 'replicaset-controller';

  protected watches(): WatchMapping[] {
    return [
      { resource: REPLICASETS, keys: (ev) => [keyOf(ev.object)] },
      { resource: 'pods', keys: (ev) => this.replicaSetsOfPod(ev) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll(REPLICASETS));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const rs = this.ctx.store.peek(REPLICASETS, namespace, name);
    if (!rs) return;
    const active = this.claimPods(rs).filter(isPodActive);
    const deleting = Boolean(rs.metadata.deletionTimestamp);
    const changed = !deleting && this.manageReplicas(rs, active);
    // With no pod written since the claim, its pods are the ones the status counts (a ReplicaSet
    // being deleted releases nothing, so then it may control pods it no longer claims).
    this.updateStatus(rs, changed || deleting ? this.activePods(rs) : active);
  }

  /** The active pods the ReplicaSet controls. */
  private activePods(rs: KubeObject): KubeObject[] {
    return controlledObjects(this.ctx.store, 'pods', rs).filter(isPodActive);
  }

  private claimPods(rs: KubeObject): KubeObject[] {
    const selects = labelSelectorMatcher(rs.spec?.selector);
    const plan = planClaims(rs, claimCandidates(this.ctx.store, 'pods', rs), (p) => selects(p.metadata.labels));
    return applyClaims(this.ctx.store, 'pods', rs, plan);
  }

  /** Creates or deletes pods towards spec.replicas; true when it wrote anything. */
  private manageReplicas(rs: KubeObject, active: KubeObject[]): boolean {
    const diff = active.length - Number(rs.spec?.replicas ?? 1);
    for (let i = 0; i < -diff; i++) createAdmitted(this.ctx.store, 'pods', buildReplicaSetPod(rs));
    if (diff > 0) {
      for (const pod of rankPodsForDeletion(active).slice(0, diff)) deletePod(this.ctx.store, pod);
    }
    return diff !== 0;
  }

  private updateStatus(rs: KubeObject, pods: readonly KubeObject[]): void {
    const uid = rs.metadata.uid;
    const now = Date.now();
    const counts = replicaSetStatusCounts(rs, pods, now);
    this.ctx.store.mutate(REPLICASETS, rs.metadata.namespace, rs.metadata.name ?? '', (o) => {
      if (o.metadata.uid !== uid) return false;
      const next = { ...(o.status ?? {}), ...counts, observedGeneration: o.metadata.generation ?? 1 };
      if (jsonEqual(next, o.status)) return false;
      o.status = next;
    }, { part: 'status' });
    const waits = pods.map((p) => msUntilAvailable(p, Number(rs.spec?.minReadySeconds ?? 0), now)).filter((w): w is number => w !== undefined);
    if (waits.length) this.queue.addAfter(keyOf(rs), Math.min(...waits));
  }

  private replicaSetsOfPod(ev: WatchEvent): string[] {
    const pod = ev.object;
    const ns = pod.metadata.namespace;
    const ref = controllerRefOf(pod);
    if (ref) return ref.kind === 'ReplicaSet' ? [`${ns}/${ref.name}`] : [];
    if (ev.type === 'DELETED') return [];
    return keysOf(this.ctx.store.peekInNamespace(REPLICASETS, ns ?? ''), (rs) => labelSelectorMatcher(rs.spec?.selector)(pod.metadata.labels));
  }
}
