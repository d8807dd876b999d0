import { describe, expect, it } from 'vitest';
import type { DaemonSet, Deployment, StatefulSet } from '../kube/kubeTypes.js';
import { Deadline } from './deadline.js';
import { RolloutFailedError, WaitTimeoutError } from './opsErrors.js';
import type { OpsEvent } from './opsEvents.js';
import { daemonSetRolloutStatus, deploymentRolloutStatus, rolloutStatus, statefulSetRolloutStatus, waitForRollout, waitForRollouts } from './rollout.js';
import { makeDaemonSet } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';
import { FakeClock } from './testing/fakeClock.js';

const ds = (status: DaemonSet['status'], generation = 2, type = 'RollingUpdate'): DaemonSet => ({
  metadata: { name: 'cilium', namespace: 'kube-system', generation },
  spec: { updateStrategy: { type } },
  status,
});
const deploy = (replicas: number | undefined, status: Deployment['status'], generation = 3): Deployment => ({
  metadata: { name: 'web', generation },
  spec: replicas === undefined ? {} : { replicas },
  status,
});
const sts = (spec: StatefulSet['spec'], status: StatefulSet['status'], generation = 1): StatefulSet => ({ metadata: { name: 'db', generation }, spec, status });

describe('rolloutStatus (kubectl rollout status rules)', () => {
  it('DaemonSet', () => {
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 1 }))).toEqual({ done: false, message: 'Waiting for daemon set spec update to be observed...' });
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 }))).toEqual({
      done: false,
      message: 'Waiting for daemon set "cilium" rollout to finish: 1 out of 3 new pods have been updated...',
    });
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).message).toBe(
      'Waiting for daemon set "cilium" rollout to finish: 2 of 3 updated pods are available...',
    );
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }))).toEqual({
      done: true,
      message: 'daemon set "cilium" successfully rolled out',
    });
    // nothing scheduled (nodeSelector matches no node yet): done at once, as kubectl
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 0 })).done).toBe(true);
    // numberUnavailable / numberMisscheduled are not looked at
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberMisscheduled: 2 })).done).toBe(true);
    expect(daemonSetRolloutStatus(ds({ observedGeneration: 2 }, 2, 'OnDelete'))).toMatchObject({ done: false, error: 'rollout status is only available for RollingUpdate strategy type' });
  });

  it('Deployment', () => {
    expect(deploymentRolloutStatus(deploy(3, { observedGeneration: 2 })).message).toBe('Waiting for deployment spec update to be observed...');
    expect(deploymentRolloutStatus(deploy(3, { observedGeneration: 3, updatedReplicas: 1, replicas: 3 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    );
    expect(deploymentRolloutStatus(deploy(3, { observedGeneration: 3, updatedReplicas: 3, replicas: 4, availableReplicas: 3 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    );
    expect(deploymentRolloutStatus(deploy(3, { observedGeneration: 3, updatedReplicas: 3, replicas: 3, availableReplicas: 2 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    );
    expect(deploymentRolloutStatus(deploy(3, { observedGeneration: 3, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }))).toEqual({ done: true, message: 'deployment "web" successfully rolled out' });
    expect(
      deploymentRolloutStatus(deploy(3, { observedGeneration: 3, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] })),
    ).toMatchObject({ error: 'deployment "web" exceeded its progress deadline' });
  });

  it('StatefulSet', () => {
    const rolling = { type: 'RollingUpdate' };
    expect(statefulSetRolloutStatus(sts({ replicas: 3, updateStrategy: rolling }, { observedGeneration: 0 })).message).toBe('Waiting for statefulset spec update to be observed...');
    expect(statefulSetRolloutStatus(sts({ replicas: 3, updateStrategy: rolling }, { observedGeneration: 1, readyReplicas: 1 })).message).toBe('Waiting for 2 pods to be ready...');
    expect(
      statefulSetRolloutStatus(sts({ replicas: 3, updateStrategy: rolling }, { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 3, updateRevision: 'r2', currentRevision: 'r1' })).message,
    ).toBe('waiting for statefulset rolling update to complete 3 pods at revision r2...');
    expect(
      statefulSetRolloutStatus(sts({ replicas: 3, updateStrategy: rolling }, { observedGeneration: 1, readyReplicas: 3, currentReplicas: 3, updateRevision: 'r2', currentRevision: 'r2' })),
    ).toEqual({ done: true, message: 'statefulset rolling update complete 3 pods at revision r2...' });
    const partitioned = { type: 'RollingUpdate', rollingUpdate: { partition: 1 } };
    expect(statefulSetRolloutStatus(sts({ replicas: 3, updateStrategy: partitioned }, { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1 })).message).toBe(
      'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    );
    expect(statefulSetRolloutStatus(sts({ replicas: 3, updateStrategy: partitioned }, { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 2 }))).toEqual({
      done: true,
      message: 'partitioned roll out complete: 2 new pods have been updated...',
    });
    expect(statefulSetRolloutStatus(sts({ updateStrategy: { type: 'OnDelete' } }, {}))).toMatchObject({ error: 'rollout status is only available for RollingUpdate strategy type' });
  });

  it('dispatches by kind', () => {
    expect(rolloutStatus('DaemonSet', ds({ observedGeneration: 1 })).message).toContain('daemon set');
    expect(rolloutStatus('Deployment', deploy(1, { observedGeneration: 1 })).message).toContain('deployment');
  });
});

describe('waitForRollout', () => {
  const progress = (fake: FakeCluster, updated: number) =>
    fake.mutate('apps/v1', 'DaemonSet', 'cilium', 'kube-system', (d: DaemonSet) => {
      d.status = { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: updated, numberAvailable: updated };
    });

  it('follows a watch until done, reporting each new status: one GET, one list, one watch, no polling', async () => {
    const fake = new FakeCluster();
    fake.add(makeDaemonSet('cilium', 'kube-system', { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 0, numberAvailable: 0 }));
    fake.before('watch', () => {
      progress(fake, 1);
      progress(fake, 2);
    });
    const clock = new FakeClock();
    const seen: OpsEvent[] = [];
    const r = await waitForRollout(fake, { kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' }, { deadline: Deadline.in(60_000, clock), clock, events: (e) => seen.push(e) });
    expect(r).toEqual({ done: true, message: 'daemon set "cilium" successfully rolled out' });
    expect(seen.map((e) => (e.type === 'waiting' ? e.status : e.type))).toEqual([
      'Waiting for daemon set "cilium" rollout to finish: 0 out of 2 new pods have been updated...',
      'Waiting for daemon set "cilium" rollout to finish: 1 out of 2 new pods have been updated...',
    ]);
    expect([fake.callsOf('getWorkload').length, fake.callsOf('listWithVersion').length, fake.callsOf('watch').length]).toEqual([1, 1, 1]);
    // Only the deadline's timer: no poll interval was slept.
    expect(clock.sleeps).toEqual([60_000]);
    expect(fake.openWatches).toBe(0);
  });

  it('resumes a cut watch from the last resourceVersion it saw, and re-lists after 410 Expired', async () => {
    const fake = new FakeCluster();
    fake.add(makeDaemonSet('cilium', 'kube-system', { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 0, numberAvailable: 0 }));
    let watches = 0;
    let seenVersion = '';
    fake.before(
      'watch',
      () => {
        watches++;
        if (watches === 1) {
          progress(fake, 1);
          seenVersion = fake.peek('apps/v1', 'DaemonSet', 'cilium', 'kube-system')!.metadata.resourceVersion!;
          // The connection drops once the event is through.
          setImmediate(() => fake.cutWatches());
        }
        // Other writes, then a compaction: the resumed watch finds its version gone.
        if (watches === 2) {
          fake.add(makeDaemonSet('other', 'kube-system'));
          fake.compactWatchHistory();
        }
        if (watches === 3) progress(fake, 2);
      },
      3,
    );
    const clock = new FakeClock();
    const seen: OpsEvent[] = [];
    const r = await waitForRollout(fake, { kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' }, { deadline: Deadline.never(), clock, events: (e) => seen.push(e) });
    expect(r.done).toBe(true);
    expect(seen.filter((e) => e.type === 'watchRestart').map((e) => (e.type === 'watchRestart' ? e.why : ''))).toEqual(['closed', 'expired']);
    const versions = fake.callsOf('watch').map((args) => (args[1] as { resourceVersion: string }).resourceVersion);
    expect(versions[1]).toBe(seenVersion);
    expect(fake.callsOf('listWithVersion')).toHaveLength(2);
    expect(versions).toHaveLength(3);
  });

  it('times out with the last kubectl message', async () => {
    const fake = new FakeCluster();
    fake.add(makeDaemonSet('cilium', 'kube-system', { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1 }));
    const clock = new FakeClock();
    const err = await waitForRollout(fake, { kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' }, { deadline: Deadline.in(10_000, clock), clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe(
      'timed out after 10s waiting for DaemonSet kube-system/cilium to roll out: Waiting for daemon set "cilium" rollout to finish: 1 of 3 updated pods are available...',
    );
  });

  it('fails fast when the rollout can never finish, and on a missing object', async () => {
    const fake = new FakeCluster();
    fake.add({ ...makeDaemonSet('old'), spec: { updateStrategy: { type: 'OnDelete' } } });
    const clock = new FakeClock();
    await expect(waitForRollout(fake, { kind: 'DaemonSet', namespace: 'kube-system', name: 'old' }, { deadline: Deadline.never(), clock })).rejects.toBeInstanceOf(RolloutFailedError);
    await expect(waitForRollout(fake, { kind: 'Deployment', namespace: 'x', name: 'nope' }, { deadline: Deadline.never(), clock })).rejects.toMatchObject({ code: 404 });
  });

  describe('several at once', () => {
    const rolling = { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1 };
    const done = { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 };

    it('one list and one watch per kind and namespace, missing ones reported, not awaited', async () => {
      const fake = new FakeCluster();
      fake.add(makeDaemonSet('cilium', 'kube-system', rolling));
      fake.add(makeDaemonSet('canal', 'kube-system', done));
      fake.add(makeDaemonSet('probe-a', 'probe', done));
      fake.before('watch', () => setImmediate(() => fake.mutate<DaemonSet>('apps/v1', 'DaemonSet', 'cilium', 'kube-system', (d) => void (d.status = done))));
      const refs = [
        { kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'cilium' },
        { kind: 'DaemonSet' as const, namespace: 'probe', name: 'probe-a' },
        { kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'canal' },
        { kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'gone' },
      ];
      const out = await waitForRollouts(fake, refs, { deadline: Deadline.never(), clock: new FakeClock() });
      expect(out.map((o) => o.state)).toEqual(['done', 'done', 'done', 'missing']);
      expect(fake.callsOf('listWithVersion').map((a) => (a[1] as { namespace: string }).namespace)).toEqual(['kube-system', 'probe']);
      expect(fake.callsOf('watch')).toHaveLength(1);
      expect(fake.callsOf('getWorkload')).toEqual([]);
    });

    it('fails when an awaited one is deleted, and times out naming what it waits on', async () => {
      const fake = new FakeCluster();
      fake.add(makeDaemonSet('cilium', 'kube-system', rolling));
      fake.add(makeDaemonSet('canal', 'kube-system', rolling));
      fake.before('watch', () => setImmediate(() => void fake.deleteObject({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' })));
      const refs = [
        { kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'cilium' },
        { kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'canal' },
      ];
      const clock = new FakeClock();
      await expect(waitForRollouts(fake, refs, { deadline: Deadline.never(), clock })).rejects.toThrow('DaemonSet kube-system/cilium: it was deleted while its rollout was awaited');
      const slow = new FakeCluster();
      slow.add(makeDaemonSet('cilium', 'kube-system', rolling));
      const err = await waitForRollouts(slow, refs.slice(0, 1), { deadline: Deadline.in(10_000, clock), clock }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WaitTimeoutError);
      expect((err as Error).message).toBe('timed out after 10s without progress waiting for DaemonSets kube-system/cilium to roll out: Waiting for daemon set "cilium" rollout to finish: 1 of 3 updated pods are available...');
    });

    it('a rollout that keeps progressing outlasts the budget; one that stalls fails after it', async () => {
      // Each watch sees one more pod updated, a budget's worth of (virtual) time after the last.
      const fake = new FakeCluster();
      const status = (updated: number) => ({ observedGeneration: 1, desiredNumberScheduled: 6, updatedNumberScheduled: updated, numberAvailable: updated });
      fake.add(makeDaemonSet('canal', 'kube-system', status(1)));
      let updated = 1;
      fake.before('watch', () => setImmediate(() => fake.mutate<DaemonSet>('apps/v1', 'DaemonSet', 'canal', 'kube-system', (d) => void (d.status = status(Math.min(6, ++updated))))), 10);
      const clock = new FakeClock();
      const start = clock.now();
      const out = await waitForRollouts(fake, [{ kind: 'DaemonSet', namespace: 'kube-system', name: 'canal' }], { deadline: Deadline.in(10_000, clock), clock });
      expect(out.map((o) => o.state)).toEqual(['done']);
      expect(clock.now() - start).toBeGreaterThan(10_000);
      // Negative control: the same rollout stuck at 3 of 6 fails one budget after its last change.
      const stuck = new FakeCluster();
      stuck.add(makeDaemonSet('canal', 'kube-system', status(3)));
      const err = await waitForRollouts(stuck, [{ kind: 'DaemonSet', namespace: 'kube-system', name: 'canal' }], { deadline: Deadline.in(10_000, clock), clock }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('timed out after 10s without progress waiting for DaemonSets kube-system/canal to roll out: Waiting for daemon set "canal" rollout to finish: 3 out of 6 new pods have been updated...');
    });
  });
});
