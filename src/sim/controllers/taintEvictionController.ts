import type { KubeObject } from '../store/kubeObject.js';
import { deletePod } from './podDeletion.js';
import { setPodCondition } from './podStatus.js';
import { QueuedController, keyOf, type WatchMapping } from './queuedController.js';
import { jsonEqual } from './stableJson.js';
import { matchingTolerations, minTolerationSeconds, type Taint, type Toleration } from './tolerations.js';

interface ScheduledEviction {
  uid: string;
  timer: NodeJS.Timeout;
}

/** When a pod on a node with these NoExecute taints must go: now, after some seconds, or never. */
export function evictionDelaySeconds(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): number | 'never' {
  if (taints.length === 0) return 'never';
  const used = matchingTolerations(taints, tolerations);
  if (!used) return 0;
  const seconds = minTolerationSeconds(used);
  return seconds < 0 ? 'never' : seconds;
}

const noExecuteTaints = (node: KubeObject | undefined) => ((node?.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'NoExecute');

/**
 * The taint eviction controller (pkg/controller/tainteviction): a pod on a node with NoExecute
 * taints it does not all tolerate is deleted at once; one tolerating them all is deleted after the
 * smallest tolerationSeconds among the tolerations used (never, if none has a limit), unless the
 * taints go first. Deletion is graceful, marks DisruptionTarget, and ignores PodDisruptionBudgets.
 */
export class TaintEvictionController extends QueuedController {
  readonly name = 'taint-eviction-controller';
  private readonly scheduled = new Map<string, ScheduledEviction>();

  protected watches(): WatchMapping[] {
    return [
      { resource: 'pods', keys: (ev) => (ev.object.spec?.nodeName ? [keyOf(ev.object)] : []) },
      { resource: 'nodes', keys: (ev) => (ev.type === 'MODIFIED' && jsonEqual(noExecuteTaints(ev.object), noExecuteTaints(ev.oldObject)) ? [] : this.podsOnNode(ev.object.metadata.name)) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return [...this.ctx.store.peekAll('pods')].filter((p) => p.spec?.nodeName).map(keyOf);
  }

  override stop(): void {
    super.stop();
    for (const s of this.scheduled.values()) clearTimeout(s.timer);
    this.scheduled.clear();
  }

  /** processPodOnNode. */
  protected reconcile(key: string): void {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.ctx.store.peek('pods', namespace, name);
    const node = pod?.spec?.nodeName ? this.ctx.store.peek('nodes', undefined, pod.spec.nodeName) : undefined;
    if (!pod || !node || pod.metadata.deletionTimestamp) {
      this.cancel(key);
      return;
    }
    const delay = evictionDelaySeconds(noExecuteTaints(node), pod.spec?.tolerations);
    if (delay === 'never') {
      this.cancel(key);
    } else if (delay === 0) {
      this.cancel(key);
      this.evict(key, pod.metadata.uid ?? '');
    } else if (this.scheduled.get(key)?.uid !== pod.metadata.uid) {
      // An eviction already scheduled keeps its time, as in Kubernetes.
      this.cancel(key);
      const uid = pod.metadata.uid ?? '';
      const timer = setTimeout(() => {
        this.scheduled.delete(key);
        this.evict(key, uid);
      }, delay * 1000);
      timer.unref?.();
      this.scheduled.set(key, { uid, timer });
    }
  }

  private cancel(key: string): void {
    const s = this.scheduled.get(key);
    if (s) clearTimeout(s.timer);
    this.scheduled.delete(key);
  }

  /** addConditionAndDeletePod: DisruptionTarget=True (DeletionByTaintManager), then a graceful delete. */
  private evict(key: string, uid: string): void {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.ctx.store.mutate('pods', namespace, name, (p) => {
      if (p.metadata.uid !== uid) return false;
      return setPodCondition((p.status ??= {}), { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
    }, { part: 'status' });
    if (pod && pod.metadata.uid === uid && !pod.metadata.deletionTimestamp) deletePod(this.ctx.store, pod);
  }

  private podsOnNode(nodeName: string | undefined): string[] {
    return nodeName ? this.ctx.store.podsOnNode(nodeName).map(keyOf) : [];
  }
}
