import { ApiError } from '../api/apiError.js';
import { applyDefaults } from '../api/defaults.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { labelSelectorMatcher } from '../store/labelSelector.js';
import { maxSurge, newRSNewReplicas, planOldScaleDown, rsCounts } from './deploymentRollout.js';
import { applyProgressConditions, calculateStatus, deploymentComplete, deploymentCondition, msToProgressDeadline, newCondition, ProgressReasons, setDeploymentCondition, type DeploymentCondition } from './deploymentStatus.js';
import { createAdmitted } from './objectCreation.js';
import { applyClaims, claimCandidates, controlledObjects, controllerRefOf, newControllerRef, planClaims } from './ownerReferences.js';
import { deleteNow } from './podDeletion.js';
import { isPodTerminal } from './podStatus.js';
import { QueuedController, keyOf, keysOf, splitKey, type WatchMapping } from './queuedController.js';
import { jsonEqual } from './stableJson.js';
import { computeTemplateHash } from './templateHash.js';

const DEPLOYMENTS = 'apps/deployments';
const REPLICASETS = 'apps/replicasets';
/** Label tying a ReplicaSet and its pods to one Deployment template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Annotations the Deployment controller keeps on ReplicaSets and Deployments. */
export const DeploymentAnnotations = {
  revision: 'deployment.kubernetes.io/revision',
  desiredReplicas: 'deployment.kubernetes.io/desired-replicas',
  maxReplicas: 'deployment.kubernetes.io/max-replicas',
} as const;

/**
 * deploymentutil.EqualIgnoreHash: the templates are equal apart from pod-template-hash. Both are
 * compared with API defaults applied, since a Deployment put straight into the store may lack the
 * defaults its ReplicaSet got on creation.
 */
export function templatesEqualIgnoringHash(a: unknown, b: unknown): boolean {
  const normalize = (t: unknown) => {
    const holder: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {}, spec: { template: structuredClone(t ?? {}) } };
    applyDefaults(holder, { creating: false });
    const template = holder.spec.template as { metadata?: { labels?: Record<string, string> } };
    if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    return template;
  };
  return jsonEqual(normalize(a), normalize(b));
}

const revisionOf = (rs: KubeObject) => Number.parseInt(rs.metadata.annotations?.[DeploymentAnnotations.revision] ?? '0', 10) || 0;
const byAge = (a: KubeObject, b: KubeObject) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || String(a.metadata.name).localeCompare(String(b.metadata.name));

/** One sync's working state: the Deployment, its ReplicaSets, and a Progressing condition to record. */
interface DeploymentSync {
  d: KubeObject;
  newRS: KubeObject | undefined;
  oldRSs: KubeObject[];
  /** Conditions to set, in order, before the status is computed. */
  conditions: DeploymentCondition[];
}

/**
 * The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template
 * (`<name>-<pod-template-hash>`), RollingUpdate within maxSurge/maxUnavailable or Recreate, old
 * ReplicaSets scaled down as the new one becomes available, revision history trimmed, and the
 * status and conditions `kubectl rollout status deployment/x` reads.
 */
export class DeploymentController extends QueuedController {
  readonly name = 'deployment-controller';

  protected watches(): WatchMapping[] {
    return [
      { resource: DEPLOYMENTS, keys: (ev) => [keyOf(ev.object)] },
      { resource: REPLICASETS, keys: (ev) => this.deploymentsOfReplicaSet(ev) },
      { resource: 'pods', keys: (ev) => (ev.type === 'DELETED' ? this.deploymentOfPod(ev.object) : []) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll(DEPLOYMENTS));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const d = this.ctx.store.get(DEPLOYMENTS, namespace, name);
    if (!d) return;
    const sel = d.spec?.selector ?? {};
    if (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0) {
      // "This deployment is selecting all pods": Kubernetes only records that it saw the spec.
      this.writeStatus(d, { ...(d.status ?? {}), observedGeneration: d.metadata.generation ?? 1 });
      return;
    }
    const sync = this.findReplicaSets(d, this.claimReplicaSets(d));
    if (d.metadata.deletionTimestamp || d.spec?.paused) this.syncStatus(sync);
    else if (d.spec?.strategy?.type === 'Recreate') this.rolloutRecreate(sync);
    else this.rolloutRolling(sync);
  }

  private claimReplicaSets(d: KubeObject): KubeObject[] {
    const selects = labelSelectorMatcher(d.spec?.selector);
    const plan = planClaims(d, claimCandidates(this.ctx.store, REPLICASETS, d), (rs) => selects(rs.metadata.labels));
    return applyClaims(this.ctx.store, REPLICASETS, d, plan);
  }

  /** Splits ReplicaSets into the one matching the template (if any) and the old ones. */
  private findReplicaSets(d: KubeObject, rsList: KubeObject[]): DeploymentSync {
    const sorted = [...rsList].sort(byAge);
    const newRS = sorted.find((rs) => templatesEqualIgnoringHash(rs.spec?.template, d.spec?.template));
    const paused = pausedCondition(d);
    return { d, newRS, oldRSs: sorted.filter((rs) => rs !== newRS), conditions: paused ? [paused] : [] };
  }

  private rolloutRolling(found: DeploymentSync): void {
    const sync = this.ensureNewReplicaSet(found);
    if (sync.newRS && !this.reconcileNewReplicaSet(sync)) this.reconcileOldReplicaSets(sync);
    this.finish(sync);
  }

  private rolloutRecreate(found: DeploymentSync): void {
    let sync = found;
    const d = sync.d;
    const active = sync.oldRSs.filter((rs) => Number(rs.spec?.replicas ?? 0) > 0);
    if (active.length) {
      for (const rs of active) this.scaleReplicaSet(d, rs, 0);
    } else if (!this.oldPodsRunning(sync)) {
      sync = this.ensureNewReplicaSet(sync);
      if (sync.newRS) this.scaleReplicaSet(d, sync.newRS, Number(d.spec?.replicas ?? 1));
    }
    this.finish(sync);
  }

  /** Scales the new ReplicaSet towards spec.replicas within maxSurge; true when it changed. */
  private reconcileNewReplicaSet(sync: DeploymentSync): boolean {
    const { d, newRS } = sync;
    if (!newRS) return false;
    const want = Number(d.spec?.replicas ?? 1);
    const have = Number(newRS.spec?.replicas ?? 0);
    if (have === want) return false;
    const target = have > want ? want : newRSNewReplicas(d, [...sync.oldRSs, newRS].map(rsCounts), rsCounts(newRS));
    return this.scaleReplicaSet(d, newRS, target);
  }

  private reconcileOldReplicaSets(sync: DeploymentSync): boolean {
    const { d, newRS } = sync;
    if (!newRS) return false;
    const plan = planOldScaleDown(d, sync.oldRSs.map(rsCounts), rsCounts(newRS));
    let changed = false;
    for (const rs of sync.oldRSs) {
      const target = plan.get(rs.metadata.name ?? '');
      if (target !== undefined && this.scaleReplicaSet(d, rs, target)) changed = true;
    }
    return changed;
  }

  /** getNewReplicaSet with createIfNotExisted: finds or creates the template's ReplicaSet and syncs revisions. */
  private ensureNewReplicaSet(sync: DeploymentSync): DeploymentSync {
    const { d } = sync;
    const revision = String(Math.max(0, ...sync.oldRSs.map(revisionOf)) + 1);
    if (sync.newRS) {
      if (revisionOf(sync.newRS) < Number(revision)) this.annotate(REPLICASETS, sync.newRS, { [DeploymentAnnotations.revision]: revision });
      this.annotate(DEPLOYMENTS, d, { [DeploymentAnnotations.revision]: String(Math.max(revisionOf(sync.newRS), Number(revision))) });
      if (deploymentCondition(d.status, 'Progressing') || sync.conditions.length) return sync;
      return { ...sync, conditions: [newCondition('Progressing', 'True', ProgressReasons.foundNewRS, `Found new replica set "${sync.newRS.metadata.name ?? ''}"`)] };
    }
    const created = this.createReplicaSet(sync, revision);
    if (!created) return sync;
    this.annotate(DEPLOYMENTS, d, { [DeploymentAnnotations.revision]: revision });
    const createdCondition = newCondition('Progressing', 'True', ProgressReasons.newRSCreated, `Created new replica set "${created.metadata.name ?? ''}"`);
    return { ...sync, newRS: created, conditions: [...sync.conditions, createdCondition] };
  }

  private createReplicaSet(sync: DeploymentSync, revision: string): KubeObject | undefined {
    const { d } = sync;
    const hash = computeTemplateHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${d.metadata.name ?? ''}-${hash}`;
    const replicas = newRSNewReplicas(d, sync.oldRSs.map(rsCounts), { name, replicas: 0, available: 0, current: 0, createdMs: Date.now() });
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: template.metadata.labels,
        annotations: { [DeploymentAnnotations.revision]: revision, ...this.replicaAnnotations(d) },
        ownerReferences: [newControllerRef(d)],
      },
      spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    try {
      return createAdmitted(this.ctx.store, REPLICASETS, rs);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      const existing = this.ctx.store.get(REPLICASETS, d.metadata.namespace, name);
      if (existing && controllerRefOf(existing)?.uid === d.metadata.uid && templatesEqualIgnoringHash(existing.spec?.template, d.spec?.template)) return existing;
      // A hash collision with someone else's ReplicaSet: bump collisionCount and try again later.
      this.ctx.store.mutate(DEPLOYMENTS, d.metadata.namespace, d.metadata.name ?? '', (o) => {
        o.status = { ...(o.status ?? {}), collisionCount: Number(o.status?.collisionCount ?? 0) + 1 };
      }, { part: 'status' });
      return undefined;
    }
  }

  private replicaAnnotations(d: KubeObject): Record<string, string> {
    const replicas = Number(d.spec?.replicas ?? 1);
    return { [DeploymentAnnotations.desiredReplicas]: String(replicas), [DeploymentAnnotations.maxReplicas]: String(replicas + maxSurge(d)) };
  }

  /** Sets a ReplicaSet's replicas (and the desired/max annotations); true when it changed. */
  private scaleReplicaSet(d: KubeObject, rs: KubeObject, replicas: number): boolean {
    const annotations = this.replicaAnnotations(d);
    let changed = false;
    this.ctx.store.mutate(REPLICASETS, rs.metadata.namespace, rs.metadata.name ?? '', (o) => {
      const sizeChanged = Number(o.spec?.replicas ?? 0) !== replicas;
      const notesChanged = Object.entries(annotations).some(([k, v]) => o.metadata.annotations?.[k] !== v);
      if (!sizeChanged && !notesChanged) return false;
      o.spec.replicas = replicas;
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), ...annotations };
      changed = sizeChanged;
    });
    return changed;
  }

  private annotate(resource: string, obj: KubeObject, annotations: Record<string, string>): void {
    this.ctx.store.mutate(resource, obj.metadata.namespace, obj.metadata.name ?? '', (o) => {
      if (Object.entries(annotations).every(([k, v]) => o.metadata.annotations?.[k] === v)) return false;
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), ...annotations };
    });
  }

  /** oldPodsRunning: Recreate waits until no pod of an old ReplicaSet is left unfinished. */
  private oldPodsRunning(sync: DeploymentSync): boolean {
    if (sync.oldRSs.some((rs) => Number(rs.status?.replicas ?? 0) > 0)) return true;
    return sync.oldRSs.some((rs) => controlledObjects(this.ctx.store, 'pods', rs).some((p) => !isPodTerminal(p)));
  }

  /** Trims old ReplicaSets beyond revisionHistoryLimit (cleanupDeployment) once the rollout is complete, then writes status. */
  private finish(sync: DeploymentSync): void {
    const status = this.syncStatus(sync);
    if (status && deploymentComplete(sync.d, status)) this.cleanupHistory(sync);
  }

  private cleanupHistory(sync: DeploymentSync): void {
    const limit = sync.d.spec?.revisionHistoryLimit;
    if (typeof limit !== 'number') return;
    const olds = sync.oldRSs.map((rs) => this.ctx.store.get(REPLICASETS, rs.metadata.namespace, rs.metadata.name ?? '')).filter((rs): rs is KubeObject => Boolean(rs && !rs.metadata.deletionTimestamp));
    const excess = olds.length - limit;
    if (excess <= 0) return;
    for (const rs of olds.sort((a, b) => revisionOf(a) - revisionOf(b)).slice(0, excess)) {
      const idle = Number(rs.status?.replicas ?? 0) === 0 && Number(rs.spec?.replicas ?? 0) === 0 && Number(rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 1);
      if (idle) deleteNow(this.ctx.store, REPLICASETS, rs);
    }
  }

  /** syncRolloutStatus: computes status from fresh ReplicaSets and writes it when it changed. */
  private syncStatus(sync: DeploymentSync) {
    const fresh = (rs: KubeObject) => this.ctx.store.get(REPLICASETS, rs.metadata.namespace, rs.metadata.name ?? '');
    const all = [...sync.oldRSs, ...(sync.newRS ? [sync.newRS] : [])].map(fresh).filter((rs): rs is KubeObject => Boolean(rs));
    const newRS = sync.newRS ? fresh(sync.newRS) : undefined;
    const nowMs = Date.now();
    const d = { ...sync.d, status: { ...(sync.d.status ?? {}) } };
    const conditions = { conditions: [...((d.status.conditions ?? []) as DeploymentCondition[])] };
    for (const c of sync.conditions) setDeploymentCondition(conditions, c);
    d.status.conditions = conditions.conditions;
    const status = calculateStatus(d, all, newRS);
    if (!sync.d.spec?.paused) applyProgressConditions(d, status, newRS, nowMs);
    this.writeStatus(sync.d, status);
    const wait = msToProgressDeadline(sync.d, status, nowMs);
    if (wait !== undefined && wait >= 0 && !deploymentComplete(sync.d, status)) this.queue.addAfter(keyOf(sync.d), wait + 1000);
    return status;
  }

  private writeStatus(d: KubeObject, status: object): void {
    const uid = d.metadata.uid;
    this.ctx.store.mutate(DEPLOYMENTS, d.metadata.namespace, d.metadata.name ?? '', (o) => {
      if (o.metadata.uid !== uid || jsonEqual(o.status, status)) return false;
      o.status = status;
    }, { part: 'status' });
  }

  private deploymentsOfReplicaSet(ev: WatchEvent): string[] {
    const rs = ev.object;
    const ns = rs.metadata.namespace;
    const ref = controllerRefOf(rs);
    if (ref) return ref.kind === 'Deployment' ? [`${ns}/${ref.name}`] : [];
    if (ev.type === 'DELETED') return [];
    return keysOf(this.ctx.store.peekInNamespace(DEPLOYMENTS, ns ?? ''), (d) => labelSelectorMatcher(d.spec?.selector)(rs.metadata.labels));
  }

  private deploymentOfPod(pod: KubeObject): string[] {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'ReplicaSet') return [];
    const rs = this.ctx.store.peek(REPLICASETS, pod.metadata.namespace, ref.name);
    const owner = rs ? controllerRefOf(rs) : undefined;
    return owner?.kind === 'Deployment' ? [`${pod.metadata.namespace}/${owner.name}`] : [];
  }
}

/** checkPausedConditions: Progressing Unknown while paused, and once more when resumed. */
function pausedCondition(d: KubeObject): DeploymentCondition | undefined {
  if (typeof d.spec?.progressDeadlineSeconds !== 'number') return undefined;
  const reason = deploymentCondition(d.status, 'Progressing')?.reason;
  if (d.spec?.paused && reason !== ProgressReasons.paused) return newCondition('Progressing', 'Unknown', ProgressReasons.paused, 'Deployment is paused');
  if (!d.spec?.paused && reason === ProgressReasons.paused) return newCondition('Progressing', 'Unknown', ProgressReasons.resumed, 'Deployment is resumed');
  return undefined;
}
