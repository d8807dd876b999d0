import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { DeploymentController, POD_TEMPLATE_HASH_LABEL, templatesEqualIgnoringHash } from './deploymentController.js';
import { isPodReady } from './podStatus.js';
import { ReplicaSetController } from './replicaSetController.js';
import { Scheduler } from './scheduler.js';
import { makeDeployment, makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
afterEach(() => fx.stop());

function start(): ControllerFixture {
  fx = startFixture((ctx) => [new DeploymentController(ctx), new ReplicaSetController(ctx), new Scheduler(ctx)]);
  for (const n of ['n1', 'n2', 'n3']) fx.create('nodes', makeNode(n));
  return fx;
}

const deployment = (name: string) => fx.store.get('apps/deployments', 'default', name)!;

/** kubectl's DeploymentStatusViewer (polymorphichelpers/rollout_status.go), as data. */
function rolloutStatus(d: KubeObject): { done: boolean; message: string } {
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  const progressing = (s.conditions ?? []).find((c: { type: string }) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, message: 'exceeded its progress deadline' };
  const want = d.spec.replicas;
  if ((s.updatedReplicas ?? 0) < want) return { done: false, message: `${s.updatedReplicas ?? 0} out of ${want} new replicas have been updated...` };
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return { done: false, message: `${s.replicas - s.updatedReplicas} old replicas are pending termination...` };
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return { done: false, message: `${s.availableReplicas ?? 0} of ${s.updatedReplicas} updated replicas are available...` };
  return { done: true, message: `deployment "${d.metadata.name}" successfully rolled out` };
}

describe('ReplicaSetController', () => {
  it('keeps spec.replicas pods, replaces deleted ones and removes the surplus', async () => {
    start();
    fx.create('apps/replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'rs', namespace: 'default' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'rs' } }, template: { metadata: { labels: { app: 'rs' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const rs = () => fx.store.get('apps/replicasets', 'default', 'rs')!;
    await waitFor(() => rs().status?.availableReplicas === 3);
    expect(rs().status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(podsIn(fx.store).every((p) => /^rs-[a-z0-9]{5}$/.test(p.metadata.name!))).toBe(true);
    const victim = podsIn(fx.store)[0]!;
    fx.store.markForDeletion('pods', 'default', victim.metadata.name!, 30);
    await waitFor(() => podsIn(fx.store).filter((p) => !p.metadata.deletionTimestamp).length === 3, 5000, 'replacement pod');
    fx.store.mutate('apps/replicasets', 'default', 'rs', (o) => {
      o.spec.replicas = 1;
    });
    await waitFor(() => podsIn(fx.store).length === 1 && rs().status?.replicas === 1, 5000, 'scaled down to 1');
  });

  it('deletes unscheduled and not-ready pods first when scaling down', async () => {
    start();
    fx.create('apps/replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'rs', namespace: 'default' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'rs' } }, template: { metadata: { labels: { app: 'rs' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    await waitFor(() => fx.store.get('apps/replicasets', 'default', 'rs')!.status?.readyReplicas === 3);
    const unready = podsIn(fx.store)[1]!.metadata.name!;
    fx.kubelet.setReady('default', unready, false);
    await waitFor(() => fx.store.get('apps/replicasets', 'default', 'rs')!.status?.readyReplicas === 2);
    fx.store.mutate('apps/replicasets', 'default', 'rs', (o) => {
      o.spec.replicas = 2;
    });
    await waitFor(() => podsIn(fx.store).length === 2);
    expect(podsIn(fx.store).map((p) => p.metadata.name)).not.toContain(unready);
  });
});

describe('DeploymentController', () => {
  it('creates <name>-<hash> ReplicaSet and reaches a status kubectl rollout status accepts', async () => {
    start();
    fx.create('apps/deployments', makeDeployment('web', 3));
    await waitFor(() => rolloutStatus(deployment('web')).done, 5000, 'rollout done');
    const d = deployment('web');
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
    const conditions = Object.fromEntries(d.status.conditions.map((c: { type: string; reason: string }) => [c.type, c]));
    expect(conditions.Available).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    const rsList = fx.store.list('apps/replicasets', 'default').items;
    expect(rsList).toHaveLength(1);
    const rs = rsList[0]!;
    const hash = rs.metadata.labels![POD_TEMPLATE_HASH_LABEL]!;
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(conditions.Progressing).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "web-${hash}" has successfully progressed.` });
    expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(rs.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3' });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(podsIn(fx.store).every((p) => p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash)).toBe(true);
  });

  it('rolls out a new template within maxSurge and maxUnavailable', async () => {
    start();
    fx.create('apps/deployments', makeDeployment('web', 4));
    await waitFor(() => rolloutStatus(deployment('web')).done);
    let maxPods = 0;
    let minReady = Infinity;
    const stop = fx.store.watch({ resource: 'pods' }, () => {
      const alive = podsIn(fx.store).filter((p) => !p.metadata.deletionTimestamp);
      maxPods = Math.max(maxPods, alive.length);
      minReady = Math.min(minReady, alive.filter(isPodReady).length);
    });
    const messages = new Set<string>();
    const stopMessages = fx.store.watch({ resource: 'apps/deployments' }, (ev) => messages.add(rolloutStatus(ev.object).message));
    fx.store.mutate('apps/deployments', 'default', 'web', (d) => {
      d.spec.template.spec.containers[0].image = 'example/web:2';
    });
    await waitFor(() => rolloutStatus(deployment('web')).done && deployment('web').status.observedGeneration === 2, 10_000, 'second rollout');
    stop();
    stopMessages();
    // 25% of 4: surge 1 (rounded up), unavailable 1 (rounded down).
    expect(maxPods).toBe(5);
    expect(minReady).toBe(3);
    expect([...messages].some((m) => m.includes('new replicas have been updated'))).toBe(true);
    const rsList = fx.store.list('apps/replicasets', 'default').items;
    expect(rsList.map((rs) => rs.spec.replicas).sort()).toEqual([0, 4]);
    expect(deployment('web').metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    await waitFor(() => podsIn(fx.store).length === 4);
    expect(podsIn(fx.store).every((p) => p.spec.containers[0].image === 'example/web:2')).toBe(true);
  });

  it('Recreate stops every old pod before starting new ones', async () => {
    start();
    fx.create('apps/deployments', makeDeployment('web', 2, { strategy: { type: 'Recreate' } }));
    await waitFor(() => rolloutStatus(deployment('web')).done);
    let mixed = false;
    const stop = fx.store.watch({ resource: 'pods' }, () => {
      const images = new Set(podsIn(fx.store).map((p) => p.spec.containers[0].image));
      if (images.size > 1) mixed = true;
    });
    fx.store.mutate('apps/deployments', 'default', 'web', (d) => {
      d.spec.template.spec.containers[0].image = 'example/web:2';
    });
    await waitFor(() => rolloutStatus(deployment('web')).done && deployment('web').status.observedGeneration === 2, 10_000);
    stop();
    expect(mixed).toBe(false);
  });

  it('reports unavailability while pods are not ready', async () => {
    start();
    fx.create('apps/deployments', makeDeployment('web', 2, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await waitFor(() => rolloutStatus(deployment('web')).done);
    for (const p of podsIn(fx.store)) fx.kubelet.setReady('default', p.metadata.name!, false);
    await waitFor(() => deployment('web').status.availableReplicas === 0);
    const d = deployment('web');
    expect(d.status.unavailableReplicas).toBe(2);
    expect(d.status.conditions.find((c: { type: string }) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });
});

describe('templatesEqualIgnoringHash', () => {
  it('ignores pod-template-hash and missing API defaults', () => {
    const bare = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } };
    const stored = { metadata: { labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: 'abc' } }, spec: { containers: [{ name: 'c', image: 'x:1', imagePullPolicy: 'IfNotPresent' }], terminationGracePeriodSeconds: 30 } };
    expect(templatesEqualIgnoringHash(stored, bare)).toBe(true);
    expect(templatesEqualIgnoringHash(stored, { ...bare, spec: { containers: [{ name: 'c', image: 'x:2' }] } })).toBe(false);
  });
});
