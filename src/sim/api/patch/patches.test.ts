import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from './jsonPatch.js';
import { applyStrategicMergePatch } from './strategicMerge.js';

describe('strategic merge patch', () => {
  const ds = {
    spec: {
      template: {
        spec: {
          nodeSelector: { a: '1' },
          containers: [
            { name: 'agent', image: 'x:1', env: [{ name: 'A', value: '1' }] },
            { name: 'side', image: 'y:1' },
          ],
          tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  };

  it('merges containers by name and keeps the others', () => {
    const out = applyStrategicMergePatch(ds, { spec: { template: { spec: { containers: [{ name: 'agent', image: 'x:2' }] } } } }) as typeof ds;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'agent', image: 'x:2', env: [{ name: 'A', value: '1' }] },
      { name: 'side', image: 'y:1' },
    ]);
  });

  it('replaces lists without a merge key (tolerations, taints) and deletes null keys', () => {
    const out = applyStrategicMergePatch(ds, { spec: { template: { spec: { tolerations: [{ key: 'k', operator: 'Equal', value: 'v' }], nodeSelector: { a: null, b: '2' } } } } }) as typeof ds;
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'k', operator: 'Equal', value: 'v' }]);
    expect(out.spec.template.spec.nodeSelector).toEqual({ b: '2' });
  });

  it('honours $patch: delete on list items, $retainKeys and $setElementOrder', () => {
    const out = applyStrategicMergePatch(
      { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }, containers: [{ name: 'a' }, { name: 'b' }] } },
      {
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          $setElementOrder: undefined,
          'containers': [{ name: 'a', $patch: 'delete' }],
          '$setElementOrder/containers': [{ name: 'b' }],
        },
      },
    ) as { spec: { strategy: object; containers: object[] } };
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.spec.containers).toEqual([{ name: 'b' }]);
  });

  it('unions finalizers and removes with $deleteFromPrimitiveList', () => {
    const out = applyStrategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } });
    expect(out).toEqual({ metadata: { finalizers: ['b', 'c'] } });
  });
});

describe('JSON patch', () => {
  it('applies add/replace/remove/test in order', () => {
    const out = applyJsonPatch({ spec: { taints: [{ key: 'a' }] } }, [
      { op: 'test', path: '/spec/taints/0/key', value: 'a' },
      { op: 'add', path: '/spec/taints/-', value: { key: 'b' } },
      { op: 'replace', path: '/spec/taints/0/key', value: 'c' },
      { op: 'remove', path: '/spec/taints/1' },
    ]);
    expect(out).toEqual({ spec: { taints: [{ key: 'c' }] } });
  });

  it('rejects a failed test and a missing path with 422', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(/test failed/);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).toThrow(expect.objectContaining({ code: 422 }));
    expect(() => applyJsonPatch({ a: 1 }, { op: 'add' })).toThrow(expect.objectContaining({ code: 400 }));
  });
});
