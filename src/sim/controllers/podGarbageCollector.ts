import { deleteNow } from './podDeletion.js';
import { isPodTerminal, setPodCondition } from './podStatus.js';
import { QueuedController, keyOf, type WatchMapping } from './queuedController.js';

/**
 * How long a pod bound to a node never seen is left alone, in case the node is still registering
 * (Kubernetes quarantines such pods for 40 s; the simulator's nodes register within moments).
 */
export const UNKNOWN_NODE_QUARANTINE_MS = 1000;

/**
 * The pod garbage collector (pkg/controller/podgc): pods bound to a node that no longer exists are
 * force-deleted (after DisruptionTarget=True reason DeletionByPodGC), as are terminating pods that
 * were never scheduled.
 */
export class PodGarbageCollector extends QueuedController {
  readonly name = 'pod-garbage-collector';
  private readonly deletedNodes = new Set<string>();

  protected watches(): WatchMapping[] {
    return [
      { resource: 'pods', keys: (ev) => (ev.type === 'DELETED' ? [] : [keyOf(ev.object)]) },
      { resource: 'nodes', keys: (ev) => this.onNode(ev.type, ev.object.metadata.name ?? '') },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return [...this.ctx.store.peekAll('pods')].map(keyOf);
  }

  private onNode(type: string, name: string): string[] {
    if (type !== 'DELETED') {
      this.deletedNodes.delete(name);
      return [];
    }
    this.deletedNodes.add(name);
    return name ? this.ctx.store.podsOnNode(name).map(keyOf) : [];
  }

  protected reconcile(key: string): void {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.ctx.store.peek('pods', namespace, name);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName as string | undefined;
    if (!nodeName) {
      if (pod.metadata.deletionTimestamp) deleteNow(this.ctx.store, 'pods', pod);
      return;
    }
    if (this.ctx.store.peek('nodes', undefined, nodeName)) return;
    const age = Date.now() - Date.parse(pod.metadata.creationTimestamp ?? '');
    if (!this.deletedNodes.has(nodeName) && age < UNKNOWN_NODE_QUARANTINE_MS) {
      this.queue.addAfter(key, UNKNOWN_NODE_QUARANTINE_MS - age);
      return;
    }
    const uid = pod.metadata.uid;
    if (!isPodTerminal(pod)) {
      this.ctx.store.mutate('pods', namespace, name, (p) => {
        if (p.metadata.uid !== uid) return false;
        return setPodCondition((p.status ??= {}), { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
      }, { part: 'status' });
    }
    deleteNow(this.ctx.store, 'pods', pod);
  }
}
