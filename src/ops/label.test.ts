import { describe, expect, it } from 'vitest';
import { labelChanges, labelNode } from './label.js';
import { makeNode } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';

describe('labels', () => {
  it('labelChanges keeps only what differs; null removes only present keys', () => {
    expect(labelChanges({ a: '1', b: '2' }, { a: '1', b: '3', c: null, d: '4' })).toEqual({ b: '3', d: '4' });
    expect(labelChanges({ a: '1' }, { a: null })).toEqual({ a: null });
    expect(labelChanges(undefined, { a: null })).toBeUndefined();
    expect(labelChanges({ a: '1' }, { a: '1' })).toBeUndefined();
  });

  it('sets and removes labels in one merge patch, and is a no-op the second time', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1', { labels: { 'node-role.kubernetes.io/priority-canal': 'true' } }));
    const swap = { 'node-role.kubernetes.io/priority-canal': null, 'node-role.kubernetes.io/priority-cilium': 'true' };
    expect(await labelNode(fake, 'n1', swap)).toEqual({ changed: true });
    expect(fake.callsOf('patchNode')).toEqual([['n1', { metadata: { labels: swap } }, {}]]);
    expect(fake.node('n1')?.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'n1', 'node-role.kubernetes.io/priority-cilium': 'true' });
    expect(await labelNode(fake, 'n1', swap)).toEqual({ changed: false });
    expect(fake.callsOf('patchNode')).toHaveLength(1);
  });
});
