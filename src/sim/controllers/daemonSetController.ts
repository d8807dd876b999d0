import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { labelSelectorMatcher } from '../store/labelSelector.js';
import { nodeShouldRunDaemonPod } from './daemonSetPlacement.js';
import { allowsSurge, countDaemonSetStatus, planDaemonPods, planRollingUpdate, rolloutLimits, type DaemonNodeView, type DaemonPlan } from './daemonSetPlan.js';
import { buildDaemonPod, groupDaemonPodsByNode, templateGenerationOf, toDaemonPodView, type DaemonPodView } from './daemonSetPods.js';
import { createAdmitted } from './objectCreation.js';
import { applyClaims, claimCandidates, controlledObjects, controllerRefOf, planClaims } from './ownerReferences.js';
import { deletePod } from './podDeletion.js';
import { QueuedController, keyOf, keysOf, splitKey, type WatchMapping } from './queuedController.js';
import { jsonEqual } from './stableJson.js';
import { computeTemplateHash } from './templateHash.js';

const DAEMONSETS = 'apps/daemonsets';

/** Everything one sync of a DaemonSet works from. */
interface DaemonSetSync {
  ds: KubeObject;
  nodes: DaemonNodeView[];
  hash: string;
  generation: string;
  minReadySeconds: number;
}

/**
 * The DaemonSet controller (pkg/controller/daemon): one pod per node that should run it, created
 * with the scheduler doing the binding, removed from nodes the DaemonSet no longer fits, replaced
 * on template change by the RollingUpdate rules (OnDelete replaces only pods deleted by someone
 * else), and the status `kubectl rollout status` reads.
 */
export class DaemonSetController extends QueuedController {
  readonly name = 'daemonset-controller';

  protected watches(): WatchMapping[] {
    return [
      { resource: DAEMONSETS, keys: (ev) => [keyOf(ev.object)] },
      { resource: 'pods', keys: (ev) => this.daemonSetsOfPod(ev) },
      { resource: 'nodes', keys: (ev) => (nodePlacementChanged(ev) ? keysOf(this.ctx.store.peekAll(DAEMONSETS)) : []) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll(DAEMONSETS));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const ds = this.ctx.store.peek(DAEMONSETS, namespace, name);
    if (!ds || ds.metadata.deletionTimestamp || selectsEverything(ds)) return;
    const sync: DaemonSetSync = {
      ds,
      nodes: [...this.ctx.store.peekAll('nodes')].map((n) => ({ name: n.metadata.name ?? '', ...nodeShouldRunDaemonPod(ds, n) })),
      hash: computeTemplateHash(ds.spec?.template, ds.status?.collisionCount),
      generation: templateGenerationOf(ds),
      minReadySeconds: Number(ds.spec?.minReadySeconds ?? 0),
    };
    const managed = this.apply(sync, planDaemonPods(sync.nodes, this.podViews(sync, this.claimPods(ds)), allowsSurge(ds)));
    // Like the real controller's expectations: roll only once the manage step's changes are in.
    if (!managed && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const desired = sync.nodes.filter((n) => n.shouldRun).length;
      this.apply(sync, planRollingUpdate(sync.nodes, this.podViews(sync, this.claimPods(ds)), rolloutLimits(ds, desired)));
    }
    this.updateStatus(sync);
  }

  /** Pods of the DaemonSet, adopting matching orphans and releasing pods that stopped matching. */
  private claimPods(ds: KubeObject): KubeObject[] {
    const selects = labelSelectorMatcher(ds.spec?.selector);
    const plan = planClaims(ds, claimCandidates(this.ctx.store, 'pods', ds), (p) => selects(p.metadata.labels));
    return applyClaims(this.ctx.store, 'pods', ds, plan);
  }

  private podViews(sync: DaemonSetSync, pods: KubeObject[]): Map<string, DaemonPodView[]> {
    const now = Date.now();
    const out = new Map<string, DaemonPodView[]>();
    for (const [node, list] of groupDaemonPodsByNode(pods)) {
      out.set(node, list.map((p) => toDaemonPodView(p, sync.hash, sync.generation, sync.minReadySeconds, now)));
    }
    return out;
  }

  /** Carries out a plan; true when it changed anything. */
  private apply(sync: DaemonSetSync, plan: DaemonPlan): boolean {
    const { ds } = sync;
    for (const podName of plan.deletePods) {
      const pod = this.ctx.store.peek('pods', ds.metadata.namespace, podName);
      if (pod && !pod.metadata.deletionTimestamp) deletePod(this.ctx.store, pod);
    }
    for (const nodeName of plan.createOn) {
      createAdmitted(this.ctx.store, 'pods', buildDaemonPod(ds, nodeName, sync.hash, sync.generation));
    }
    return plan.deletePods.length + plan.createOn.length > 0;
  }

  private updateStatus(sync: DaemonSetSync): void {
    const { ds } = sync;
    const uid = ds.metadata.uid;
    const owned = controlledObjects(this.ctx.store, 'pods', ds);
    const counts = countDaemonSetStatus(sync.nodes, this.podViews(sync, owned));
    this.ctx.store.mutate(DAEMONSETS, ds.metadata.namespace, ds.metadata.name ?? '', (o) => {
      if (o.metadata.uid !== uid) return false;
      const next = { ...(o.status ?? {}), ...counts, observedGeneration: o.metadata.generation ?? 1 };
      if (jsonEqual(next, o.status)) return false;
      o.status = next;
    }, { part: 'status' });
    if (sync.minReadySeconds > 0 && counts.numberReady !== counts.numberAvailable) {
      this.queue.addAfter(keyOf(ds), sync.minReadySeconds * 1000);
    }
  }

  private daemonSetsOfPod(ev: WatchEvent): string[] {
    const pod = ev.object;
    const ns = pod.metadata.namespace;
    const ref = controllerRefOf(pod);
    if (ref) return ref.kind === 'DaemonSet' ? [`${ns}/${ref.name}`] : [];
    if (ev.type === 'DELETED') return [];
    // An orphan: DaemonSets that may adopt it.
    return keysOf(this.ctx.store.peekInNamespace(DAEMONSETS, ns ?? ''), (ds) => labelSelectorMatcher(ds.spec?.selector)(pod.metadata.labels));
  }
}

/** A DaemonSet with selector {} selects every pod; Kubernetes refuses to act on it. */
function selectsEverything(ds: KubeObject): boolean {
  const sel = ds.spec?.selector;
  return Boolean(sel) && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** shouldIgnoreNodeUpdate's opposite: a node came, went, or changed labels or taints. */
function nodePlacementChanged(ev: WatchEvent): boolean {
  if (ev.type !== 'MODIFIED' || !ev.oldObject) return true;
  return !jsonEqual(ev.object.metadata.labels, ev.oldObject.metadata.labels) || !jsonEqual(ev.object.spec?.taints, ev.oldObject.spec?.taints);
}
