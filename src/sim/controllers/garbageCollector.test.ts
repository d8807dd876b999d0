import { afterEach, describe, expect, it } from 'vitest';
import { DaemonSetController } from './daemonSetController.js';
import { DeploymentController } from './deploymentController.js';
import { GarbageCollector, orphanDependents } from './garbageCollector.js';
import { PodGarbageCollector } from './podGarbageCollector.js';
import { ReplicaSetController } from './replicaSetController.js';
import { Scheduler } from './scheduler.js';
import { makeDaemonSet, makeDeployment, makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
afterEach(() => fx.stop());

function start(): ControllerFixture {
  fx = startFixture((ctx) => [new GarbageCollector(ctx), new DaemonSetController(ctx), new DeploymentController(ctx), new ReplicaSetController(ctx), new Scheduler(ctx), new PodGarbageCollector(ctx)]);
  for (const n of ['n1', 'n2']) fx.create('nodes', makeNode(n));
  return fx;
}

describe('GarbageCollector', () => {
  it("deletes a DaemonSet's pods (gracefully) when the DaemonSet is deleted", async () => {
    start();
    fx.create('apps/daemonsets', makeDaemonSet('agent'));
    await waitFor(() => podsIn(fx.store).filter((p) => p.status?.phase === 'Running').length === 2);
    let sawGraceful = false;
    const stop = fx.store.watch({ resource: 'pods' }, (ev) => {
      if (ev.type === 'MODIFIED' && ev.object.metadata.deletionTimestamp) sawGraceful = true;
    });
    fx.store.delete('apps/daemonsets', 'default', 'agent');
    await waitFor(() => podsIn(fx.store).length === 0, 5000, 'pods collected');
    stop();
    expect(sawGraceful).toBe(true);
  });

  it("deletes a Deployment's ReplicaSets and their pods", async () => {
    start();
    fx.create('apps/deployments', makeDeployment('web', 2));
    await waitFor(() => podsIn(fx.store).length === 2);
    fx.store.delete('apps/deployments', 'default', 'web');
    await waitFor(() => podsIn(fx.store).length === 0 && fx.store.list('apps/replicasets', 'default').items.length === 0, 5000);
  });

  it('leaves dependents alone after orphanDependents, and deletes objects owned by a deleted node', async () => {
    start();
    fx.create('apps/deployments', makeDeployment('web', 1));
    await waitFor(() => podsIn(fx.store).length === 1);
    const d = fx.store.get('apps/deployments', 'default', 'web')!;
    orphanDependents(fx.store, d.metadata.uid!);
    fx.store.delete('apps/deployments', 'default', 'web');
    const node = fx.store.get('nodes', undefined, 'n2')!;
    fx.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } });
    fx.create('coordination.k8s.io/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'n2', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n2', uid: node.metadata.uid! }] },
      spec: { holderIdentity: 'n2' },
    });
    fx.store.delete('nodes', undefined, 'n2');
    await waitFor(() => !fx.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'n2'), 5000, 'lease collected');
    const rs = fx.store.list('apps/replicasets', 'default').items;
    expect(rs).toHaveLength(1);
    expect(rs[0]!.metadata.ownerReferences).toBeUndefined();
    expect(podsIn(fx.store)).toHaveLength(1);
  });

  it('removes only the dangling reference of an object with another live owner', async () => {
    start();
    const a = fx.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } });
    const b = fx.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'default' } });
    const ref = (o: typeof a) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid! });
    fx.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'child', namespace: 'default', ownerReferences: [ref(a), ref(b)] } });
    fx.store.delete('configmaps', 'default', 'a');
    await waitFor(() => fx.store.get('configmaps', 'default', 'child')?.metadata.ownerReferences?.length === 1);
    fx.store.delete('configmaps', 'default', 'b');
    await waitFor(() => !fx.store.get('configmaps', 'default', 'child'));
  });
});

describe('PodGarbageCollector', () => {
  it('force-deletes pods bound to a node that was deleted', async () => {
    start();
    fx.kubelet.stop();
    fx.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' } });
    fx.store.delete('nodes', undefined, 'n1');
    await waitFor(() => !fx.store.get('pods', 'default', 'stray'), 5000, 'orphaned pod removed');
  });
});
