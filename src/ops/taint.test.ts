import { describe, expect, it } from 'vitest';
import type { Taint } from '../kube/kubeTypes.js';
import { ConflictRetriesExhaustedError } from './opsErrors.js';
import type { OpsEvent } from './opsEvents.js';
import { releaseNode } from './nodeRelease.js';
import { addTaint, addTaintToNodes, removeTaint, taintsWith, taintsWithout } from './taint.js';
import { makeNode } from './testing/builders.js';
import { conflictError, FakeCluster } from './testing/fakeCluster.js';

const cilium: Taint = { key: 'node-role.kubernetes.io/cilium', value: 'cilium', effect: 'NoExecute' };
const unsched: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

describe('taint lists', () => {
  it('taintsWith adds, replaces the value of the same key+effect in place, and leaves identical ones', () => {
    expect(taintsWith(undefined, cilium)).toEqual({ taints: [cilium], changed: true });
    expect(taintsWith([unsched, cilium], cilium)).toEqual({ taints: [unsched, cilium], changed: false });
    expect(taintsWith([cilium, unsched], { ...cilium, value: 'x' })).toEqual({ taints: [{ ...cilium, value: 'x' }, unsched], changed: true });
    // same key, other effect: a different taint
    expect(taintsWith([cilium], { ...cilium, effect: 'NoSchedule' }).taints).toHaveLength(2);
  });

  it('taintsWithout removes by key, or by key and effect', () => {
    const both: Taint[] = [cilium, { ...cilium, effect: 'NoSchedule' }, unsched];
    expect(taintsWithout(both, { key: cilium.key })).toEqual({ taints: [unsched], changed: true });
    expect(taintsWithout(both, { key: cilium.key, effect: 'NoExecute' }).taints).toEqual([{ ...cilium, effect: 'NoSchedule' }, unsched]);
    expect(taintsWithout([unsched], { key: cilium.key })).toEqual({ taints: [unsched], changed: false });
  });
});

describe('addTaint / removeTaint', () => {
  it('writes the whole list with the resourceVersion read, keeping other taints', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1', { taints: [unsched] }));
    const rv = fake.node('n1')?.metadata.resourceVersion;
    expect(await addTaint(fake, 'n1', cilium)).toEqual({ changed: true });
    expect(fake.callsOf('patchNode')).toEqual([['n1', { spec: { taints: [unsched, cilium] } }, { resourceVersion: rv }]]);
    expect(await addTaint(fake, 'n1', cilium)).toEqual({ changed: false });
    expect(await removeTaint(fake, 'n1', { key: cilium.key })).toEqual({ changed: true });
    expect(fake.node('n1')?.spec?.taints).toEqual([unsched]);
  });

  it('removing the last taint drops the field', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1', { taints: [cilium] }));
    await removeTaint(fake, 'n1', { key: cilium.key, effect: 'NoExecute' });
    expect(fake.node('n1')?.spec).not.toHaveProperty('taints');
  });

  it('re-reads and retries when another writer changed the node in between (409)', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1'));
    // The node lifecycle controller adds its unschedulable taint between our read and our write.
    fake.before('patchNode', () =>
      fake.mutate('v1', 'Node', 'n1', undefined, (n) => {
        (n.spec as { taints?: Taint[] }).taints = [unsched];
      }),
    );
    const seen: OpsEvent[] = [];
    expect(await addTaint(fake, 'n1', cilium, { events: (e) => seen.push(e) })).toEqual({ changed: true });
    expect(fake.node('n1')?.spec?.taints).toEqual([unsched, cilium]);
    expect(fake.callsOf('getNode')).toHaveLength(2);
    expect(seen).toEqual([
      { type: 'conflictRetry', object: 'node n1', attempt: 1 },
      { type: 'taint', node: 'n1', action: 'add', key: cilium.key, effect: 'NoExecute', changed: true },
    ]);
  });

  it('gives up after maxAttempts conflicts with a clear error', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1'));
    fake.failNext('patchNode', conflictError('nodes', 'n1'), 3);
    const err = await addTaint(fake, 'n1', cilium, { maxAttempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictRetriesExhaustedError);
    expect((err as Error).message).toBe('node n1 kept changing under us: 3 updates in a row hit a resourceVersion conflict; re-run to try again');
  });

  it('does not retry other errors', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1'));
    fake.failNext('patchNode', new Error('boom'));
    await expect(addTaint(fake, 'n1', cilium)).rejects.toThrow('boom');
    expect(fake.callsOf('patchNode')).toHaveLength(1);
  });
});

describe('addTaintToNodes', () => {
  it('reads every node with one list and writes each with the resourceVersion listed', async () => {
    const fake = new FakeCluster();
    for (const n of ['n1', 'n2', 'n3']) fake.add(makeNode(n, n === 'n2' ? { taints: [cilium] } : {}));
    const rv1 = fake.node('n1')?.metadata.resourceVersion;
    expect(await addTaintToNodes(fake, ['n1', 'n2', 'n3'], cilium)).toEqual({ changed: ['n1', 'n3'] });
    expect(fake.callsOf('listNodes')).toHaveLength(1);
    expect(fake.callsOf('getNode')).toHaveLength(0);
    expect(fake.callsOf('patchNode').map((c) => c[0])).toEqual(['n1', 'n3']);
    expect(fake.callsOf('patchNode')[0]).toEqual(['n1', { spec: { taints: [cilium] } }, { resourceVersion: rv1 }]);
    for (const n of ['n1', 'n2', 'n3']) expect(fake.node(n)?.spec?.taints, n).toEqual([cilium]);
  });

  it('re-reads only the node that changed since the list (409)', async () => {
    const fake = new FakeCluster();
    for (const n of ['n1', 'n2']) fake.add(makeNode(n));
    // Someone taints n1 between our list and our write.
    fake.before('patchNode', () =>
      fake.mutate('v1', 'Node', 'n1', undefined, (n) => {
        (n.spec as { taints?: Taint[] }).taints = [unsched];
      }),
    );
    await addTaintToNodes(fake, ['n1', 'n2'], cilium);
    expect(fake.callsOf('getNode')).toEqual([['n1']]);
    expect(fake.node('n1')?.spec?.taints).toEqual([unsched, cilium]);
    expect(fake.node('n2')?.spec?.taints).toEqual([cilium]);
  });
});

describe('releaseNode', () => {
  it('removes the taint, uncordons and labels in one patch, keeping other taints', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1', { taints: [unsched, cilium], unschedulable: true }));
    const rv = fake.node('n1')?.metadata.resourceVersion;
    const seen: OpsEvent[] = [];
    await releaseNode(fake, 'n1', { untaint: { key: cilium.key, effect: 'NoExecute' }, labels: { done: 'true' } }, { events: (e) => seen.push(e) });
    expect(fake.callsOf('patchNode')).toEqual([['n1', { spec: { taints: [unsched], unschedulable: null }, metadata: { labels: { done: 'true' } } }, { resourceVersion: rv }]]);
    const n = fake.node('n1');
    expect(n?.spec?.taints).toEqual([unsched]);
    expect(n?.spec?.unschedulable).toBeUndefined();
    expect(n?.metadata.labels?.done).toBe('true');
    expect(seen.map((e) => e.type)).toEqual(['taint', 'cordon', 'labels']);
  });

  it('still uncordons and labels when the taint is already gone (no resourceVersion precondition then)', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1', { unschedulable: true }));
    await releaseNode(fake, 'n1', { untaint: { key: cilium.key, effect: 'NoExecute' }, labels: { done: 'true' } });
    expect(fake.callsOf('patchNode')).toEqual([['n1', { spec: { unschedulable: null }, metadata: { labels: { done: 'true' } } }, {}]]);
    expect(fake.node('n1')?.spec?.unschedulable).toBeUndefined();
  });
});
