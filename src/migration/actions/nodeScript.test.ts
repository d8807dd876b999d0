import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/configSchema.js';
import type { Pod } from '../../kube/kubeTypes.js';
import { FakeCluster } from '../../ops/testing/fakeCluster.js';
import type { Action } from '../plan.js';
import type { ActionRuntime } from './actionKind.js';
import { nodeScriptPod, runNodeScriptAction } from './nodeActions.js';

// A node script's pod is created, not applied: one request when nothing is left over, and a
// leftover pod (an interrupted run's, with its old outcome) is removed before a fresh one.

const action: Extract<Action, { kind: 'runNodeScript' }> = { kind: 'runNodeScript', node: 'n1', purpose: 'sweep', script: 'rm -f x', image: 'img', confDir: '/etc/cni/net.d' };
const config = ConfigSchema.parse({});
const ns = config.connectivity.namespace;
const name = nodeScriptPod(action, ns).metadata.name!;

function setup(): { fake: FakeCluster; rt: ActionRuntime } {
  const fake = new FakeCluster();
  // The kubelet: the script's pod succeeds at its first read.
  fake.before(
    'getPod',
    () => {
      if (fake.pod(ns, name)) fake.mutate<Pod>('v1', 'Pod', name, ns, (p) => (p.status = { phase: 'Succeeded' }));
    },
    100,
  );
  const rt = { client: fake, config, ops: () => undefined, events: () => undefined, step: 4, pollIntervalMs: 1 } as unknown as ActionRuntime;
  return { fake, rt };
}

describe('runNodeScript', () => {
  it('creates the pod without a delete first, waits for it to succeed and removes it', async () => {
    const { fake, rt } = setup();
    await runNodeScriptAction.run(action, rt);
    expect(fake.callsOf('createObject')).toHaveLength(1);
    expect(fake.callsOf('deletePod')).toEqual([[ns, name, { gracePeriodSeconds: 0 }]]);
    expect(fake.pod(ns, name)).toBeUndefined();
  });

  it('replaces a pod an interrupted run left, rather than reading its old outcome', async () => {
    const { fake, rt } = setup();
    fake.add({ ...nodeScriptPod(action, ns), status: { phase: 'Failed' } });
    await runNodeScriptAction.run(action, rt);
    expect(fake.callsOf('createObject')).toHaveLength(2);
    expect(fake.callsOf('deletePod')).toHaveLength(2);
  });
});
