import { ApiError } from '../api/apiError.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { labelSelectorMatcher } from '../store/labelSelector.js';
import { createAdmitted } from './objectCreation.js';
import { applyClaims, claimCandidates, controllerRefOf, planClaims } from './ownerReferences.js';
import { deleteNow, deletePod } from './podDeletion.js';
import { msUntilAvailable } from './podStatus.js';
import { QueuedController, keyOf, keysOf, splitKey, type WatchMapping } from './queuedController.js';
import { planStatefulSet, statefulSetShape, type StatefulSetPlan } from './statefulSetPlan.js';
import { buildStatefulSetPod, identityLabels, isMemberOf, STATEFUL_REVISION_LABEL, statefulPodName, toStatefulPodView } from './statefulSetPods.js';
import { chooseUpdateRevision, newRevision, nextRevision, revisionsEqual, revisionsToTrim, sortRevisions, templateOfRevision } from './statefulSetRevisions.js';
import { statefulSetStatus, statusNeedsWrite } from './statefulSetStatus.js';

const STATEFULSETS = 'apps/statefulsets';
const REVISIONS = 'apps/controllerrevisions';
// CreateControllerRevision retries a taken name with the next collisionCount; a bound keeps a bug from spinning.
const MAX_REVISION_NAME_ATTEMPTS = 20;
// A pod name held by a pod the set does not own: upstream returns the AlreadyExists error and is retried with backoff.
const NAME_TAKEN_RETRY_MS = 1000;

/** The revisions one sync works with (getStatefulSetRevisions). */
interface SetRevisions {
  /** The whole history, sorted, as listed before this sync changed it. */
  history: KubeObject[];
  current: KubeObject;
  update: KubeObject;
  collisionCount: number;
}

/**
 * The StatefulSet controller (pkg/controller/statefulset): pods `<name>-<ordinal>` with stable
 * identities, created in order (OrderedReady) or all at once (Parallel), re-created under the same
 * name once a deleted, evicted or failed one is gone, removed from the highest ordinal down; one
 * ControllerRevision per template, RollingUpdate from the highest ordinal down to the partition or
 * OnDelete, history trimmed to revisionHistoryLimit, and the status `kubectl rollout status` reads.
 */
export class StatefulSetController extends QueuedController {
  readonly name = 'statefulset-controller';

  protected watches(): WatchMapping[] {
    return [
      { resource: STATEFULSETS, keys: (ev) => [keyOf(ev.object)] },
      { resource: 'pods', keys: (ev) => this.statefulSetsOfPod(ev) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll(STATEFULSETS));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const sts = this.ctx.store.peek(STATEFULSETS, namespace, name);
    if (!sts) return;
    const revisions = this.syncRevisions(sts);
    const pods = this.claimPods(sts);
    const minReadySeconds = Number(sts.spec?.minReadySeconds ?? 0);
    const now = Date.now();
    const shape = statefulSetShape(sts, revisions.current.metadata.name ?? '', revisions.update.metadata.name ?? '');
    const plan = planStatefulSet(shape, pods.map((p) => toStatefulPodView(sts, p, minReadySeconds, now)));
    this.apply(sts, revisions, plan);
    this.writeStatus(sts, statefulSetStatus({
      generation: sts.metadata.generation ?? 1,
      specReplicas: shape.replicas,
      counts: plan.counts,
      currentRevision: shape.currentRevision,
      updateRevision: shape.updateRevision,
      collisionCount: revisions.collisionCount,
      rollingUpdate: shape.rollingUpdate,
    }));
    this.trimHistory(sts, revisions, pods);
    // Availability comes with time, not with an event: look again when the next ready pod becomes available.
    if (minReadySeconds > 0 && plan.counts.readyReplicas !== plan.counts.availableReplicas) {
      const waits = pods.map((p) => msUntilAvailable(p, minReadySeconds, now)).filter((w): w is number => w !== undefined);
      this.queue.addAfter(key, waits.length ? Math.min(...waits) : minReadySeconds * 1000);
    }
  }

  /** Member pods of the set: adopts matching orphans, releases pods that stopped matching. */
  private claimPods(sts: KubeObject): KubeObject[] {
    const selects = labelSelectorMatcher(sts.spec?.selector);
    const plan = planClaims(sts, claimCandidates(this.ctx.store, 'pods', sts), (p) => isMemberOf(sts, p) && selects(p.metadata.labels));
    return applyClaims(this.ctx.store, 'pods', sts, plan);
  }

  /** The set's revisions, adopting orphans; ListRevisions never releases, it just stops listing. */
  private listRevisions(sts: KubeObject): KubeObject[] {
    const selects = labelSelectorMatcher(sts.spec?.selector);
    const plan = planClaims(sts, claimCandidates(this.ctx.store, REVISIONS, sts), (r) => selects(r.metadata.labels));
    return sortRevisions(applyClaims(this.ctx.store, REVISIONS, sts, { ...plan, release: [] }));
  }

  /** getStatefulSetRevisions: finds, renumbers (a rollback) or creates the update revision; the current one comes from status. */
  private syncRevisions(sts: KubeObject): SetRevisions {
    const history = this.listRevisions(sts);
    let collisionCount = Number(sts.status?.collisionCount ?? 0);
    const choice = chooseUpdateRevision(history, newRevision(sts, nextRevision(history), collisionCount));
    let update: KubeObject;
    if (choice.action === 'reuse') {
      update = choice.revision;
    } else if (choice.action === 'renumber') {
      update = this.ctx.store.mutate(REVISIONS, choice.revision.metadata.namespace, choice.revision.metadata.name ?? '', (r) => {
        if (Number(r.revision) === choice.number) return false;
        r.revision = choice.number;
      }) ?? choice.revision;
    } else {
      ({ update, collisionCount } = this.createRevision(sts, choice.revision, collisionCount));
    }
    const current = history.find((r) => r.metadata.name === sts.status?.currentRevision) ?? update;
    return { history, current, update, collisionCount };
  }

  /** CreateControllerRevision: a name taken by the same data is that revision; by other data, the next collisionCount is tried. */
  private createRevision(sts: KubeObject, candidate: KubeObject, collisionCount: number): { update: KubeObject; collisionCount: number } {
    let count = collisionCount;
    for (let attempt = 0; attempt < MAX_REVISION_NAME_ATTEMPTS; attempt++) {
      const revision = newRevision(sts, Number(candidate.revision), count);
      try {
        return { update: this.ctx.store.create(REVISIONS, revision), collisionCount: count };
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      }
      const existing = this.ctx.store.get(REVISIONS, revision.metadata.namespace, revision.metadata.name ?? '');
      if (existing && revisionsEqual(existing, revision)) return { update: existing, collisionCount: count };
      count++;
    }
    throw new Error(`no free ControllerRevision name for ${keyOf(sts)} after ${MAX_REVISION_NAME_ATTEMPTS} collisions`);
  }

  /** Carries out a plan. */
  private apply(sts: KubeObject, revisions: SetRevisions, plan: StatefulSetPlan): void {
    const ns = sts.metadata.namespace;
    for (const ordinal of plan.delete) {
      const pod = this.ctx.store.peek('pods', ns, statefulPodName(sts, ordinal));
      if (pod && !pod.metadata.deletionTimestamp) deletePod(this.ctx.store, pod);
    }
    const byName = new Map([revisions.current, revisions.update].map((r) => [r.metadata.name, r]));
    for (const { ordinal, revision } of plan.create) {
      const template = templateOfRevision(byName.get(revision) ?? revisions.update);
      try {
        createAdmitted(this.ctx.store, 'pods', buildStatefulSetPod(sts, template, ordinal, revision));
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        this.queue.addAfter(keyOf(sts), NAME_TAKEN_RETRY_MS);
      }
    }
    for (const ordinal of plan.fixIdentity) {
      this.ctx.store.mutate('pods', ns, statefulPodName(sts, ordinal), (p) => {
        const wanted = identityLabels(p.metadata.name ?? '');
        if (Object.entries(wanted).every(([k, v]) => p.metadata.labels?.[k] === v)) return false;
        p.metadata.labels = { ...(p.metadata.labels ?? {}), ...wanted };
      });
    }
  }

  /** updateStatefulSetStatus: replaces the status when inconsistentStatus says it is out of date. */
  private writeStatus(sts: KubeObject, status: Record<string, unknown>): void {
    const uid = sts.metadata.uid;
    this.ctx.store.mutate(STATEFULSETS, sts.metadata.namespace, sts.metadata.name ?? '', (o) => {
      if (o.metadata.uid !== uid || !statusNeedsWrite(o.status, status)) return false;
      o.status = status;
    }, { part: 'status' });
  }

  /** truncateHistory: deletes the oldest revisions no pod uses beyond revisionHistoryLimit. */
  private trimHistory(sts: KubeObject, revisions: SetRevisions, pods: readonly KubeObject[]): void {
    const live = new Set([revisions.current.metadata.name ?? '', revisions.update.metadata.name ?? '']);
    for (const p of pods) live.add(p.metadata.labels?.[STATEFUL_REVISION_LABEL] ?? '');
    const limit = Number(sts.spec?.revisionHistoryLimit ?? 10);
    for (const r of revisionsToTrim(revisions.history, live, limit)) deleteNow(this.ctx.store, REVISIONS, r);
  }

  private statefulSetsOfPod(ev: WatchEvent): string[] {
    const pod = ev.object;
    const ns = pod.metadata.namespace;
    const ref = controllerRefOf(pod);
    if (ref) return ref.kind === 'StatefulSet' ? [`${ns}/${ref.name}`] : [];
    if (ev.type === 'DELETED') return [];
    // An orphan: sets that select it (getStatefulSetsForPod); the claim decides membership.
    return keysOf(this.ctx.store.peekInNamespace(STATEFULSETS, ns ?? ''), (s) => labelSelectorMatcher(s.spec?.selector)(pod.metadata.labels));
  }
}
