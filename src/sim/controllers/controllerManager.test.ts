import { afterEach, describe, expect, it } from 'vitest';
import { startControllers } from './controllerManager.js';
import { isPodReady } from './podStatus.js';
import { makeDaemonSet, makeDeployment, makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
afterEach(() => fx.stop());

describe('startControllers', () => {
  it('runs every controller together to a quiet, settled cluster', async () => {
    let stopAll = () => {};
    fx = startFixture((ctx) => {
      const running = startControllers(ctx);
      stopAll = () => running.stop();
      return [{ name: 'all', start: () => {}, stop: () => stopAll() }];
    });
    for (const n of ['n1', 'n2', 'n3']) fx.create('nodes', makeNode(n, { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] }));
    fx.create('apps/daemonsets', makeDaemonSet('agent'));
    fx.create('apps/deployments', makeDeployment('web', 3));
    fx.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });
    fx.create('policy/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } });
    await waitFor(() => podsIn(fx.store).filter(isPodReady).length === 6, 5000, 'six ready pods');
    await waitFor(() => fx.store.get('policy/poddisruptionbudgets', 'default', 'web')?.status?.disruptionsAllowed === 1);
    await waitFor(() => fx.store.get('endpoints', 'default', 'web')?.subsets?.[0]?.addresses?.length === 3);
    expect(fx.store.get('serviceaccounts', 'default', 'default')).toBeDefined();
    expect(fx.store.list('nodes').items.every((n) => !n.spec.taints)).toBe(true);

    // No controller keeps rewriting what it owns: the store goes quiet.
    let lastWrite = Date.now();
    const stop = fx.store.watch({}, () => {
      lastWrite = Date.now();
    });
    await waitFor(() => Date.now() - lastWrite > 150, 5000, 'no writes for 150 ms');
    stop();

    fx.store.delete('apps/daemonsets', 'default', 'agent');
    await waitFor(() => podsIn(fx.store).length === 3, 5000, 'daemon pods collected');
  });
});
