import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { DaemonSetController } from './daemonSetController.js';
import { DeploymentController } from './deploymentController.js';
import { decideEviction, DisruptionController, recordEviction } from './disruptionController.js';
import { MULTIPLE_PDBS_MESSAGE } from './evictionDecision.js';
import { deletePod } from './podDeletion.js';
import { isPodReady } from './podStatus.js';
import { ReplicaSetController } from './replicaSetController.js';
import { Scheduler } from './scheduler.js';
import { makeDaemonSet, makeDeployment, makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
afterEach(() => fx.stop());

function start(): ControllerFixture {
  fx = startFixture((ctx) => [new DeploymentController(ctx), new ReplicaSetController(ctx), new DaemonSetController(ctx), new Scheduler(ctx), new DisruptionController(ctx)]);
  for (const n of ['n1', 'n2', 'n3']) fx.create('nodes', makeNode(n));
  return fx;
}

function makePdb(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } };
}

const pdb = (name = 'web') => fx.store.get('policy/poddisruptionbudgets', 'default', name)!;
const readyPods = (app = 'web') => podsIn(fx.store).filter((p) => p.metadata.labels?.app === app && isPodReady(p) && !p.metadata.deletionTimestamp);

async function webWithPdb(replicas: number, pdbSpec: Record<string, unknown>): Promise<void> {
  start();
  fx.create('apps/deployments', makeDeployment('web', replicas));
  fx.create('policy/poddisruptionbudgets', makePdb('web', pdbSpec));
  await waitFor(() => pdb().status?.currentHealthy === replicas, 5000, 'pdb sees every pod healthy');
}

describe('DisruptionController status', () => {
  it('computes counts from the Deployment scale for maxUnavailable', async () => {
    await webWithPdb(3, { maxUnavailable: 1 });
    expect(pdb().status).toMatchObject({ expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1, observedGeneration: 1 });
    expect(pdb().status.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1 })]);
  });

  it('rounds a minAvailable percentage up', async () => {
    await webWithPdb(3, { minAvailable: '50%' });
    expect(pdb().status).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
  });

  it('fails safe for maxUnavailable over DaemonSet pods, which have no scale', async () => {
    start();
    fx.create('apps/daemonsets', makeDaemonSet('web'));
    fx.create('policy/poddisruptionbudgets', makePdb('web', { maxUnavailable: 1 }));
    await waitFor(() => pdb().status?.conditions?.[0]?.reason === 'SyncFailed');
    expect(pdb().status.disruptionsAllowed).toBe(0);
    expect(pdb().status.conditions[0]).toMatchObject({ status: 'False', message: 'daemonsets.apps does not implement the scale subresource' });
  });
});

describe('decideEviction / recordEviction', () => {
  it('blocks with 429 and the budget message, and allows once the Deployment is scaled up', async () => {
    await webWithPdb(3, { minAvailable: 3 });
    expect(pdb().status).toMatchObject({ disruptionsAllowed: 0, desiredHealthy: 3, currentHealthy: 3 });
    expect(pdb().status.conditions[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
    const victim = readyPods()[0]!;
    expect(decideEviction(fx.store, victim)).toEqual({
      allowed: false,
      code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }],
    });
    fx.store.mutate('apps/deployments', 'default', 'web', (d) => {
      d.spec.replicas = 4;
    });
    await waitFor(() => pdb().status?.disruptionsAllowed === 1, 5000, 'budget allows one');
    expect(decideEviction(fx.store, victim)).toMatchObject({ allowed: true, pdb: expect.objectContaining({ metadata: expect.objectContaining({ name: 'web' }) }) });
  });

  it('records an eviction so a second one right after is refused', async () => {
    await webWithPdb(3, { maxUnavailable: 1 });
    const [first, second] = readyPods();
    const decision = decideEviction(fx.store, first!);
    expect(decision.allowed).toBe(true);
    if (!decision.allowed || !decision.pdb) throw new Error('expected a budget');
    recordEviction(fx.store, decision.pdb, first!.metadata.name!);
    expect(pdb().status.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb().status.disruptedPods)).toEqual([first!.metadata.name]);
    // kube-apiserver's wording while the allowance is used up but 3 pods are still healthy (eviction.go checkAndDecrement).
    expect(decideEviction(fx.store, second!)).toMatchObject({ allowed: false, code: 429, causes: [{ message: 'The disruption budget web does not allow evicting pods currently' }] });
    deletePod(fx.store, first!);
    await waitFor(() => readyPods().length === 3 && pdb().status.disruptionsAllowed === 1 && !pdb().status.disruptedPods, 5000, 'replacement healthy, entry cleaned up');
  });

  it('refuses a pod covered by two budgets with 500 and skips budgets for pending pods', async () => {
    await webWithPdb(2, { maxUnavailable: 1 });
    fx.create('policy/poddisruptionbudgets', makePdb('web-too', { minAvailable: 0 }));
    const pod = readyPods()[0]!;
    expect(decideEviction(fx.store, pod)).toEqual({ allowed: false, code: 500, message: MULTIPLE_PDBS_MESSAGE });
    expect(decideEviction(fx.store, { ...pod, status: { phase: 'Pending' } })).toEqual({ allowed: true });
  });

  it('answers 429 while the budget has not observed its latest generation', async () => {
    await webWithPdb(2, { maxUnavailable: 1 });
    fx.stop();
    fx.store.mutate('policy/poddisruptionbudgets', 'default', 'web', (p) => {
      p.spec.maxUnavailable = 2;
    });
    expect(decideEviction(fx.store, readyPods()[0]!)).toMatchObject({ allowed: false, code: 429, causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }] });
  });

  it('follows unhealthyPodEvictionPolicy for unready pods', async () => {
    await webWithPdb(3, { minAvailable: 3 });
    const pod = readyPods()[0]!;
    fx.kubelet.setReady('default', pod.metadata.name!, false);
    await waitFor(() => pdb().status.currentHealthy === 2);
    const unready = fx.store.get('pods', 'default', pod.metadata.name!)!;
    expect(decideEviction(fx.store, unready)).toMatchObject({ allowed: false, code: 429 });
    fx.store.mutate('policy/poddisruptionbudgets', 'default', 'web', (p) => {
      p.spec.unhealthyPodEvictionPolicy = 'AlwaysAllow';
    });
    await waitFor(() => pdb().status.observedGeneration === 2);
    expect(decideEviction(fx.store, unready)).toEqual({ allowed: true });
  });
});
