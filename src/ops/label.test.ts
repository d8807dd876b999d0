import { describe, expect, it } from 'vitest';
import { labelNode } from './label.js';
import { makeNode } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';

describe('labels', () => {
  it('sets and removes labels in one merge patch and no read; the second time changes nothing', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1', { labels: { 'node-role.kubernetes.io/priority-canal': 'true' } }));
    const swap = { 'node-role.kubernetes.io/priority-canal': null, 'node-role.kubernetes.io/priority-cilium': 'true' };
    await labelNode(fake, 'n1', swap);
    expect(fake.callsOf('patchNode')).toEqual([['n1', { metadata: { labels: swap } }, {}]]);
    expect(fake.node('n1')?.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'n1', 'node-role.kubernetes.io/priority-cilium': 'true' });
    await labelNode(fake, 'n1', swap);
    expect(fake.node('n1')?.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'n1', 'node-role.kubernetes.io/priority-cilium': 'true' });
    expect(fake.callsOf('getNode')).toHaveLength(0);
  });

  it('propagates a missing node as the API error', async () => {
    await expect(labelNode(new FakeCluster(), 'ghost', { a: 'b' })).rejects.toMatchObject({ code: 404 });
  });
});
