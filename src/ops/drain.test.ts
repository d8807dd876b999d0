import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError } from '../kube/kubeErrors.js';
import type { Pod } from '../kube/kubeTypes.js';
import { Deadline } from './deadline.js';
import { deletionProgress, drainNode, nextEvictionStep, pdbsFromMessage, pdbsSelecting, type DrainOptions } from './drain.js';
import { DrainError } from './opsErrors.js';
import type { OpsEvent } from './opsEvents.js';
import { makeDaemonSet, makeNode, makePdb, makePod } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';
import { FakeClock } from './testing/fakeClock.js';

const rs = { kind: 'ReplicaSet', name: 'web-5d8' };

/** A node with two web pods (demo, PDB-able), one DaemonSet pod and a pod on another node. */
function cluster(): FakeCluster {
  const fake = new FakeCluster();
  fake.add(makeNode('n1'));
  fake.add(makeNode('n2'));
  fake.add(makeDaemonSet('canal'));
  fake.add(makePod('web-a', { namespace: 'demo', node: 'n1', owner: rs, labels: { app: 'web' } }));
  fake.add(makePod('web-b', { namespace: 'demo', node: 'n1', owner: rs, labels: { app: 'web' } }));
  fake.add(makePod('canal-n1', { namespace: 'kube-system', node: 'n1', owner: { kind: 'DaemonSet', name: 'canal' } }));
  fake.add(makePod('web-c', { namespace: 'demo', node: 'n2', owner: rs, labels: { app: 'web' } }));
  return fake;
}

/** kubectl drain --ignore-daemonsets with a virtual clock, recording events in `seen`. */
function opts(clock: FakeClock, extra: DrainOptions = {}): DrainOptions & { seen: OpsEvent[] } {
  const seen: OpsEvent[] = [];
  return { ignoreDaemonSets: true, clock, events: (e) => seen.push(e), seen, ...extra };
}

async function drainError(p: Promise<unknown>): Promise<DrainError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DrainError);
  return e as DrainError;
}

describe('drainNode', () => {
  it('cordons, evicts every pod but DaemonSet ones, and waits until they are gone', async () => {
    const fake = cluster();
    const o = opts(new FakeClock());
    const r = await drainNode(fake, 'n1', o);
    expect(r).toEqual({
      node: 'n1',
      evicted: ['demo/web-a', 'demo/web-b'],
      skipped: ['kube-system/canal-n1'],
      warnings: [{ message: 'ignoring DaemonSet-managed Pods', pods: ['kube-system/canal-n1'] }],
      usedEviction: true,
    });
    expect(fake.node('n1')?.spec?.unschedulable).toBe(true);
    expect(fake.pod('demo', 'web-a')).toBeUndefined();
    expect(fake.pod('demo', 'web-c')).toBeDefined();
    expect(fake.pod('kube-system', 'canal-n1')).toBeDefined();
    // One field-selector list, as kubectl; the deletion watch starts from it (no second list).
    expect(fake.callsOf('listWithVersion')).toEqual([[{ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: 'spec.nodeName=n1' }]]);
    expect(fake.callsOf('listPods')).toEqual([]);
    expect(o.seen.map((e) => e.type)).toEqual(['cordon', 'drainWarning', 'podEvicting', 'podEvicting', 'podGone', 'podGone', 'drainDone']);
  });

  it('refuses pods the filters reject, naming pods and flags, evicts nothing and leaves the node cordoned', async () => {
    const fake = cluster();
    fake.add(makePod('bare', { namespace: 'demo', node: 'n1' }));
    fake.add(makePod('cache', { namespace: 'demo', node: 'n1', owner: rs, emptyDir: true }));
    const e = await drainError(drainNode(fake, 'n1', { clock: new FakeClock() }));
    expect(e.failure).toBe('podFilters');
    expect(e.message).toContain('cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/canal-n1');
    expect(e.message).toContain('cannot delete Pods declare no controller (use --force to override): demo/bare');
    expect(e.message).toContain('cannot delete Pods with local storage (use --delete-emptydir-data to override): demo/cache');
    expect(fake.callsOf('evictPod')).toEqual([]);
    expect(fake.node('n1')?.spec?.unschedulable).toBe(true);
  });

  it('retries a 429 after the configured delay (default 5s) and then succeeds', async () => {
    const fake = cluster();
    fake.overrideEviction({ outcome: 'tooManyRequests', message: 'slow down' }, { times: 2, pod: 'demo/web-a' });
    const clock = new FakeClock();
    const o = opts(clock);
    await drainNode(fake, 'n1', o);
    expect(fake.callsOf('evictPod').filter((a) => a[1] === 'web-a')).toHaveLength(3);
    expect(clock.sleeps).toEqual([5000, 5000]);
    expect(o.seen.filter((e) => e.type === 'evictionRetry')).toEqual([
      { type: 'evictionRetry', node: 'n1', pod: 'demo/web-a', reason: 'tooManyRequests', message: 'slow down', retryInMs: 5000 },
      { type: 'evictionRetry', node: 'n1', pod: 'demo/web-a', reason: 'tooManyRequests', message: 'slow down', retryInMs: 5000 },
    ]);
  });

  it('uses an injected retry delay', async () => {
    const fake = cluster();
    fake.overrideEviction({ outcome: 'tooManyRequests', message: 'slow down' }, { times: 1 });
    const clock = new FakeClock();
    await drainNode(fake, 'n1', opts(clock, { evictionRetryDelayMs: 7 }));
    expect(clock.sleeps).toEqual([7]);
  });

  it('goes through once the PodDisruptionBudget allows a disruption again', async () => {
    const fake = cluster();
    fake.add(makePdb('web', 'demo', { app: 'web' }, 0));
    // After three refused evictions, the disruption controller recomputes: one disruption allowed each time.
    let refused = 0;
    fake.before(
      'evictPod',
      () => {
        if (++refused >= 3) fake.mutate('policy/v1', 'PodDisruptionBudget', 'web', 'demo', (b) => void (b.status = { ...(b.status as object), disruptionsAllowed: 1 }));
      },
      Infinity,
    );
    const clock = new FakeClock();
    const r = await drainNode(fake, 'n1', opts(clock, { deadline: Deadline.in(60_000, clock) }));
    expect(r.evicted).toEqual(['demo/web-a', 'demo/web-b']);
  });

  it('on timeout names every pending pod, the blocking PDB and its message, and leaves the node cordoned', async () => {
    const fake = cluster();
    fake.add(makePdb('web', 'demo', { app: 'web' }, 0));
    const clock = new FakeClock();
    const e = await drainError(drainNode(fake, 'n1', opts(clock, { deadline: Deadline.in(30_000, clock) })));
    expect(e.failure).toBe('timeout');
    expect(e.pending.map((p) => p.pod)).toEqual(['demo/web-a', 'demo/web-b']);
    expect(e.pending[0]?.pdbs).toEqual(['demo/web']);
    expect(e.message).toContain('did not finish within 30s');
    expect(e.message).toContain('demo/web-a (eviction blocked by PodDisruptionBudget demo/web: Cannot evict pod as it would violate the pod\'s disruption budget. The disruption budget web needs 2 healthy pods and has 2 currently)');
    expect(e.message).toContain('The node stays cordoned');
    expect(fake.node('n1')?.spec?.unschedulable).toBe(true);
    expect(fake.pod('demo', 'web-a')).toBeDefined();
    // never sleeps past the deadline
    expect(clock.now() - Date.parse('2025-01-01T00:00:00Z')).toBeLessThanOrEqual(60_000);
  });

  it('treats 404 on eviction as done', async () => {
    const fake = cluster();
    fake.overrideEviction({ outcome: 'notFound' }, { times: 1, pod: 'demo/web-a' });
    const r = await drainNode(fake, 'n1', opts(new FakeClock()));
    expect(r.evicted).toEqual(['demo/web-a', 'demo/web-b']);
    expect(fake.callsOf('getPod').some((a) => a[1] === 'web-a')).toBe(false);
  });

  it('waits for evicted pods on one watch of the node, not a GET per pod; a cut watch resumes, a 410 re-lists', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    const clock = new FakeClock();
    const o = opts(clock, { pollIntervalMs: 1000, deadline: Deadline.in(600_000, clock) });
    const drained = drainNode(fake, 'n1', o);
    const watching = async () => {
      for (let i = 0; i < 1000 && fake.openWatches === 0; i++) await new Promise((r) => setImmediate(r));
      expect(fake.openWatches).toBe(1);
    };
    await watching();
    fake.cutWatches();
    await watching();
    fake.finishTermination('demo', 'web-a');
    // A change this watch does not see (another node's pod), compacted away: resuming gets 410.
    fake.mutate<Pod>('v1', 'Pod', 'web-c', 'demo', (p) => void (p.metadata.labels = { ...p.metadata.labels, seen: 'no' }));
    fake.compactWatchHistory();
    fake.cutWatches();
    await watching();
    fake.finishTermination('demo', 'web-b');
    const r = await drained;
    expect(r.evicted).toEqual(['demo/web-a', 'demo/web-b']);
    expect(fake.callsOf('getPod')).toEqual([]);
    expect(fake.callsOf('listWithVersion')).toHaveLength(2);
    expect(o.seen.filter((e) => e.type === 'watchRestart').map((e) => (e as { why: string }).why)).toEqual(['closed', 'closed', 'expired']);
    expect(fake.openWatches).toBe(0);
  });

  it('names the pods still terminating when the deadline passes on the watch', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    const clock = new FakeClock();
    const e = await drainError(drainNode(fake, 'n1', opts(clock, { pollIntervalMs: 1000, deadline: Deadline.in(10_000, clock) })));
    expect(e.failure).toBe('timeout');
    expect(e.pending).toEqual([
      { pod: 'demo/web-a', reason: 'eviction accepted, still terminating', pdbs: [] },
      { pod: 'demo/web-b', reason: 'eviction accepted, still terminating', pdbs: [] },
    ]);
    expect(clock.now() - Date.parse('2025-01-01T00:00:00Z')).toBe(10_000);
    expect(fake.openWatches).toBe(0);
  });

  it('keeps its deadline while the API server cannot list the pods it waits on', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    // The drain's own list answers; then the watch's version is compacted away (410) and every
    // list to start over fails: the deletion wait must still end at the deadline.
    fake.before('watch', () => {
      fake.compactWatchHistory();
      fake.failNext('listWithVersion', new ClusterUnreachableError('https://fake.invalid:6443', 'ECONNREFUSED', 'connect ECONNREFUSED'), Infinity);
    });
    const clock = new FakeClock();
    const e = await drainError(drainNode(fake, 'n1', opts(clock, { pollIntervalMs: 1000, deadline: Deadline.in(10_000, clock) })));
    expect(e.failure).toBe('timeout');
    expect(e.pending.map((p) => p.pod)).toEqual(['demo/web-a', 'demo/web-b']);
    expect(clock.now() - Date.parse('2025-01-01T00:00:00Z')).toBeLessThanOrEqual(11_000);
  });

  it('counts a new pod under the same name (different UID) as gone, as kubectl does for StatefulSets', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    fake.before('watch', () => {
      fake.finishTermination('demo', 'web-a', { replace: true });
      fake.finishTermination('demo', 'web-b', { replace: true });
    });
    await drainNode(fake, 'n1', opts(new FakeClock()));
    expect(fake.pod('demo', 'web-a')?.metadata.deletionTimestamp).toBeUndefined();
    expect(fake.pod('demo', 'web-a')).toBeDefined();
  });

  it('evicts concurrently: every eviction is sent before waiting on any pod', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    fake.before('watch', () => {
      fake.finishTermination('demo', 'web-a');
      fake.finishTermination('demo', 'web-b');
    });
    await drainNode(fake, 'n1', opts(new FakeClock()));
    const order = fake.calls.map((c) => c.method).filter((m) => m === 'evictPod' || m === 'listWithVersion' || m === 'watch');
    expect(order).toEqual(['listWithVersion', 'evictPod', 'evictPod', 'watch']);
  });

  it('deletes pods (with a UID precondition) when the server has no eviction API', async () => {
    const fake = cluster();
    fake.podEvictionSupported = false;
    const uidA = fake.pod('demo', 'web-a')?.metadata.uid;
    const uidB = fake.pod('demo', 'web-b')?.metadata.uid;
    const r = await drainNode(fake, 'n1', opts(new FakeClock(), { gracePeriodSeconds: 10 }));
    expect(r.usedEviction).toBe(false);
    expect(fake.callsOf('evictPod')).toEqual([]);
    expect(fake.callsOf('deletePod')).toEqual([
      ['demo', 'web-a', { gracePeriodSeconds: 10, uid: uidA }],
      ['demo', 'web-b', { gracePeriodSeconds: 10, uid: uidB }],
    ]);
  });

  it('fails a pod on a non-retriable eviction error, still evicting the others', async () => {
    const fake = cluster();
    fake.overrideEviction({ outcome: 'failed', code: 500, reason: 'InternalError', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' }, { pod: 'demo/web-a' });
    const e = await drainError(drainNode(fake, 'n1', opts(new FakeClock())));
    expect(e.failure).toBe('evictionFailed');
    expect(e.errors).toEqual(['error when evicting pods/"web-a" -n "demo": This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.']);
    expect(e.pending.map((p) => p.pod)).toEqual(['demo/web-a']);
    expect(fake.pod('demo', 'web-b')).toBeUndefined();
  });

  it('retries when the API server is unreachable for a moment', async () => {
    const fake = cluster();
    fake.failNext('evictPod', new ClusterUnreachableError('https://fake.invalid:6443', 'ECONNREFUSED', 'connect ECONNREFUSED'));
    const clock = new FakeClock();
    const r = await drainNode(fake, 'n1', opts(clock, { evictionRetryDelayMs: 100 }));
    expect(r.evicted).toHaveLength(2);
    expect(clock.sleeps).toEqual([100]);
  });

  it('stops when aborted, naming what is pending', async () => {
    const fake = cluster();
    fake.add(makePdb('web', 'demo', { app: 'web' }, 0));
    const ac = new AbortController();
    fake.before('evictPod', () => ac.abort('user pressed ^C'), 1);
    const e = await drainError(drainNode(fake, 'n1', opts(new FakeClock(), { signal: ac.signal })));
    expect(e.failure).toBe('aborted');
    expect(e.pending.map((p) => p.pod).sort()).toEqual(['demo/web-a', 'demo/web-b']);
    expect(fake.node('n1')?.spec?.unschedulable).toBe(true);
    // A budget that refused for a moment is not what stopped it: no advice to relax it.
    expect(e.message).toMatch(/^drain of node "n1" was interrupted: 2 pods still pending: .*\. The node stays cordoned; re-run to continue the drain\.$/);
    expect(e.message).not.toContain('relax');
  });

  it('an empty node drains at once', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n9'));
    const r = await drainNode(fake, 'n9', { clock: new FakeClock() });
    expect(r.evicted).toEqual([]);
    expect(fake.callsOf('hasPodEviction')).toHaveLength(1);
  });
});

describe('drain decisions', () => {
  const pod: Pod = makePod('p', { namespace: 'ns', owner: rs });
  const terminating: Pod = makePod('p', { namespace: 'ns', owner: rs, deletionTimestamp: '2025-01-01T00:00:00Z' });

  it('nextEvictionStep follows kubectl', () => {
    expect(nextEvictionStep({ outcome: 'evicted' }, pod)).toEqual({ next: 'waitForDeletion' });
    expect(nextEvictionStep({ outcome: 'notFound' }, pod)).toEqual({ next: 'done' });
    expect(nextEvictionStep({ outcome: 'blockedByPdb', message: 'Cannot evict.', causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2' }] }, pod)).toEqual({
      next: 'retry',
      reason: 'blockedByPdb',
      message: 'Cannot evict. The disruption budget web needs 2',
      refreshPod: false,
    });
    expect(nextEvictionStep({ outcome: 'namespaceTerminating', message: 'ns terminating' }, pod)).toMatchObject({ next: 'retry', refreshPod: true });
    expect(nextEvictionStep({ outcome: 'namespaceTerminating', message: 'ns terminating' }, terminating)).toEqual({ next: 'waitForDeletion' });
    expect(nextEvictionStep({ outcome: 'failed', code: 403, reason: 'Forbidden', message: 'no' }, pod)).toEqual({ next: 'fail', message: 'error when evicting pods/"p" -n "ns": no' });
  });

  it('deletionProgress: 404 or new UID is gone; long-terminating is skipped', () => {
    const orig = { ...pod, metadata: { ...pod.metadata, uid: 'u1' } };
    expect(deletionProgress(orig, undefined, 0, 0)).toBe('gone');
    expect(deletionProgress(orig, { ...orig, metadata: { ...orig.metadata, uid: 'u2' } }, 0, 0)).toBe('gone');
    expect(deletionProgress(orig, orig, 0, 0)).toBe('pending');
    const t = { ...orig, metadata: { ...orig.metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } };
    expect(deletionProgress(orig, t, 30, Date.parse('2025-01-01T00:01:00Z'))).toBe('skipped');
  });

  it('names PDBs from their selectors, or from the server message', () => {
    const web = makePod('w', { namespace: 'demo', labels: { app: 'web' } });
    expect(pdbsSelecting(web, [makePdb('web', 'demo', { app: 'web' }, 0), makePdb('other', 'demo', { app: 'db' }, 0), makePdb('web', 'prod', { app: 'web' }, 0)])).toEqual(['demo/web']);
    expect(pdbsFromMessage('demo', 'The disruption budget web-pdb needs 2 healthy pods and has 1 currently')).toEqual(['demo/web-pdb']);
    // kube-apiserver's other wordings (eviction.go): the allowance used up with enough healthy pods, a failed sync, a new generation.
    expect(pdbsFromMessage('demo', 'The disruption budget web does not allow evicting pods currently')).toEqual(['demo/web']);
    expect(pdbsFromMessage('demo', 'The disruption budget web does not allow evicting pods currently because it failed sync: boom')).toEqual(['demo/web']);
    expect(pdbsFromMessage('demo', 'The disruption budget web is still being processed by the server.')).toEqual(['demo/web']);
  });
});
