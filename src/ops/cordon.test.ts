import { describe, expect, it } from 'vitest';
import { cordonNode, cordonPatch, uncordonNode } from './cordon.js';
import type { OpsEvent } from './opsEvents.js';
import { makeNode } from './testing/builders.js';
import { FakeCluster } from './testing/fakeCluster.js';

describe('cordon', () => {
  it('cordonPatch skips when already in the desired state and removes the field on uncordon', () => {
    expect(cordonPatch(makeNode('n'), true)).toEqual({ spec: { unschedulable: true } });
    expect(cordonPatch(makeNode('n', { unschedulable: true }), true)).toBeUndefined();
    expect(cordonPatch(makeNode('n', { unschedulable: true }), false)).toEqual({ spec: { unschedulable: null } });
    expect(cordonPatch(makeNode('n'), false)).toBeUndefined();
  });

  it('cordons and uncordons, writing only when something changes', async () => {
    const fake = new FakeCluster();
    fake.add(makeNode('n1'));
    const seen: OpsEvent[] = [];
    expect(await cordonNode(fake, 'n1', (e) => seen.push(e))).toEqual({ changed: true });
    expect(await cordonNode(fake, 'n1', (e) => seen.push(e))).toEqual({ changed: false });
    expect(fake.node('n1')?.spec?.unschedulable).toBe(true);
    expect(await uncordonNode(fake, 'n1', (e) => seen.push(e))).toEqual({ changed: true });
    expect(fake.node('n1')?.spec).not.toHaveProperty('unschedulable');
    expect(fake.callsOf('patchNode')).toHaveLength(2);
    expect(seen).toEqual([
      { type: 'cordon', node: 'n1', unschedulable: true, changed: true },
      { type: 'cordon', node: 'n1', unschedulable: true, changed: false },
      { type: 'cordon', node: 'n1', unschedulable: false, changed: true },
    ]);
  });

  it('propagates a missing node as the API error', async () => {
    await expect(cordonNode(new FakeCluster(), 'ghost')).rejects.toMatchObject({ code: 404, message: 'nodes "ghost" not found' });
  });
});
