import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { countDaemonSetStatus, planDaemonPods, planRollingUpdate, rolloutLimits } from './daemonSetPlan.js';
import type { DaemonPodView } from './daemonSetPods.js';
import { maxSurge, maxUnavailable, newRSNewReplicas, planOldScaleDown, type RsCounts } from './deploymentRollout.js';
import { computePdbStatus, countHealthyPods, liveDisruptedPods, pdbTargets } from './pdbStatus.js';
import { makeDaemonSet, makeDeployment } from './testing/clusterFixture.js';

const view = (name: string, p: Partial<DaemonPodView> = {}): DaemonPodView => ({ name, bound: true, createdMs: 0, phase: 'Running', deleting: false, ready: true, available: true, updated: false, hashMatches: false, ...p });
const nodes = (...names: string[]) => names.map((name) => ({ name, shouldRun: true, shouldContinueRunning: true }));

describe('DaemonSet plans', () => {
  it('creates where missing, waits for a terminating pod, removes extras and pods on nodes it left', () => {
    const plan = planDaemonPods(
      [...nodes('a', 'b', 'c', 'd'), { name: 'e', shouldRun: false, shouldContinueRunning: false }],
      new Map([
        ['b', [view('b-old', { deleting: true })]],
        ['c', [view('c1', { createdMs: 1 }), view('c2', { createdMs: 2 })]],
        ['d', [view('d1', { phase: 'Failed' })]],
        ['e', [view('e1')]],
        ['gone', [view('gone1', { bound: false })]],
      ]),
      false,
    );
    expect(plan).toEqual({ createOn: ['a'], deletePods: ['c2', 'd1', 'e1', 'gone1'] });
  });

  it('rolls within maxUnavailable, counting nodes without a pod as unavailable', () => {
    const map = new Map([
      ['a', [view('a1')]],
      ['b', [view('b1')]],
      ['c', [view('c1')]],
    ]);
    expect(planRollingUpdate(nodes('a', 'b', 'c'), map, { maxSurge: 0, maxUnavailable: 2 }).deletePods).toEqual(['a1', 'b1']);
    expect(planRollingUpdate(nodes('a', 'b', 'c', 'd'), map, { maxSurge: 0, maxUnavailable: 2 }).deletePods).toEqual(['a1']);
    const unavailableOld = new Map([['a', [view('a1', { available: false })]], ['b', [view('b1')]]]);
    expect(planRollingUpdate(nodes('a', 'b'), unavailableOld, { maxSurge: 0, maxUnavailable: 1 }).deletePods).toEqual(['a1', 'b1']);
  });

  it('surges new pods and deletes old ones once the new pod is available', () => {
    const map = new Map([
      ['a', [view('a1'), view('a2', { updated: true, hashMatches: true })]],
      ['b', [view('b1')]],
      ['c', [view('c1')]],
    ]);
    expect(planRollingUpdate(nodes('a', 'b', 'c'), map, { maxSurge: 1, maxUnavailable: 0 })).toEqual({ createOn: ['b'], deletePods: ['a1'] });
  });

  it('defaults limits as the DaemonSet controller does', () => {
    expect(rolloutLimits(makeDaemonSet('x'), 10)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(rolloutLimits(makeDaemonSet('x', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } } }), 10)).toEqual({ maxSurge: 0, maxUnavailable: 3 });
    expect(rolloutLimits(makeDaemonSet('x', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }), 4)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it('counts status from the oldest pod per node', () => {
    const counts = countDaemonSetStatus(
      [...nodes('a', 'b', 'c'), { name: 'd', shouldRun: false, shouldContinueRunning: true }],
      new Map([
        ['a', [view('a1', { updated: true })]],
        ['b', [view('b1', { deleting: true, ready: false, available: false })]],
        ['d', [view('d1')]],
      ]),
    );
    expect(counts).toEqual({ desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 1, numberAvailable: 1, numberUnavailable: 2, updatedNumberScheduled: 1 });
  });
});

describe('Deployment arithmetic', () => {
  const rs = (name: string, replicas: number, available: number, createdMs = 0): RsCounts => ({ name, replicas, available, current: replicas, createdMs });

  it('resolves 25%/25% with surge rounding up and unavailable rounding down', () => {
    expect([maxSurge(makeDeployment('d', 3)), maxUnavailable(makeDeployment('d', 3))]).toEqual([1, 0]);
    expect([maxSurge(makeDeployment('d', 10)), maxUnavailable(makeDeployment('d', 10))]).toEqual([3, 2]);
    expect(maxUnavailable(makeDeployment('d', 1, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }))).toBe(1);
    expect(maxUnavailable(makeDeployment('d', 4, { strategy: { type: 'Recreate' } }))).toBe(0);
  });

  it('grows the new ReplicaSet within the surge', () => {
    const d = makeDeployment('d', 4);
    expect(newRSNewReplicas(d, [rs('old', 4, 4), rs('new', 0, 0)], rs('new', 0, 0))).toBe(1);
    expect(newRSNewReplicas(d, [rs('old', 3, 3), rs('new', 1, 1)], rs('new', 1, 1))).toBe(2);
    expect(newRSNewReplicas(d, [rs('old', 4, 4), rs('new', 1, 0)], rs('new', 1, 0))).toBe(1);
  });

  it('scales old ReplicaSets down only as far as availability allows, unhealthy replicas first', () => {
    const d = makeDeployment('d', 4);
    expect(planOldScaleDown(d, [rs('old', 4, 4)], rs('new', 1, 0))).toEqual(new Map([['old', 3]]));
    expect(planOldScaleDown(d, [rs('old', 4, 4)], rs('new', 1, 1))).toEqual(new Map([['old', 2]]));
    expect(planOldScaleDown(d, [rs('older', 2, 0, 1), rs('old', 2, 2, 2)], rs('new', 1, 0))).toEqual(new Map([['older', 1]]));
  });
});

describe('PDB arithmetic', () => {
  const pdb = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p', generation: 2 }, spec });
  const pod = (name: string, ready = true, deleting = false): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(deleting ? { deletionTimestamp: '2030-01-01T00:00:00Z' } : {}) },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });

  it('derives expected and desired counts', () => {
    expect(pdbTargets(pdb({ minAvailable: 2 }), 5, () => 99)).toEqual({ expectedPods: 5, desiredHealthy: 2 });
    expect(pdbTargets(pdb({ maxUnavailable: '30%' }), 5, () => 10)).toEqual({ expectedPods: 10, desiredHealthy: 7 });
    expect(pdbTargets(pdb({ minAvailable: '30%' }), 5, () => 10)).toEqual({ expectedPods: 10, desiredHealthy: 3 });
  });

  it('keeps recent disruptions out of the healthy count and drops stale ones', () => {
    const now = Date.parse('2030-01-01T00:10:00Z');
    const pods = [pod('a'), pod('b'), pod('c', false), pod('d', true, true), pod('e')];
    const { disrupted, recheckAtMs } = liveDisruptedPods(pods, { a: '2030-01-01T00:09:30Z', e: '2030-01-01T00:00:00Z', d: '2030-01-01T00:09:59Z' }, now);
    expect(disrupted).toEqual({ a: '2030-01-01T00:09:30Z' });
    expect(recheckAtMs).toBe(Date.parse('2030-01-01T00:11:30Z'));
    expect(countHealthyPods(pods, disrupted)).toBe(2);
    const status = computePdbStatus(pdb({ minAvailable: 1 }), { expectedPods: 5, desiredHealthy: 1 }, 2, disrupted);
    expect(status).toMatchObject({ disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 5, observedGeneration: 2, disruptedPods: disrupted });
    expect(computePdbStatus(pdb({ minAvailable: 1 }), { expectedPods: 0, desiredHealthy: 0 }, 2, {})).toMatchObject({ disruptionsAllowed: 0 });
  });
});
