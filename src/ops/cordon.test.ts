import { describe, expect, it } from 'vitest';
import { cordonNode, cordonPatch, uncordonNode } from './cordon.js';
import type { OpsEvent } from './opsEvents.js';
import { makeNode } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';

describe('cordon', () => {
  it('cordonPatch sets the field, and removes it on uncordon', () => {
    expect(cordonPatch(true)).toEqual({ spec: { unschedulable: true } });
    expect(cordonPatch(false)).toEqual({ spec: { unschedulable: null } });
  });

  it('cordons and uncordons with one merge patch each and no read', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1'));
    const seen: OpsEvent[] = [];
    await cordonNode(fake, 'n1', (e) => seen.push(e));
    await cordonNode(fake, 'n1', (e) => seen.push(e));
    expect(fake.node('n1')?.spec?.unschedulable).toBe(true);
    await uncordonNode(fake, 'n1', (e) => seen.push(e));
    expect(fake.node('n1')?.spec).not.toHaveProperty('unschedulable');
    expect(fake.callsOf('patchNode')).toHaveLength(3);
    expect(fake.callsOf('getNode')).toHaveLength(0);
    expect(seen).toEqual([
      { type: 'cordon', node: 'n1', unschedulable: true },
      { type: 'cordon', node: 'n1', unschedulable: true },
      { type: 'cordon', node: 'n1', unschedulable: false },
    ]);
  });

  it('propagates a missing node as the API error', async () => {
    await expect(cordonNode(new FakeCluster(), 'ghost')).rejects.toMatchObject({ code: 404, message: 'nodes "ghost" not found' });
  });
});
