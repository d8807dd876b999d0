import { afterEach, describe, expect, it } from 'vitest';
import { DeploymentController } from './deploymentController.js';
import { GarbageCollector } from './garbageCollector.js';
import { NamespaceController } from './namespaceController.js';
import { ReplicaSetController } from './replicaSetController.js';
import { Scheduler } from './scheduler.js';
import { makeDeployment, makeNode, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
afterEach(() => fx.stop());

describe('NamespaceController', () => {
  it('gives every active namespace a default ServiceAccount and recreates it', async () => {
    fx = startFixture((ctx) => [new NamespaceController(ctx)]);
    fx.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    await waitFor(() => Boolean(fx.store.get('serviceaccounts', 'demo', 'default') && fx.store.get('serviceaccounts', 'default', 'default')));
    fx.store.delete('serviceaccounts', 'demo', 'default');
    await waitFor(() => Boolean(fx.store.get('serviceaccounts', 'demo', 'default')), 5000, 'recreated');
  });

  it('empties a terminating namespace, workload controllers notwithstanding, then removes it', async () => {
    fx = startFixture((ctx) => [new NamespaceController(ctx), new DeploymentController(ctx), new ReplicaSetController(ctx), new Scheduler(ctx), new GarbageCollector(ctx)]);
    fx.create('nodes', makeNode('n1'));
    fx.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    fx.create('apps/deployments', { ...makeDeployment('web', 2), metadata: { name: 'web', namespace: 'demo' } });
    fx.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'demo' } });
    await waitFor(() => fx.store.list('pods', 'demo').items.filter((p) => p.status?.phase === 'Running').length === 2);
    // What DELETE /api/v1/namespaces/demo does.
    fx.store.mutate('namespaces', undefined, 'demo', (ns) => {
      ns.status = { phase: 'Terminating' };
    }, { part: 'status' });
    fx.store.markForDeletion('namespaces', undefined, 'demo', 0);
    await waitFor(() => !fx.store.get('namespaces', undefined, 'demo'), 5000, 'namespace removed');
    for (const r of ['pods', 'apps/deployments', 'apps/replicasets', 'configmaps', 'serviceaccounts']) expect(fx.store.list(r, 'demo').items).toEqual([]);
  });
});
