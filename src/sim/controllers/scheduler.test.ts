import { afterEach, describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../api/resourceRegistry.js';
import type { KubeObject } from '../store/kubeObject.js';
import { ObjectStore } from '../store/objectStore.js';
import { storeInfoFrom } from '../store/storeInfo.js';
import { NodeLifecycleController } from './nodeLifecycleController.js';
import { podCondition } from './podStatus.js';
import { Scheduler } from './scheduler.js';
import { fitErrorMessage, PodLoad, schedulePod } from './schedulerFilters.js';
import { makeNode, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture | undefined;
afterEach(() => fx?.stop());

function pod(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } };
}

const getPod = (name: string) => fx!.store.get('pods', 'default', name)!;

function loadOf(counts: Record<string, number>): PodLoad {
  const load = new PodLoad();
  for (const [node, n] of Object.entries(counts)) for (let i = 0; i < n; i++) load.add(node, pod(`${node}-${i}`));
  return load;
}

describe('schedulePod (pure)', () => {
  const nodes = [makeNode('a'), makeNode('b', { unschedulable: true }), makeNode('c', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })];

  it('picks the least loaded node that passes the filters', () => {
    expect(schedulePod(pod('p'), [makeNode('a'), makeNode('b')], loadOf({ a: 3, b: 1 }))).toEqual({ node: 'b' });
    expect(schedulePod(pod('p'), [makeNode('a'), makeNode('b')], new PodLoad())).toEqual({ node: 'a' });
    // Pods of the same controller spread first, whatever else runs on the nodes.
    const owned = (name: string) => ({ ...pod(name), metadata: { name, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }] } });
    const load = loadOf({ b: 4 });
    load.add('a', owned('web-1'));
    expect(schedulePod(owned('web-2'), [makeNode('a'), makeNode('b')], load)).toEqual({ node: 'b' });
  });

  it('prefers nodes without PreferNoSchedule taints the pod does not tolerate, over spreading', () => {
    const soft = makeNode('a', { taints: [{ key: 'pending', value: 'x', effect: 'PreferNoSchedule' }] });
    expect(schedulePod(pod('p'), [soft, makeNode('b')], loadOf({ b: 5 }))).toEqual({ node: 'b' });
    expect(schedulePod(pod('p', { tolerations: [{ key: 'pending', operator: 'Exists' }] }), [soft, makeNode('b')], loadOf({ b: 5 }))).toEqual({ node: 'a' });
    // Soft: a tainted node still takes the pod when it is the only one.
    expect(schedulePod(pod('p'), [soft], new PodLoad())).toEqual({ node: 'a' });
  });

  it("keeps to each node's allocatable pods (NodeResourcesFit): a full node takes no more, and when all are full the pod stays Pending saying so", () => {
    const small = (name: string, pods: string, extra: Parameters<typeof makeNode>[1] = {}) => {
      const n = makeNode(name, extra);
      n.status = { ...n.status, allocatable: { pods } };
      return n;
    };
    // b has fewer pods but is full: a takes it.
    expect(schedulePod(pod('p'), [small('a', '110'), small('b', '2')], loadOf({ a: 5, b: 2 }))).toEqual({ node: 'a' });
    expect(schedulePod(pod('p'), [small('a', '5'), small('b', '2'), small('c', '110', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })], loadOf({ a: 5, b: 2 }))).toEqual({
      message: '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Too many pods. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    });
  });

  it('explains why no node fits, in kube-scheduler wording', () => {
    const result = schedulePod(pod('p', { nodeSelector: { disk: 'ssd' } }), [nodes[0]!, nodes[2]!], new PodLoad());
    expect(result).toEqual({ message: "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: db}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling." });
    expect(schedulePod(pod('p'), nodes.slice(1), new PodLoad())).toEqual({
      message: '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    });
    expect(schedulePod(pod('p'), [], new PodLoad())).toEqual({ message: 'no nodes available to schedule pods' });
  });

  it('places a pod pinned to a node (as DaemonSet pods are) there, and words the fit error over every node when it cannot go', () => {
    const pinnedTo = (node: string) => pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } } });
    expect(schedulePod(pinnedTo('c'), [makeNode('a'), makeNode('c')], loadOf({ c: 9 }))).toEqual({ node: 'c' });
    expect(schedulePod(pinnedTo('b'), nodes, new PodLoad())).toEqual({
      message: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    });
  });

  it('honours tolerations: Exists with an empty key tolerates everything, Equal needs the value', () => {
    expect(schedulePod(pod('p', { tolerations: [{ operator: 'Exists' }] }), nodes, loadOf({ a: 5 }))).toEqual({ node: 'b' });
    expect(schedulePod(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }] }), [nodes[2]!], new PodLoad())).toHaveProperty('message');
    expect(schedulePod(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }] }), [nodes[2]!], new PodLoad())).toEqual({ node: 'c' });
  });

  it('matches required node affinity on labels and on metadata.name fields', () => {
    const affinity = (terms: unknown[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
    const two = [makeNode('a', { labels: { zone: 'z1' } }), makeNode('b', { labels: { zone: 'z2' } })];
    expect(schedulePod(pod('p', affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }])), two, new PodLoad())).toEqual({ node: 'b' });
    expect(schedulePod(pod('p', affinity([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }])), two, new PodLoad())).toEqual({ node: 'b' });
    expect(schedulePod(pod('p', affinity([{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }])), two, new PodLoad())).toHaveProperty('message');
  });

  it('keeps pods off nodes that are not Ready', () => {
    expect(schedulePod(pod('p'), [makeNode('a', { ready: false })], new PodLoad())).toEqual({
      message: '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    });
  });

  it('formats an empty reason histogram like FitError', () => {
    expect(fitErrorMessage(0, new Map())).toBe('0/0 nodes are available: preemption: 0/0 nodes are available: 0 Preemption is not helpful for scheduling.');
  });
});

describe('PodLoad.track', () => {
  it('keeps the counts a recount from every pod gives, through binds, completion and deletions', () => {
    const store = new ObjectStore(storeInfoFrom(new ResourceRegistry()));
    const load = new PodLoad();
    store.watch({ resource: 'pods' }, (ev) => load.track(ev));
    const owned = (name: string, node?: string) => ({ ...pod(name, node ? { nodeName: node } : {}), metadata: { name, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }] } });
    store.create('pods', owned('a', 'n1'));
    store.create('pods', owned('b'));
    store.create('pods', pod('c', { nodeName: 'n1' }));
    store.create('pods', owned('d', 'n2'));
    store.mutate('pods', 'default', 'b', (p) => {
      p.spec.nodeName = 'n2';
    });
    store.mutate('pods', 'default', 'd', (p) => {
      p.status = { phase: 'Succeeded' };
    }, { part: 'status' });
    store.markForDeletion('pods', 'default', 'c', 30);
    store.delete('pods', 'default', 'a');
    const recount = PodLoad.of(store.peekAll('pods'));
    for (const node of ['n1', 'n2']) {
      expect([load.podsOn(node), load.ownedOn('rs-uid').get(node)], node).toEqual([recount.podsOn(node), recount.ownedOn('rs-uid').get(node)]);
    }
    expect([load.podsOn('n1'), load.podsOn('n2'), load.ownedOn('rs-uid').get('n2')]).toEqual([1, 1, 1]);
  });
});

describe('Scheduler', () => {
  it('binds pods, spreading them by pod count, with PodScheduled=True', async () => {
    fx = startFixture((ctx) => [new Scheduler(ctx)], { kubelet: false });
    fx.create('nodes', makeNode('n1'));
    fx.create('nodes', makeNode('n2'));
    for (const name of ['p1', 'p2', 'p3', 'p4']) fx.create('pods', pod(name));
    await waitFor(() => ['p1', 'p2', 'p3', 'p4'].every((n) => getPod(n).spec.nodeName));
    const placed = ['p1', 'p2', 'p3', 'p4'].map((n) => getPod(n).spec.nodeName as string);
    expect(placed.filter((n) => n === 'n1')).toHaveLength(2);
    expect(podCondition(getPod('p1'), 'PodScheduled')).toMatchObject({ status: 'True' });
  });

  it('keeps a pod Pending on a full node (Too many pods) and binds it once a pod there is deleted', async () => {
    fx = startFixture((ctx) => [new Scheduler(ctx)], { kubelet: false });
    const full = makeNode('n1');
    full.status = { ...full.status, allocatable: { pods: '1' } };
    fx.create('nodes', full);
    fx.create('pods', pod('a'));
    await waitFor(() => getPod('a').spec.nodeName === 'n1');
    fx.create('pods', pod('b'));
    await waitFor(() => podCondition(getPod('b'), 'PodScheduled')?.status === 'False');
    expect(podCondition(getPod('b'), 'PodScheduled')?.message).toBe('0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    // Nothing about the node changes: the deletion alone lets b in.
    fx.store.delete('pods', 'default', 'a');
    await waitFor(() => getPod('b').spec.nodeName === 'n1');
  });

  it('refuses a cordoned node, reports Unschedulable, and binds once the node is uncordoned', async () => {
    fx = startFixture((ctx) => [new Scheduler(ctx), new NodeLifecycleController(ctx)], { kubelet: false });
    fx.create('nodes', makeNode('n1', { unschedulable: true }));
    fx.create('pods', pod('web'));
    await waitFor(() => podCondition(getPod('web'), 'PodScheduled')?.status === 'False');
    expect(podCondition(getPod('web'), 'PodScheduled')).toMatchObject({
      reason: 'Unschedulable',
      message: '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    });
    expect(getPod('web').spec.nodeName).toBeUndefined();
    fx.store.mutate('nodes', undefined, 'n1', (n) => {
      n.spec.unschedulable = false;
    });
    await waitFor(() => getPod('web').spec.nodeName === 'n1', 5000, 'bound after uncordon');
    expect(podCondition(getPod('web'), 'PodScheduled')).toMatchObject({ status: 'True' });
  });

  it('lets a pod tolerating node.kubernetes.io/unschedulable onto a cordoned node, and leaves other schedulers\' pods alone', async () => {
    fx = startFixture((ctx) => [new Scheduler(ctx)], { kubelet: false });
    fx.create('nodes', makeNode('n1', { unschedulable: true }));
    fx.create('pods', pod('tolerant', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }));
    fx.create('pods', pod('other', { schedulerName: 'my-scheduler' }));
    await waitFor(() => getPod('tolerant').spec.nodeName === 'n1');
    expect(getPod('other').spec.nodeName).toBeUndefined();
    expect(podCondition(getPod('other'), 'PodScheduled')).toBeUndefined();
  });
});

describe('NodeLifecycleController', () => {
  it('keeps the unschedulable taint in step with cordon and drops not-ready once Ready', async () => {
    fx = startFixture((ctx) => [new NodeLifecycleController(ctx)], { kubelet: false });
    fx.create('nodes', makeNode('n1', { ready: false, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'keep', effect: 'NoExecute' }] }));
    const taints = () => ((fx!.store.get('nodes', undefined, 'n1')!.spec.taints ?? []) as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`).sort();
    fx.store.mutate('nodes', undefined, 'n1', (n) => {
      n.spec.unschedulable = true;
    });
    await waitFor(() => taints().includes('node.kubernetes.io/unschedulable:NoSchedule'));
    expect(fx.store.get('nodes', undefined, 'n1')!.spec.taints.find((t: { key: string }) => t.key === 'node.kubernetes.io/unschedulable').timeAdded).toMatch(/Z$/);
    fx.store.mutate('nodes', undefined, 'n1', (n) => {
      n.status.conditions = [{ type: 'Ready', status: 'True' }];
    }, { part: 'status' });
    await waitFor(() => !taints().includes('node.kubernetes.io/not-ready:NoSchedule'));
    fx.store.mutate('nodes', undefined, 'n1', (n) => {
      n.spec.unschedulable = false;
    });
    await waitFor(() => taints().join() === 'keep:NoExecute', 5000, 'only the user taint left');
  });
});
