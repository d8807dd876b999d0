import type { OpsEvent } from './opsEvents.js';
import { describe, expect, it } from 'vitest';
import { Deadline } from './deadline.js';
import { deleteNodePods, usesPodNetwork } from './deleteNodePods.js';
import { WaitTimeoutError } from './opsErrors.js';
import { makeNode, makePod } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';
import { FakeClock } from './testing/fakeClock.js';

function cluster(): FakeCluster {
  const fake = new FakeCluster();
  fake.add(makeNode('n1'));
  fake.add(makePod('web', { namespace: 'demo', node: 'n1', owner: { kind: 'ReplicaSet', name: 'web-1' } }));
  fake.add(makePod('knet-stress-x', { namespace: 'knet-stress', node: 'n1', owner: { kind: 'DaemonSet', name: 'knet-stress' } }));
  fake.add(makePod('canal-x', { namespace: 'kube-system', node: 'n1', hostNetwork: true, owner: { kind: 'DaemonSet', name: 'canal' } }));
  fake.add(makePod('etcd-n1', { namespace: 'kube-system', node: 'n1', annotations: { 'kubernetes.io/config.mirror': 'x' } }));
  fake.add(makePod('web-2', { namespace: 'demo', node: 'n2' }));
  return fake;
}

describe('deleteNodePods', () => {
  it('usesPodNetwork leaves hostNetwork and static pods out', () => {
    expect(usesPodNetwork(makePod('a'))).toBe(true);
    expect(usesPodNetwork(makePod('a', { hostNetwork: true }))).toBe(false);
    expect(usesPodNetwork(makePod('a', { annotations: { 'kubernetes.io/config.mirror': '' } }))).toBe(false);
  });

  it('deletes every pod-network pod on the node with a UID precondition and waits until they are gone', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    const uids = [fake.pod('demo', 'web')?.metadata.uid, fake.pod('knet-stress', 'knet-stress-x')?.metadata.uid];
    // The kubelet finishes both terminations while the tool watches.
    fake.before('watch', () =>
      setImmediate(() => {
        fake.finishTermination('demo', 'web');
        fake.finishTermination('knet-stress', 'knet-stress-x');
      }),
    );
    const clock = new FakeClock();
    const seen: OpsEvent[] = [];
    const r = await deleteNodePods(fake, 'n1', { deadline: Deadline.in(60_000, clock), clock, events: (e) => seen.push(e) });
    // Seen through one watch: no pod was polled.
    expect(fake.callsOf('getPod')).toHaveLength(0);
    expect(fake.callsOf('watch')).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'podGone').map((e) => (e.type === 'podGone' ? e.pod : ''))).toEqual(['demo/web', 'knet-stress/knet-stress-x']);
    expect(r.deleted).toEqual(['demo/web', 'knet-stress/knet-stress-x']);
    expect(fake.callsOf('deletePod').map((a) => [a[1], (a[2] as { uid?: string }).uid])).toEqual([
      ['web', uids[0]],
      ['knet-stress-x', uids[1]],
    ]);
    expect(fake.allPods().map((p) => p.metadata.name).sort()).toEqual(['canal-x', 'etcd-n1', 'web-2']);
  });

  it('times out naming the pods still terminating', async () => {
    const fake = cluster();
    fake.podTermination = 'manual';
    const clock = new FakeClock();
    const err = await deleteNodePods(fake, 'n1', { deadline: Deadline.in(5000, clock), clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe('timed out after 5s waiting for pods on node n1 to be deleted: still terminating: demo/web, knet-stress/knet-stress-x');
  });
});
