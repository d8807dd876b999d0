import { describe, expect, it } from 'vitest';
import { ConfigSchema, type MigrationConfig } from '../config/configSchema.js';
import { makeNode } from '../ops/testing/builders.js';
import { FakeClock } from '../ops/testing/fakeClock.js';
import { FakeCluster } from '../ops/testing/fakeCluster.js';
import type { ConnectivityFailure, ConnectivityGate } from './connectivityGate.js';
import type { MigrationEvent } from './migrationEvents.js';
import { InterruptedError, MigrationStepError } from './migrationErrors.js';
import type { NodeBatch } from './nodeBatches.js';
import type { NodePlan, StepPlan } from './plan.js';
import { executeStep, type ExecutorDeps } from './planExecutor.js';

/** A gate whose checkpoints pass and whose monitor reports what the test queues. */
function fakeGate(): ConnectivityGate & { queued: ConnectivityFailure[] } {
  const queued: ConnectivityFailure[] = [];
  return {
    queued,
    checkpoint: () => Promise.resolve({ ok: true, probes: 4, pairs: 12, failures: [] }),
    settle: () => Promise.resolve(),
    startMonitor: () => {},
    takeMonitorFailures: () => queued.splice(0),
    stop: () => Promise.resolve(),
    stats: () => ({ collections: 0, pairChecks: 0, failedPairChecks: 0 }),
  };
}

const lost = (fromNode: string, toNode: string): ConnectivityFailure => ({ from: `probe-${fromNode}`, to: `probe-${toNode}`, fromNode, toNode, reason: 'timeout', firstSeen: '2025-01-01T00:00:00.000Z', lastSeen: '2025-01-01T00:00:05.000Z' });

/** Each node: label it switched (the rollback takes the label off). */
const nodePlan = (node: string): NodePlan => ({
  node,
  actions: [{ kind: 'labelNode', node, labels: { switched: 'true' } }],
  rollback: [{ kind: 'labelNode', node, labels: { switched: null } }],
});
const batch = (nodes: string[], extra: Partial<NodeBatch> = {}): NodeBatch => ({ nodes, zone: '', controlPlane: false, canary: false, ...extra });
const step = (batches: NodeBatch[]): StepPlan => ({ step: 2, name: 'migrate', title: 'migrate', alreadyDone: false, actions: [], nodes: batches.flatMap((b) => b.nodes).map(nodePlan), skippedNodes: [], batches, batchLimit: 2 });

function setup(names: string[], config: MigrationConfig = ConfigSchema.parse({})) {
  const fake = new FakeCluster();
  for (const n of names) fake.add(makeNode(n));
  const events: MigrationEvent[] = [];
  const gate = fakeGate();
  const clock = new FakeClock();
  const deps: ExecutorDeps = { client: fake, config, manifests: {}, gate, events: (e) => events.push(e), clock, resumeCommand: 'cni-migration run --steps 2 --no-dry-run' };
  const switched = () => names.filter((n) => fake.node(n)?.metadata.labels?.switched === 'true');
  const trail = () => events.filter((e) => ['batchStart', 'nodeStart', 'nodeDone', 'rollback', 'canary'].includes(e.type)).map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}${'nodes' in e ? ` ${e.nodes.join(',')}` : ''}`);
  return { fake, events, gate, clock, deps, switched, trail };
}

async function stepError(p: Promise<unknown>): Promise<MigrationStepError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MigrationStepError);
  return e as MigrationStepError;
}

describe('executing a step in batches', () => {
  it("works on a batch's nodes at once, and the next batch only after the whole batch is done", async () => {
    const t = setup(['n1', 'n2', 'n3']);
    await executeStep(step([batch(['n1', 'n2']), batch(['n3'])]), t.deps);
    expect(t.trail()).toEqual(['batchStart n1,n2', 'nodeStart n1', 'nodeStart n2', 'nodeDone n1', 'nodeDone n2', 'batchStart n3', 'nodeStart n3', 'nodeDone n3']);
    expect(t.switched()).toEqual(['n1', 'n2', 'n3']);
  });

  it('one at a time (no batches) reports no batches', async () => {
    const t = setup(['n1', 'n2']);
    const plan = { ...step([batch(['n1']), batch(['n2'])]), batches: undefined };
    await executeStep(plan, t.deps);
    expect(t.trail()).toEqual(['nodeStart n1', 'nodeDone n1', 'nodeStart n2', 'nodeDone n2']);
  });

  it('lets the siblings of a failing node finish, rolls back only the failed one, and starts no further batch', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    t.fake.before(
      'patchNode',
      (name) => {
        if (name === 'n2') throw new Error('the server is currently unable to handle the request');
      },
      1,
    );
    // The first patchNode call is n1's (it starts first): the hook passes it; n2's label then fails once.
    t.fake.before(
      'patchNode',
      (name) => {
        if (name === 'n2') throw new Error('the server is currently unable to handle the request');
      },
      1,
    );
    const e = await stepError(executeStep(step([batch(['n1', 'n2']), batch(['n3'])]), t.deps));
    expect(e.message).toBe('step 2 (migrate) on node n2 failed while trying to label node n2 switched=true: the server is currently unable to handle the request');
    expect(e.resumeHint).toContain('n2 was rolled back to the source CNI (rollback: auto)');
    expect(t.trail()).toEqual(['batchStart n1,n2', 'nodeStart n1', 'nodeStart n2', 'nodeDone n1', 'rollback n2']);
    expect(t.switched()).toEqual(['n1']);
  });

  it('counts lost connectivity during a batch against the nodes the failing pairs touch', async () => {
    const t = setup(['n1', 'n2', 'n3']);
    // The monitor saw n3 -> n2 fail while the batch n1,n2 ran: n2 goes back, n1 stays.
    t.deps.events = (e) => {
      if (e.type === 'nodeDone' || e.type === 'actionDone') if (e.node === 'n2' && !t.gate.queued.length && !t.events.some((x) => x.type === 'rollback')) t.gate.queued.push(lost('n3', 'n2'));
      t.events.push(e);
    };
    const e = await stepError(executeStep(step([batch(['n1', 'n2']), batch(['n3'])]), t.deps));
    expect(e.message).toBe('step 2 (migrate) on node n2 failed while trying to keep every pod reachable: connectivity lost while step 2 worked on n1, n2: 1 failing pair: probe-n3 -> probe-n2: timeout');
    expect(t.trail()).toEqual(['batchStart n1,n2', 'nodeStart n1', 'nodeStart n2', 'nodeDone n1', 'rollback n2']);
    expect(t.switched()).toEqual(['n1']);
  });

  it('rolls back the whole batch when the lost pairs touch none of its nodes', async () => {
    const t = setup(['n1', 'n2', 'n3', 'n4']);
    t.deps.events = (e) => {
      if (e.type === 'actionDone' && e.node === 'n2' && !t.events.some((x) => x.type === 'rollback')) t.gate.queued.push(lost('n3', 'n4'));
      t.events.push(e);
    };
    await stepError(executeStep(step([batch(['n1', 'n2']), batch(['n3'])]), t.deps));
    expect(t.trail()).toEqual(['batchStart n1,n2', 'nodeStart n1', 'nodeStart n2', 'rollback n1', 'rollback n2']);
    expect(t.switched()).toEqual([]);
  });

  it('watches the canary for canaryWaitSeconds, then goes on', async () => {
    const config = ConfigSchema.parse({ batches: { canary: true, canaryWaitSeconds: 300, maxUnavailable: 2 } });
    const t = setup(['n1', 'n2', 'n3'], config);
    await executeStep(step([batch(['n1'], { canary: true }), batch(['n2', 'n3'])]), t.deps);
    expect(t.clock.sleeps).toEqual([300_000]);
    expect(t.trail()).toEqual(['batchStart n1', 'nodeStart n1', 'nodeDone n1', 'canary n1', 'batchStart n2,n3', 'nodeStart n2', 'nodeStart n3', 'nodeDone n2', 'nodeDone n3']);
  });

  it('stops after the canary when connectivity is lost while it is watched (the canary is not rolled back: it was done)', async () => {
    const config = ConfigSchema.parse({ batches: { canary: true, canaryWaitSeconds: 60 } });
    const t = setup(['n1', 'n2'], config);
    t.deps.events = (e) => {
      if (e.type === 'canary') t.gate.queued.push(lost('n2', 'n1'));
      t.events.push(e);
    };
    const e = await stepError(executeStep(step([batch(['n1'], { canary: true }), batch(['n2'])]), t.deps));
    expect(e.message).toBe('step 2 (migrate) on node n1 failed while trying to keep every pod reachable: connectivity lost while watching the canary node n1 for 60s: 1 failing pair: probe-n2 -> probe-n1: timeout');
    expect(t.switched()).toEqual(['n1']);
  });

  it('asks after the canary; a no stops with the rest untouched, a yes goes on', async () => {
    const config = ConfigSchema.parse({ batches: { canary: true } });
    const asked: string[] = [];
    const no = setup(['n1', 'n2'], config);
    no.deps.confirm = (q) => (asked.push(q), Promise.resolve(false));
    const e = await stepError(executeStep(step([batch(['n1'], { canary: true }), batch(['n2'])]), no.deps));
    expect(asked).toEqual(['step 2 (migrate): the canary node n1 is done and connectivity holds. Go on with the other 1 node?']);
    expect(e.message).toBe('step 2 (migrate) on node n1 failed while trying to go on after the canary node: the operator said no');
    expect(e.resumeHint).toBe(
      'Stopped after the canary node n1, as asked; it stays migrated and the other nodes were not touched. Re-run the same command (cni-migration run --steps 2 --no-dry-run) to go on (without --canary to go on without pausing); `cni-migration status` shows where each node stands.',
    );
    expect(no.switched()).toEqual(['n1']);
    const yes = setup(['n1', 'n2'], config);
    yes.deps.confirm = () => Promise.resolve(true);
    await executeStep(step([batch(['n1'], { canary: true }), batch(['n2'])]), yes.deps);
    expect(yes.switched()).toEqual(['n1', 'n2']);
  });
});

describe('an interrupted step', () => {
  it('is not counted as done when the interruption cuts its closing connectivity watch short', async () => {
    const { deps, events, gate } = setup(['node-1', 'node-2']);
    const controller = new AbortController();
    // The operator presses Ctrl-C while the step's last watch runs.
    gate.settle = () => {
      controller.abort();
      return Promise.resolve();
    };
    const err = await executeStep(step([batch(['node-1']), batch(['node-2'])]), { ...deps, signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).message).toBe('interrupted during the closing connectivity watch of step 2 (migrate); the step is not counted as done');
    expect((err as InterruptedError).resumeHint).toBe('Nothing failed: progress is recorded in the cluster. Re-run the same command (cni-migration run --steps 2 --no-dry-run) to resume.');
    expect(events.map((e) => e.type)).not.toContain('stepDone');
  });

  it('does not start after the interruption, and a lost lock says so rather than "interrupted"', async () => {
    const { deps, events } = setup(['node-1']);
    const controller = new AbortController();
    controller.abort();
    await expect(executeStep(step([batch(['node-1'])]), { ...deps, signal: controller.signal })).rejects.toThrow('interrupted before the start of step 2 (migrate)');
    expect(events).toEqual([]);
    const lockLost = new AbortController();
    lockLost.abort(new Error('the run lock kube-system/cni-migration was taken by another run'));
    await expect(executeStep(step([batch(['node-1'])]), { ...deps, signal: lockLost.signal })).rejects.toThrow('the run lock kube-system/cni-migration was taken by another run');
  });
});
