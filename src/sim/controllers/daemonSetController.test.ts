import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { DaemonSetController } from './daemonSetController.js';
import { REVISION_HASH_LABEL } from './daemonSetPods.js';
import { isPodReady } from './podStatus.js';
import { Scheduler } from './scheduler.js';
import { makeDaemonSet, makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
afterEach(() => fx.stop());

function start(nodes: KubeObject[]): ControllerFixture {
  fx = startFixture((ctx) => [new DaemonSetController(ctx), new Scheduler(ctx)]);
  for (const n of nodes) fx.create('nodes', n);
  return fx;
}

const dsStatus = (name: string) => fx.store.get('apps/daemonsets', 'default', name)?.status ?? {};
const nodesWithPods = (app: string) => podsIn(fx.store).filter((p) => p.metadata.labels?.app === app && p.spec.nodeName).map((p) => p.spec.nodeName as string).sort();

describe('DaemonSetController placement', () => {
  it('runs pods only on nodes matching the selector and tolerated taints, cordoned nodes included', async () => {
    start([
      makeNode('n1', { labels: { agent: 'yes' } }),
      makeNode('n2', { labels: { agent: 'yes' }, unschedulable: true }),
      makeNode('n3', { labels: { agent: 'yes' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }),
      makeNode('n4'),
    ]);
    fx.create('apps/daemonsets', makeDaemonSet('agent', {}, { nodeSelector: { agent: 'yes' } }));
    await waitFor(() => dsStatus('agent').numberAvailable === 2, 5000, 'agent available on 2 nodes');
    expect(nodesWithPods('agent')).toEqual(['n1', 'n2']);
    expect(dsStatus('agent')).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberMisscheduled: 0, numberUnavailable: 0, observedGeneration: 1 });
  });

  it('gives pods the default tolerations, revision labels and a node-pinning affinity', async () => {
    start([makeNode('n1')]);
    fx.create('apps/daemonsets', makeDaemonSet('agent', {}, { hostNetwork: true }));
    await waitFor(() => nodesWithPods('agent').length === 1);
    const pod = podsIn(fx.store)[0]!;
    expect(pod.metadata.name).toMatch(/^agent-[a-z0-9]{5}$/);
    expect(pod.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'DaemonSet', name: 'agent', controller: true, blockOwnerDeletion: true })]);
    expect(pod.metadata.labels).toMatchObject({ app: 'agent', 'pod-template-generation': '1', [REVISION_HASH_LABEL]: expect.stringMatching(/^[a-z0-9]+$/) });
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
    const keys = pod.spec.tolerations.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`);
    expect(keys).toEqual(expect.arrayContaining([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
      'node.kubernetes.io/network-unavailable:NoSchedule',
    ]));
    expect(pod.spec.schedulerName).toBe('default-scheduler');
  });

  it('removes the pod when the node label goes away and adds one when a node joins', async () => {
    start([makeNode('n1', { labels: { agent: 'yes' } }), makeNode('n2', { labels: { agent: 'yes' } })]);
    fx.create('apps/daemonsets', makeDaemonSet('agent', {}, { nodeSelector: { agent: 'yes' } }));
    await waitFor(() => dsStatus('agent').numberAvailable === 2);
    fx.store.mutate('nodes', undefined, 'n2', (n) => {
      delete n.metadata.labels!.agent;
    });
    await waitFor(() => nodesWithPods('agent').join() === 'n1', 5000, 'pod gone from n2');
    await waitFor(() => dsStatus('agent').desiredNumberScheduled === 1 && dsStatus('agent').numberAvailable === 1);
    fx.create('nodes', makeNode('n3', { labels: { agent: 'yes' } }));
    await waitFor(() => nodesWithPods('agent').join() === 'n1,n3', 5000, 'pod on the new node');
  });

  it('evicts its pod from a node with an untolerated NoExecute taint but keeps it on a new NoSchedule taint', async () => {
    start([makeNode('n1'), makeNode('n2')]);
    fx.create('apps/daemonsets', makeDaemonSet('agent'));
    await waitFor(() => dsStatus('agent').numberAvailable === 2);
    fx.store.mutate('nodes', undefined, 'n1', (n) => {
      n.spec.taints = [{ key: 'maintenance', effect: 'NoSchedule' }];
    });
    fx.store.mutate('nodes', undefined, 'n2', (n) => {
      n.spec.taints = [{ key: 'migrating', effect: 'NoExecute' }];
    });
    await waitFor(() => nodesWithPods('agent').join() === 'n1', 5000, 'pod gone from n2 only');
    await waitFor(() => dsStatus('agent').numberMisscheduled === 1 && dsStatus('agent').desiredNumberScheduled === 0);
  });
});

describe('DaemonSetController rolling update', () => {
  /** Largest number of nodes seen at once without a ready, non-terminating agent pod. */
  function trackUnavailable(app: string, nodes: string[]): { max: number; stop: () => void } {
    const track = { max: 0, stop: () => {} };
    track.stop = fx.store.watch({ resource: 'pods' }, () => {
      const up = new Set(podsIn(fx.store).filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp && isPodReady(p)).map((p) => p.spec.nodeName));
      track.max = Math.max(track.max, nodes.filter((n) => !up.has(n)).length);
    });
    return track;
  }

  it.each([1, 2])('replaces old pods with maxUnavailable %i until updated == desired', async (maxUnavailable) => {
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    start(names.map((n) => makeNode(n)));
    fx.create('apps/daemonsets', makeDaemonSet('agent', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable } } }));
    await waitFor(() => dsStatus('agent').numberAvailable === 5);
    const oldHash = podsIn(fx.store)[0]!.metadata.labels![REVISION_HASH_LABEL];
    const track = trackUnavailable('agent', names);
    const updated = fx.store.mutate('apps/daemonsets', 'default', 'agent', (ds) => {
      ds.spec.template.spec.containers[0].image = 'example/agent:2';
    })!;
    expect(updated.metadata.generation).toBe(2);
    await waitFor(() => {
      const s = dsStatus('agent');
      return s.observedGeneration === 2 && s.updatedNumberScheduled === 5 && s.numberAvailable === 5;
    }, 10_000, 'rollout complete');
    track.stop();
    expect(track.max).toBe(maxUnavailable);
    const pods = podsIn(fx.store);
    expect(pods).toHaveLength(5);
    expect(pods.every((p) => p.spec.containers[0].image === 'example/agent:2' && p.metadata.labels![REVISION_HASH_LABEL] !== oldHash)).toBe(true);
  });

  it('surges a new pod next to the old one when maxSurge is set', async () => {
    start([makeNode('n1'), makeNode('n2')]);
    fx.create('apps/daemonsets', makeDaemonSet('agent', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
    await waitFor(() => dsStatus('agent').numberAvailable === 2);
    const track = trackUnavailable('agent', ['n1', 'n2']);
    let maxPods = 0;
    const stop = fx.store.watch({ resource: 'pods' }, () => {
      maxPods = Math.max(maxPods, podsIn(fx.store).filter((p) => !p.metadata.deletionTimestamp).length);
    });
    fx.store.mutate('apps/daemonsets', 'default', 'agent', (ds) => {
      ds.spec.template.spec.containers[0].image = 'example/agent:2';
    });
    await waitFor(() => dsStatus('agent').observedGeneration === 2 && dsStatus('agent').updatedNumberScheduled === 2 && dsStatus('agent').numberAvailable === 2 && podsIn(fx.store).length === 2, 10_000);
    stop();
    track.stop();
    expect(track.max).toBe(0);
    expect(maxPods).toBe(3);
  });

  it('with OnDelete replaces only pods that were deleted', async () => {
    start([makeNode('n1'), makeNode('n2')]);
    fx.create('apps/daemonsets', makeDaemonSet('agent', { updateStrategy: { type: 'OnDelete' } }));
    await waitFor(() => dsStatus('agent').numberAvailable === 2);
    fx.store.mutate('apps/daemonsets', 'default', 'agent', (ds) => {
      ds.spec.template.spec.containers[0].image = 'example/agent:2';
    });
    await waitFor(() => dsStatus('agent').observedGeneration === 2);
    expect(dsStatus('agent').updatedNumberScheduled).toBe(0);
    const onN1 = podsIn(fx.store).find((p) => p.spec.nodeName === 'n1')!;
    fx.store.markForDeletion('pods', 'default', onN1.metadata.name!, 1);
    await waitFor(() => dsStatus('agent').updatedNumberScheduled === 1 && dsStatus('agent').numberAvailable === 2);
    const images = podsIn(fx.store).map((p) => `${p.spec.nodeName}=${p.spec.containers[0].image}`).sort();
    expect(images).toEqual(['n1=example/agent:2', 'n2=example/agent:1']);
  });
});
