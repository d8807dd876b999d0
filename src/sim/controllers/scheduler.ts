import type { KubeObject } from '../store/kubeObject.js';
import { parseKubeTime } from './kubeTime.js';
import { isPodTerminal, podCondition, setPodCondition } from './podStatus.js';
import { QueuedController, type WatchMapping } from './queuedController.js';
import { FeasibleNodes, PodLoad, schedulePod } from './schedulerFilters.js';

const DEFAULT_SCHEDULER = 'default-scheduler';
const PENDING = 'pending';

/** A pod this scheduler should place: unbound, alive, and asking for the default scheduler. */
function isPendingPod(pod: KubeObject): boolean {
  return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp && !isPodTerminal(pod) && (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER;
}

/** A bound pod gone or finished: its node has room again for a pod "Too many pods" kept Pending. */
function freesSlot(ev: { type: string; object: KubeObject; oldObject?: KubeObject | undefined }): boolean {
  if (!ev.object.spec?.nodeName) return false;
  if (ev.type === 'DELETED') return true;
  return isPodTerminal(ev.object) && !(ev.oldObject && isPodTerminal(ev.oldObject));
}

/** Scheduling queue order: higher priority first, then first come first served (keys computed once per pod). */
function inQueueOrder(pods: readonly KubeObject[]): KubeObject[] {
  const keyed = pods.map((pod) => ({
    pod,
    priority: Number(pod.spec?.priority ?? 0),
    created: parseKubeTime(pod.metadata.creationTimestamp) ?? 0,
    key: `${pod.metadata.namespace}/${pod.metadata.name}`,
  }));
  keyed.sort((a, b) => b.priority - a.priority || a.created - b.created || (a.key < b.key ? -1 : 1));
  return keyed.map((k) => k.pod);
}

/**
 * kube-scheduler, reduced to the filters the simulator needs and a spreading score (see
 * schedulerFilters.ts): binds
 * pending pods by setting spec.nodeName with PodScheduled=True, or records PodScheduled=False
 * reason Unschedulable with the fit error. Pending pods are retried whenever a node changes or a
 * bound pod goes away or finishes (room on a full node).
 */
export class Scheduler extends QueuedController {
  readonly name = DEFAULT_SCHEDULER;
  /** Pods per node and per owner, kept from the pod watch rather than recounted every pass. */
  private load = new PodLoad();
  private stopTracking: (() => void) | undefined;

  override start(): void {
    this.load = PodLoad.of(this.ctx.store.peekAll('pods'));
    this.stopTracking = this.ctx.store.watch({ resource: 'pods' }, (ev) => this.load.track(ev));
    super.start();
  }

  override stop(): void {
    this.stopTracking?.();
    super.stop();
  }

  protected watches(): WatchMapping[] {
    return [
      { resource: 'pods', keys: (ev) => (ev.type !== 'DELETED' && isPendingPod(ev.object)) || freesSlot(ev) ? [PENDING] : [] },
      { resource: 'nodes', keys: () => [PENDING] },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return [PENDING];
  }

  /** One scheduling pass over every pending pod (from the unbound pods only), in queue order. */
  protected reconcile(): void {
    const pending = inQueueOrder(this.ctx.store.podsOnNode('').filter(isPendingPod));
    if (pending.length === 0) return;
    const nodes = [...this.ctx.store.peekAll('nodes')].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
    const feasible = new FeasibleNodes(nodes);
    for (const pod of pending) {
      if ((pod.spec?.schedulingGates ?? []).length > 0) {
        this.setScheduled(pod, 'False', 'SchedulingGated', 'Scheduling is blocked due to non-empty scheduling gates');
        continue;
      }
      // A bind's watch event updates the load before the next pod is placed.
      const result = schedulePod(pod, nodes, this.load, feasible);
      if ('node' in result) this.bind(pod, result.node);
      else this.setScheduled(pod, 'False', 'Unschedulable', result.message);
    }
  }

  /** What pods/binding does: spec.nodeName, then PodScheduled=True. */
  private bind(pod: KubeObject, nodeName: string): void {
    const { namespace, name = '', uid } = pod.metadata;
    const bound = this.ctx.store.mutate('pods', namespace, name, (p) => {
      if (p.metadata.uid !== uid || p.spec?.nodeName || p.metadata.deletionTimestamp) return false;
      p.spec.nodeName = nodeName;
    });
    if (bound && bound.metadata.uid === uid && bound.spec?.nodeName === nodeName) this.setScheduled(bound, 'True');
  }

  private setScheduled(pod: KubeObject, status: 'True' | 'False', reason?: string, message?: string): void {
    const uid = pod.metadata.uid;
    const current = podCondition(pod, 'PodScheduled');
    // Unschedulable pods are looked at on every pass: only a change is worth a copy of the pod.
    if (current?.status === status && current.reason === reason && current.message === message) return;
    this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name ?? '', (p) => {
      if (p.metadata.uid !== uid) return false;
      return setPodCondition((p.status ??= {}), { type: 'PodScheduled', status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });
    }, { part: 'status' });
  }
}
