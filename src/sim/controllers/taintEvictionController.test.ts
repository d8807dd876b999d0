import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { podCondition } from './podStatus.js';
import { evictionDelaySeconds, TaintEvictionController } from './taintEvictionController.js';
import { makeNode, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture | undefined;
afterEach(() => fx?.stop());

const TAINT = { key: 'cilium', value: 'migrating', effect: 'NoExecute' };

function runningPod(name: string, nodeName: string, tolerations: unknown[] = []): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 7, containers: [{ name: 'c', image: 'x' }], tolerations },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const getPod = (name: string) => fx!.store.get('pods', 'default', name);

describe('evictionDelaySeconds (pure)', () => {
  it('follows getMinTolerationTime', () => {
    expect(evictionDelaySeconds([], [])).toBe('never');
    expect(evictionDelaySeconds([TAINT], [])).toBe(0);
    expect(evictionDelaySeconds([TAINT], [{ key: 'cilium', operator: 'Exists' }])).toBe('never');
    expect(evictionDelaySeconds([TAINT], [{ key: 'cilium', operator: 'Exists', tolerationSeconds: 30 }, { operator: 'Exists', tolerationSeconds: 10 }])).toBe(30);
    expect(evictionDelaySeconds([TAINT, { key: 'b', effect: 'NoExecute' }], [{ key: 'cilium', operator: 'Exists', tolerationSeconds: 30 }, { key: 'b', operator: 'Exists', tolerationSeconds: 5 }])).toBe(5);
    expect(evictionDelaySeconds([TAINT], [{ key: 'cilium', operator: 'Equal', value: 'migrating', tolerationSeconds: -1 }])).toBe(0);
    expect(evictionDelaySeconds([TAINT], [{ key: 'cilium', operator: 'Equal', value: 'other' }])).toBe(0);
  });
});

describe('TaintEvictionController', () => {
  it('deletes non-tolerating pods at once, tolerating ones after tolerationSeconds, and cancels when the taint goes', async () => {
    fx = startFixture((ctx) => [new TaintEvictionController(ctx)], { kubelet: false });
    fx.create('nodes', makeNode('a'));
    fx.create('nodes', makeNode('b'));
    const limited = [{ key: 'cilium', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }];
    fx.create('pods', runningPod('plain', 'a'));
    fx.create('pods', runningPod('limited', 'a', limited));
    fx.create('pods', runningPod('forever', 'a', [{ operator: 'Exists' }]));
    fx.create('pods', runningPod('rescued', 'b', limited));
    fx.store.mutate('nodes', undefined, 'a', (n) => {
      n.spec.taints = [TAINT];
    });
    fx.store.mutate('nodes', undefined, 'b', (n) => {
      n.spec.taints = [TAINT];
    });
    await waitFor(() => Boolean(getPod('plain')?.metadata.deletionTimestamp), 2000, 'plain evicted');
    expect(getPod('plain')!.metadata.deletionGracePeriodSeconds).toBe(7);
    expect(podCondition(getPod('plain')!, 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
    expect(getPod('limited')!.metadata.deletionTimestamp).toBeUndefined();
    fx.store.mutate('nodes', undefined, 'b', (n) => {
      delete n.spec.taints;
    });
    await waitFor(() => Boolean(getPod('limited')?.metadata.deletionTimestamp), 3000, 'limited evicted after tolerationSeconds');
    // Both timers were set together; the one on the untainted node must not have fired.
    await waitFor(() => true);
    expect(getPod('rescued')!.metadata.deletionTimestamp).toBeUndefined();
    expect(getPod('forever')!.metadata.deletionTimestamp).toBeUndefined();
  });
});
