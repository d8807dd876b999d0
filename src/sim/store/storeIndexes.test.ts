import { describe, expect, it } from 'vitest';
import type { KubeObject } from './kubeObject.js';
import { ResourceIndexes } from './storeIndexes.js';

function pod(name: string, opts: { ns?: string; node?: string; labels?: Record<string, string>; owner?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.ns ?? 'default',
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: opts.owner, controller: true }] } : {}),
    },
    spec: opts.node ? { nodeName: opts.node } : {},
  };
}

/** Indexes over objects kept in a map, as the store keeps them. */
function indexed(objects: KubeObject[]): { indexes: ResourceIndexes; byKey: Map<string, KubeObject> } {
  const indexes = new ResourceIndexes(true);
  const byKey = new Map<string, KubeObject>();
  for (const o of objects) {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    byKey.set(key, o);
    indexes.add(key, o);
  }
  return { indexes, byKey };
}

describe('ResourceIndexes', () => {
  it('stays equal to indexes rebuilt from scratch through add, replace and remove', () => {
    const a = pod('a', { node: 'n1', labels: { app: 'web' }, owner: 'rs-1' });
    const { indexes, byKey } = indexed([a, pod('b', { labels: { app: 'db' } })]);
    expect(indexes.problems(byKey)).toEqual([]);
    const moved = pod('a', { node: 'n2', labels: { app: 'web', tier: 'front' } });
    indexes.replace('default/a', a, moved);
    byKey.set('default/a', moved);
    expect(indexes.problems(byKey)).toEqual([]);
    indexes.remove('default/b', byKey.get('default/b')!);
    byKey.delete('default/b');
    expect(indexes.problems(byKey)).toEqual([]);
  });

  it('negative control: an index left stale by a change it missed is reported, naming the index and the key', () => {
    const a = pod('a', { node: 'n1', labels: { app: 'web' }, owner: 'rs-1' });
    const { indexes, byKey } = indexed([a]);
    // The object moves to n2 and loses its owner, but the indexes are never told.
    byKey.set('default/a', pod('a', { node: 'n2', labels: { app: 'web' } }));
    expect(indexes.problems(byKey)).toEqual(
      expect.arrayContaining([
        'owner index "rs-1" wrongly holds default/a',
        'controller index "" lacks default/a',
        'controller index "rs-1" wrongly holds default/a',
        'node index "n2" lacks default/a',
        'node index "n1" wrongly holds default/a',
      ]),
    );
    // A removal the indexes never saw.
    const fresh = indexed([pod('b', { labels: { app: 'db' } })]);
    fresh.byKey.clear();
    expect(fresh.indexes.problems(fresh.byKey)).toContain('label index "app=db" wrongly holds default/b');
  });

  it('narrows a query to its smallest index entry; negative label requirements narrow nothing', () => {
    const objects = [
      pod('a', { ns: 'x', node: 'n1', labels: { app: 'web' } }),
      pod('b', { ns: 'x', node: 'n1', labels: { app: 'db' } }),
      pod('c', { ns: 'y', node: 'n2', labels: { app: 'web' } }),
      pod('d', { ns: 'y', node: 'n2' }),
    ];
    const { indexes } = indexed(objects);
    const keys = (q: Parameters<ResourceIndexes['candidates']>[0]) => {
      const found = indexes.candidates(q);
      return found === undefined ? undefined : [...found].sort();
    };
    expect(keys({ namespace: 'x' })).toEqual(['x/a', 'x/b']);
    // Candidates are a superset, not the answer: the caller checks the namespace itself.
    expect(keys({ namespace: 'y', labels: [{ key: 'app', operator: '=', values: ['db'] }] })).toEqual(['x/b']);
    expect(keys({ labels: [{ key: 'app', operator: '=', values: ['db'] }] })).toEqual(['x/b']);
    expect(keys({ labels: [{ key: 'app', operator: 'in', values: ['db', 'web'] }] })).toEqual(['x/a', 'x/b', 'y/c']);
    expect(keys({ labels: [{ key: 'app', operator: 'exists', values: [] }], nodeName: 'n2' })).toEqual(['y/c', 'y/d']);
    expect(keys({ labels: [{ key: 'app', operator: '!=', values: ['web'] }] })).toBeUndefined();
    expect(keys({ nodeName: '' })).toEqual([]);
  });
});
