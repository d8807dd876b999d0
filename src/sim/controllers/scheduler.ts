import type { KubeObject } from '../store/kubeObject.js';
import { parseKubeTime } from './kubeTime.js';
import { isPodTerminal, setPodCondition } from './podStatus.js';
import { QueuedController, type WatchMapping } from './queuedController.js';
import { PodLoad, schedulePod } from './schedulerFilters.js';

const DEFAULT_SCHEDULER = 'default-scheduler';
const PENDING = 'pending';

/** A pod this scheduler should place: unbound, alive, and asking for the default scheduler. */
function isPendingPod(pod: KubeObject): boolean {
  return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp && !isPodTerminal(pod) && (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER;
}

/** Scheduling queue order: higher priority first, then first come first served. */
function queueOrder(a: KubeObject, b: KubeObject): number {
  const prio = Number(b.spec?.priority ?? 0) - Number(a.spec?.priority ?? 0);
  if (prio) return prio;
  const age = (parseKubeTime(a.metadata.creationTimestamp) ?? 0) - (parseKubeTime(b.metadata.creationTimestamp) ?? 0);
  if (age) return age;
  return `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1;
}

/**
 * kube-scheduler, reduced to the filters the simulator needs and a spreading score (see
 * schedulerFilters.ts): binds
 * pending pods by setting spec.nodeName with PodScheduled=True, or records PodScheduled=False
 * reason Unschedulable with the fit error. Pending pods are retried whenever a node changes.
 */
export class Scheduler extends QueuedController {
  readonly name = DEFAULT_SCHEDULER;

  protected watches(): WatchMapping[] {
    return [
      { resource: 'pods', keys: (ev) => (ev.type !== 'DELETED' && isPendingPod(ev.object) ? [PENDING] : []) },
      { resource: 'nodes', keys: () => [PENDING] },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return [PENDING];
  }

  /** One scheduling pass over every pending pod, in queue order. */
  protected reconcile(): void {
    const pending = [...this.ctx.store.peekAll('pods')].filter(isPendingPod).sort(queueOrder);
    if (pending.length === 0) return;
    const nodes = [...this.ctx.store.peekAll('nodes')].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
    const load = PodLoad.of(this.ctx.store.peekAll('pods'));
    for (const pod of pending) {
      if ((pod.spec?.schedulingGates ?? []).length > 0) {
        this.setScheduled(pod, 'False', 'SchedulingGated', 'Scheduling is blocked due to non-empty scheduling gates');
        continue;
      }
      const result = schedulePod(pod, nodes, load);
      if ('node' in result) {
        if (this.bind(pod, result.node)) load.add(result.node, pod);
      } else {
        this.setScheduled(pod, 'False', 'Unschedulable', result.message);
      }
    }
  }

  /** What pods/binding does: spec.nodeName, then PodScheduled=True. */
  private bind(pod: KubeObject, nodeName: string): boolean {
    const { namespace, name = '', uid } = pod.metadata;
    const bound = this.ctx.store.mutate('pods', namespace, name, (p) => {
      if (p.metadata.uid !== uid || p.spec?.nodeName || p.metadata.deletionTimestamp) return false;
      p.spec.nodeName = nodeName;
    });
    if (!bound || bound.metadata.uid !== uid || bound.spec?.nodeName !== nodeName) return false;
    this.setScheduled(bound, 'True');
    return true;
  }

  private setScheduled(pod: KubeObject, status: 'True' | 'False', reason?: string, message?: string): void {
    const uid = pod.metadata.uid;
    this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name ?? '', (p) => {
      if (p.metadata.uid !== uid) return false;
      return setPodCondition((p.status ??= {}), { type: 'PodScheduled', status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });
    }, { part: 'status' });
  }
}
