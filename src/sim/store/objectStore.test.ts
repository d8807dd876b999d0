import { describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../api/resourceRegistry.js';
import type { KubeObject, WatchEvent } from './kubeObject.js';
import { matchesRequirements, type Requirement } from './labelSelector.js';
import { NO_CONTROLLER, ObjectStore } from './objectStore.js';
import { storeInfoFrom } from './storeInfo.js';
import type { ResourceIndexes } from './storeIndexes.js';

function newStore(): ObjectStore {
  return new ObjectStore(storeInfoFrom(new ResourceRegistry()));
}

function pod(name: string, opts: { ns?: string; node?: string; labels?: Record<string, string>; owner?: string; finalizers?: string[] } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.ns ?? 'default',
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.finalizers ? { finalizers: opts.finalizers } : {}),
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: opts.owner, controller: true }] } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(opts.node ? { nodeName: opts.node } : {}) },
  };
}

const names = (objects: readonly KubeObject[]) => objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();

/**
 * Every indexed read agrees with a full scan of the pods, for every value in use; and the indexes
 * equal ones rebuilt from scratch.
 */
function expectReadsMatchScans(store: ObjectStore): void {
  expect(store.indexProblems()).toEqual([]);
  const all = [...store.peekAll('pods')];
  const scan = (keep: (p: KubeObject) => boolean) => names(all.filter(keep));
  for (const node of new Set(['', ...all.map((p) => p.spec?.nodeName ?? '')])) {
    expect(names(store.podsOnNode(node)), `pods on "${node}"`).toEqual(scan((p) => (p.spec?.nodeName ?? '') === node));
  }
  for (const ns of new Set(all.map((p) => p.metadata.namespace ?? ''))) {
    expect(names(store.peekInNamespace('pods', ns)), `namespace ${ns}`).toEqual(scan((p) => p.metadata.namespace === ns));
    expect(names(store.objectsControlledBy('pods', NO_CONTROLLER, ns)), `orphans in ${ns}`).toEqual(scan((p) => p.metadata.namespace === ns && !p.metadata.ownerReferences?.some((r) => r.controller)));
  }
  for (const uid of new Set(all.flatMap((p) => (p.metadata.ownerReferences ?? []).map((r) => r.uid)))) {
    expect(names(store.objectsOwnedBy('pods', uid)), `owned by ${uid}`).toEqual(scan((p) => Boolean(p.metadata.ownerReferences?.some((r) => r.uid === uid))));
    expect(names(store.objectsControlledBy('pods', uid)), `controlled by ${uid}`).toEqual(scan((p) => Boolean(p.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller))));
  }
  for (const [key, value] of new Set(all.flatMap((p) => Object.entries(p.metadata.labels ?? {})))) {
    const selectors: Requirement[][] = [[{ key, operator: '=', values: [value] }], [{ key, operator: 'exists', values: [] }], [{ key, operator: '!=', values: [value] }]];
    for (const reqs of selectors) {
      expect(names(store.selectByLabels('pods', undefined, reqs)), JSON.stringify(reqs)).toEqual(scan((p) => matchesRequirements(p.metadata.labels, reqs)));
    }
  }
}

describe('ObjectStore indexes', () => {
  it('stay consistent as pods are created, bound, relabelled, adopted, released, deleted and finalized', () => {
    const store = newStore();
    store.create('pods', pod('a', { labels: { app: 'web' }, owner: 'rs-1' }));
    store.create('pods', pod('b', { labels: { app: 'web' } }));
    store.create('pods', pod('a', { ns: 'other', node: 'n1', labels: { app: 'db' } }));
    store.create('pods', pod('c', { node: 'n1', finalizers: ['example.com/keep'] }));
    expectReadsMatchScans(store);

    store.mutate('pods', 'default', 'a', (p) => {
      p.spec.nodeName = 'n2';
    });
    store.mutate('pods', 'default', 'b', (p) => {
      p.metadata.labels = { app: 'api', tier: 'front' };
      p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs-2', uid: 'rs-2', controller: true }];
    });
    store.mutate('pods', 'default', 'a', (p) => {
      p.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'n2', uid: 'node-uid' }];
    });
    store.update('pods', { ...store.get('pods', 'default', 'c')!, status: { phase: 'Running' } }, { part: 'status' });
    expectReadsMatchScans(store);
    expect(names(store.podsOnNode('n2'))).toEqual(['default/a']);
    expect(names(store.objectsControlledBy('pods', 'rs-1'))).toEqual([]);

    store.markForDeletion('pods', 'default', 'a', 30);
    store.delete('pods', 'other', 'a');
    store.delete('pods', 'default', 'c');
    expectReadsMatchScans(store);
    expect(store.peek('pods', 'default', 'c')?.metadata.deletionTimestamp).toBeDefined();

    store.mutate('pods', 'default', 'c', (p) => {
      delete p.metadata.finalizers;
    });
    store.delete('pods', 'default', 'a');
    expectReadsMatchScans(store);
    expect(names([...store.peekAll('pods')])).toEqual(['default/b']);
    expect(store.podsOnNode('n1')).toEqual([]);
  });

  it('negative control: an index entry dropped behind the store\'s back fails the check', () => {
    const store = newStore();
    store.create('pods', pod('a', { node: 'n1', labels: { app: 'web' } }));
    expectReadsMatchScans(store);
    // What a missed index update amounts to: the pod stays, its index entries go.
    const internals = store as unknown as { buckets: Map<string, { indexes: ResourceIndexes }> };
    internals.buckets.get('pods')!.indexes.remove('default/a', store.peek('pods', 'default', 'a')!);
    expect(store.indexProblems()).toContain('pods: node index "n1" lacks default/a');
    expect(() => expectReadsMatchScans(store)).toThrow();
  });

  it('selectByLabels matches like a full scan for every operator, within one namespace or all', () => {
    const store = newStore();
    store.create('pods', pod('a', { labels: { app: 'web', env: 'prod' } }));
    store.create('pods', pod('b', { labels: { app: 'web', env: 'dev' } }));
    store.create('pods', pod('c', { ns: 'x', labels: { app: 'db' } }));
    store.create('pods', pod('d', { ns: 'x' }));
    const select = (ns: string | undefined, reqs: Requirement[]) => names(store.selectByLabels('pods', ns, reqs));
    expect(select(undefined, [{ key: 'app', operator: 'in', values: ['web', 'db'] }, { key: 'env', operator: 'notin', values: ['dev'] }])).toEqual(['default/a', 'x/c']);
    expect(select('x', [{ key: 'app', operator: '!', values: [] }])).toEqual(['x/d']);
    expect(select('default', [])).toEqual(['default/a', 'default/b']);
    expect(select(undefined, [{ key: 'app', operator: '=', values: ['nope'] }])).toEqual([]);
  });
});

describe('ObjectStore sharing', () => {
  it('hands out frozen stored objects to readers and watchers, and private copies from get, list and writes', () => {
    const store = newStore();
    const events: WatchEvent[] = [];
    store.watch({ resource: 'pods' }, (ev) => events.push(ev));
    const created = store.create('pods', pod('a', { labels: { app: 'web' } }));
    const stored = store.peek('pods', 'default', 'a')!;
    expect(Object.isFrozen(stored) && Object.isFrozen(stored.metadata.labels) && Object.isFrozen(stored.spec.containers[0])).toBe(true);
    expect(() => {
      stored.metadata.labels!.app = 'changed';
    }).toThrow(TypeError);
    // One object for the store, the event and the indexed reads: nothing was copied for them.
    expect(events[0]!.object).toBe(stored);
    expect(store.podsOnNode('')[0]).toBe(stored);
    // Callers that change what they get change their own copy.
    for (const copy of [created, store.get('pods', 'default', 'a')!, store.list('pods').items[0]!]) {
      expect(Object.isFrozen(copy)).toBe(false);
      copy.metadata.labels!.app = 'mine';
    }
    expect(store.peek('pods', 'default', 'a')!.metadata.labels).toEqual({ app: 'web' });
  });

  it('a status update shares everything but the status with the previous version, and the event carries both', () => {
    const store = newStore();
    store.create('pods', pod('a', { labels: { app: 'web' } }));
    const before = store.peek('pods', 'default', 'a')!;
    let event: WatchEvent | undefined;
    store.watch({ resource: 'pods' }, (ev) => (event = ev));
    const after = store.mutate('pods', 'default', 'a', (p) => {
      p.status = { phase: 'Running' };
    }, { part: 'status' })!;
    expect(after.spec).toBe(before.spec);
    expect(after.metadata.labels).toBe(before.metadata.labels);
    expect(event).toMatchObject({ type: 'MODIFIED', object: after, oldObject: before });
  });

  it('an update that changes nothing, whatever its key order, keeps the resourceVersion; a spec change bumps the generation', () => {
    const store = newStore();
    const d = store.create('apps/deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 1, paused: false } });
    const same = store.update('apps/deployments', { ...d, spec: { paused: false, replicas: 1 } });
    expect(same.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
    const scaled = store.update('apps/deployments', { ...d, spec: { replicas: 2, paused: false } });
    expect([scaled.metadata.generation, Number(scaled.metadata.resourceVersion) > Number(d.metadata.resourceVersion)]).toEqual([2, true]);
    const labelled = store.update('apps/deployments', { ...scaled, metadata: { ...scaled.metadata, labels: { a: 'b' } } });
    expect(labelled.metadata.generation).toBe(2);
  });

  it('delivers each event to resource and all-resource watchers in the order they subscribed', () => {
    const store = newStore();
    const order: string[] = [];
    store.watch({}, () => order.push('all-1'));
    store.watch({ resource: 'pods' }, () => order.push('pods'));
    store.watch({ resource: 'nodes' }, () => order.push('nodes'));
    store.watch({}, () => order.push('all-2'));
    store.create('pods', pod('a'));
    expect(order).toEqual(['all-1', 'pods', 'all-2']);
  });
});

describe('selectSorted', () => {
  const order = (objects: readonly KubeObject[]) => objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

  it('lists in namespace-then-name order, before and after objects come and go, whole and by namespace', () => {
    const store = newStore();
    for (const [ns, name] of [['b', 'z'], ['a', 'y'], ['b', 'a'], ['a-1', 'x'], ['a', 'b']] as const) store.create('pods', pod(name, { ns }));
    expect(order(store.selectSorted('pods', {}))).toEqual(['a-1/x', 'a/b', 'a/y', 'b/a', 'b/z'].sort());
    // An update keeps the cached order; a create and a delete change it.
    const z = [...store.peekAll('pods')].find((p) => p.metadata.name === 'z')!;
    store.update('pods', { ...z, metadata: { ...z.metadata, labels: { x: '1' } } });
    store.create('pods', pod('c', { ns: 'a' }));
    store.delete('pods', 'b', 'a');
    expect(order(store.selectSorted('pods', {}))).toEqual(['a-1/x', 'a/b', 'a/c', 'a/y', 'b/z'].sort());
    expect(order(store.selectSorted('pods', { namespace: 'a' }))).toEqual(['a/b', 'a/c', 'a/y']);
    expect(store.selectSorted('pods', {}).find((p) => p.metadata.name === 'z')?.metadata.labels).toEqual({ x: '1' });
  });
});
