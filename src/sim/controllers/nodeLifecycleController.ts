import { reconcileNoScheduleTaints } from './nodeConditionTaints.js';
import { QueuedController, keyOf, keysOf, type WatchMapping } from './queuedController.js';

/**
 * The node lifecycle controller's NoSchedule tainting pass: node.kubernetes.io/unschedulable
 * follows spec.unschedulable (cordon/uncordon), and the condition taints follow the node's
 * conditions — notably the kubelet's node.kubernetes.io/not-ready admission taint goes once Ready
 * is True. (The NoExecute not-ready/unreachable eviction taints are not simulated.)
 */
export class NodeLifecycleController extends QueuedController {
  readonly name = 'node-lifecycle-controller';

  protected watches(): WatchMapping[] {
    return [{ resource: 'nodes', keys: (ev) => (ev.type === 'DELETED' ? [] : [keyOf(ev.object)]) }];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll('nodes'));
  }

  protected reconcile(name: string): void {
    this.ctx.store.mutate('nodes', undefined, name, (node) => {
      const taints = reconcileNoScheduleTaints(node);
      if (!taints) return false;
      node.spec = { ...(node.spec ?? {}) };
      if (taints.length) node.spec.taints = taints;
      else delete node.spec.taints;
    });
  }
}
