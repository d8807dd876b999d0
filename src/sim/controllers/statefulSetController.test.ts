import { afterEach, describe, expect, it } from 'vitest';
import { statefulSetRolloutStatus } from '../../ops/rollout.js';
import { SimApiServer } from '../api/apiServer.js';
import type { KubeObject } from '../store/kubeObject.js';
import { startControllers } from './controllerManager.js';
import { decideEviction, DisruptionController, recordEviction } from './disruptionController.js';
import { isPodAvailable, isPodReady } from './podStatus.js';
import { Scheduler } from './scheduler.js';
import { StatefulSetController } from './statefulSetController.js';
import { planStatefulSet, type StatefulSetShape } from './statefulSetPlan.js';
import { parseStatefulPodName, POD_INDEX_LABEL, POD_NAME_LABEL, STATEFUL_REVISION_LABEL, type StatefulPodView } from './statefulSetPods.js';
import { chooseUpdateRevision, newRevision, revisionsToTrim } from './statefulSetRevisions.js';
import { statefulSetStatus, statusNeedsWrite } from './statefulSetStatus.js';
import { makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fx?.stop();
});

function start(): ControllerFixture {
  fx = startFixture((ctx) => [new StatefulSetController(ctx), new Scheduler(ctx), new DisruptionController(ctx)]);
  for (const n of ['n1', 'n2', 'n3']) fx.create('nodes', makeNode(n));
  return fx;
}

/** A StatefulSet `db` (app=db) behind the headless Service `db`. */
function makeStatefulSet(replicas: number, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:16' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  };
}

const sts = () => fx.store.get('apps/statefulsets', 'default', 'db')!;
const pod = (name: string) => fx.store.get('pods', 'default', name);
const dbPods = () => podsIn(fx.store).filter((p) => p.metadata.labels?.app === 'db');
const names = (pods: KubeObject[]) => pods.map((p) => p.metadata.name).sort();
const image = (p: KubeObject | undefined): string | undefined => p?.spec.containers[0].image;
const runningAndReady = (p: KubeObject | undefined) => p?.status?.phase === 'Running' && isPodReady(p) && !p.metadata.deletionTimestamp;
const rollout = () => statefulSetRolloutStatus(sts());
const revisions = () => fx.store.list('apps/controllerrevisions', 'default').items;

function setImage(tag: string): void {
  fx.store.mutate('apps/statefulsets', 'default', 'db', (s) => {
    s.spec.template.spec.containers[0].image = `postgres:${tag}`;
  });
}

/** Makes the controller sync once more and waits until it has: a spec change it must report as observed. */
async function syncBarrier(): Promise<void> {
  const s = fx.store.mutate('apps/statefulsets', 'default', 'db', (o) => {
    o.spec.revisionHistoryLimit = Number(o.spec.revisionHistoryLimit ?? 10) + 1;
  })!;
  await waitFor(() => sts().status?.observedGeneration === s.metadata.generation, 5000, 'controller observed the barrier generation');
}

/** Watches pods of the set and records which were created, marked for deletion and removed, in order. */
function recordPodEvents(): { created: string[]; deleting: string[]; removed: string[]; maxTerminating: number; stop: () => void } {
  const rec = { created: [] as string[], deleting: [] as string[], removed: [] as string[], maxTerminating: 0, stop: () => {} };
  rec.stop = fx.store.watch({ resource: 'pods' }, (ev) => {
    const name = ev.object.metadata.name!;
    if (ev.type === 'ADDED') rec.created.push(name);
    if (ev.type === 'DELETED') rec.removed.push(name);
    if (ev.type === 'MODIFIED' && ev.object.metadata.deletionTimestamp && !ev.oldObject?.metadata.deletionTimestamp) rec.deleting.push(name);
    rec.maxTerminating = Math.max(rec.maxTerminating, dbPods().filter((p) => p.metadata.deletionTimestamp).length);
  });
  cleanups.push(() => rec.stop());
  return rec;
}

async function rolledOut(replicas: number): Promise<void> {
  await waitFor(() => rollout().done && sts().status?.readyReplicas === replicas && dbPods().length === replicas, 10_000, `db rolled out with ${replicas} ready`);
}

describe('StatefulSetController (OrderedReady)', () => {
  it('creates db-0, db-1, db-2 in order, each only once every lower ordinal is Running and Ready', async () => {
    start();
    const violations: string[] = [];
    const stop = fx.store.watch({ resource: 'pods' }, (ev) => {
      if (ev.type !== 'ADDED') return;
      const { ordinal } = parseStatefulPodName(ev.object.metadata.name!);
      for (let i = 0; i < ordinal; i++) if (!runningAndReady(pod(`db-${i}`))) violations.push(`db-${ordinal} created while db-${i} was not ready`);
    });
    cleanups.push(stop);
    const rec = recordPodEvents();
    fx.kubelet.unready.add('default/db-0');
    fx.create('apps/statefulsets', makeStatefulSet(3));
    await waitFor(() => pod('db-0')?.status?.phase === 'Running', 5000, 'db-0 running, not ready');
    await syncBarrier();
    expect(names(dbPods())).toEqual(['db-0']);
    expect(sts().status).toMatchObject({ replicas: 1, availableReplicas: 0 });
    expect(sts().status.readyReplicas).toBeUndefined();

    fx.kubelet.setReady('default', 'db-0', true);
    await rolledOut(3);
    expect(rec.created).toEqual(['db-0', 'db-1', 'db-2']);
    expect(violations).toEqual([]);
  });

  it('with minReadySeconds waits for each pod to be available before the next, and counts availability late', async () => {
    start();
    const violations: string[] = [];
    let sawReadyNotAvailable = false;
    const stop = fx.store.watch({}, (ev) => {
      if (ev.resource === 'pods' && ev.type === 'ADDED' && ev.object.metadata.name === 'db-1') {
        const db0 = pod('db-0');
        if (!db0 || !isPodAvailable(db0, 1, Date.now())) violations.push('db-1 created before db-0 was available');
      }
      if (ev.resource === 'apps/statefulsets' && ev.object.status?.readyReplicas > (ev.object.status?.availableReplicas ?? 0)) sawReadyNotAvailable = true;
    });
    cleanups.push(stop);
    fx.create('apps/statefulsets', makeStatefulSet(2, { minReadySeconds: 1 }));
    await waitFor(() => sts().status?.availableReplicas === 2, 10_000, 'both available after minReadySeconds');
    expect(violations).toEqual([]);
    expect(sawReadyNotAvailable).toBe(true);
  });

  it('gives each pod a stable identity and reaches a status kubectl rollout status accepts', async () => {
    start();
    fx.create('apps/statefulsets', makeStatefulSet(2));
    await rolledOut(2);
    const [rev, ...others] = revisions();
    expect(others).toEqual([]);
    const revName = rev!.metadata.name!;
    expect(revName).toMatch(/^db-[a-z0-9]+$/);
    expect(rev).toMatchObject({ revision: 1, metadata: { labels: { app: 'db', 'controller.kubernetes.io/hash': revName.slice(3) }, ownerReferences: [expect.objectContaining({ kind: 'StatefulSet', name: 'db', controller: true })] } });
    expect(rev!.data.spec.template).toMatchObject({ $patch: 'replace', spec: { containers: [expect.objectContaining({ image: 'postgres:16' })] } });

    const db1 = pod('db-1')!;
    expect(db1.metadata.labels).toEqual({ app: 'db', [STATEFUL_REVISION_LABEL]: revName, [POD_NAME_LABEL]: 'db-1', [POD_INDEX_LABEL]: '1' });
    expect(db1.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: sts().metadata.uid, controller: true, blockOwnerDeletion: true })]);
    expect(db1.spec).toMatchObject({ hostname: 'db-1', subdomain: 'db' });
    // No PersistentVolumeClaims are simulated: the claim template adds no volume.
    expect(db1.spec.volumes).toBeUndefined();

    expect(sts().status).toEqual({
      observedGeneration: 1,
      replicas: 2,
      readyReplicas: 2,
      currentReplicas: 2,
      updatedReplicas: 2,
      currentRevision: revName,
      updateRevision: revName,
      collisionCount: 0,
      availableReplicas: 2,
    });
    // Defaulted rollingUpdate.partition 0: kubectl takes the partitioned path, as on a real cluster.
    expect(rollout()).toEqual({ done: true, message: 'partitioned roll out complete: 2 new pods have been updated...' });
  });

  it('re-creates a deleted pod under the same name only once the old one is gone', async () => {
    start();
    fx.create('apps/statefulsets', makeStatefulSet(3));
    await rolledOut(3);
    const oldUid = pod('db-1')!.metadata.uid;
    // A finalizer keeps the deleted pod terminating until the test lets it go.
    fx.store.mutate('pods', 'default', 'db-1', (p) => {
      p.metadata.finalizers = ['example.com/hold'];
    });
    fx.store.markForDeletion('pods', 'default', 'db-1', 30);
    await syncBarrier();
    expect(pod('db-1')).toMatchObject({ metadata: { uid: oldUid, deletionTimestamp: expect.any(String) } });
    expect(dbPods()).toHaveLength(3);

    fx.store.mutate('pods', 'default', 'db-1', (p) => {
      p.metadata.finalizers = [];
    });
    await waitFor(() => runningAndReady(pod('db-1')) && pod('db-1')!.metadata.uid !== oldUid, 5000, 'a new db-1');
    await rolledOut(3);
    expect(names(dbPods())).toEqual(['db-0', 'db-1', 'db-2']);
  });

  it('re-creates a pod evicted through the API under the same name, within its PodDisruptionBudget', async () => {
    start();
    const server = new SimApiServer({ store: fx.store, registry: fx.ctx.registry, settings: fx.ctx.settings, hooks: { decideEviction: (p) => decideEviction(fx.store, p), recordEviction: (b, p) => recordEviction(fx.store, b, p) } });
    const base = await server.listen(0);
    cleanups.push(() => server.close());
    const evict = async (name: string) => (await fetch(`${base}/api/v1/namespaces/default/pods/${name}/eviction`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } }),
    })).status;
    fx.create('apps/statefulsets', makeStatefulSet(3));
    fx.create('policy/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } } });
    const pdb = () => fx.store.get('policy/poddisruptionbudgets', 'default', 'db')!;
    await rolledOut(3);
    await waitFor(() => pdb().status?.disruptionsAllowed === 1 && pdb().status?.expectedPods === 3, 5000, 'budget allows one');

    const oldUid = pod('db-2')!.metadata.uid;
    // A finalizer keeps db-2 terminating (as a slow shutdown would) while the budget is checked.
    fx.store.mutate('pods', 'default', 'db-2', (p) => {
      p.metadata.finalizers = ['example.com/hold'];
    });
    expect(await evict('db-2')).toBe(201);
    expect(pod('db-2')?.metadata.deletionTimestamp).toBeDefined();
    // The budget is spent until db-2 is back: a drain's next eviction is refused.
    expect(await evict('db-0')).toBe(429);
    fx.store.mutate('pods', 'default', 'db-2', (p) => {
      p.metadata.finalizers = [];
    });
    await waitFor(() => runningAndReady(pod('db-2')) && pod('db-2')!.metadata.uid !== oldUid, 5000, 'a new db-2');
    await waitFor(() => pdb().status?.disruptionsAllowed === 1, 5000, 'budget allows one again');
    expect(await evict('db-0')).toBe(201);
    await rolledOut(3);
  });

  it('replaces a pod the kubelet evicted (phase Failed) under the same name', async () => {
    start();
    fx.create('apps/statefulsets', makeStatefulSet(2));
    await rolledOut(2);
    const oldUid = pod('db-0')!.metadata.uid;
    fx.store.mutate('pods', 'default', 'db-0', (p) => {
      p.status = { ...p.status, phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' };
    }, { part: 'status' });
    await waitFor(() => runningAndReady(pod('db-0')) && pod('db-0')!.metadata.uid !== oldUid, 5000, 'a new db-0');
    await rolledOut(2);
  });

  it('scales down from the highest ordinal, one pod at a time, each gone before the next goes', async () => {
    start();
    fx.create('apps/statefulsets', makeStatefulSet(4));
    await rolledOut(4);
    const rec = recordPodEvents();
    fx.store.mutate('apps/statefulsets', 'default', 'db', (s) => {
      s.spec.replicas = 1;
    });
    await rolledOut(1);
    expect(rec.deleting).toEqual(['db-3', 'db-2', 'db-1']);
    expect(rec.removed).toEqual(['db-3', 'db-2', 'db-1']);
    expect(rec.maxTerminating).toBe(1);
    expect(names(dbPods())).toEqual(['db-0']);
    expect(sts().status).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
  });
});

describe('StatefulSetController updates', () => {
  it('rolls a new template from the highest ordinal down, then moves currentRevision', async () => {
    start();
    // type RollingUpdate without rollingUpdate: no partition, so kubectl compares the revisions.
    fx.create('apps/statefulsets', makeStatefulSet(3, { updateStrategy: { type: 'RollingUpdate' } }));
    await rolledOut(3);
    const first = sts().status.currentRevision as string;
    const rec = recordPodEvents();
    const messages = new Set<string>();
    const unhealthyAtDeletion: string[] = [];
    const stop = fx.store.watch({ resource: 'apps/statefulsets' }, () => {
      messages.add(rollout().message);
    });
    cleanups.push(stop);
    const stopHealth = fx.store.watch({ resource: 'pods' }, (ev) => {
      if (ev.type !== 'MODIFIED' || !ev.object.metadata.deletionTimestamp || ev.oldObject?.metadata.deletionTimestamp) return;
      for (const other of dbPods()) if (other.metadata.name !== ev.object.metadata.name && !runningAndReady(other)) unhealthyAtDeletion.push(`${other.metadata.name} when ${ev.object.metadata.name} went`);
    });
    cleanups.push(stopHealth);

    setImage('17');
    await waitFor(() => sts().status?.observedGeneration === 2 && rollout().done && sts().status.readyReplicas === 3 && dbPods().every((p) => image(p) === 'postgres:17'), 10_000, 'rolled to postgres:17');
    const s = sts().status;
    expect(s.updateRevision).not.toBe(first);
    expect(s).toMatchObject({ currentRevision: s.updateRevision, currentReplicas: 3, updatedReplicas: 3, replicas: 3 });
    expect(rec.deleting).toEqual(['db-2', 'db-1', 'db-0']);
    expect(unhealthyAtDeletion).toEqual([]);
    expect(rec.maxTerminating).toBe(1);
    expect([...messages].some((m) => m.startsWith(`waiting for statefulset rolling update to complete`) && m.includes(s.updateRevision))).toBe(true);
    expect(rollout().message).toBe(`statefulset rolling update complete 3 pods at revision ${s.updateRevision}...`);
    expect(dbPods().every((p) => p.metadata.labels![STATEFUL_REVISION_LABEL] === s.updateRevision)).toBe(true);
    expect(revisions().map((r) => [r.metadata.name, r.revision]).sort()).toEqual([[first, 1], [s.updateRevision, 2]].sort());

    // Going back to the first template renumbers its revision instead of creating another.
    setImage('16');
    await waitFor(() => sts().status?.observedGeneration === 3 && rollout().done && dbPods().every((p) => image(p) === 'postgres:16'), 10_000, 'rolled back to postgres:16');
    expect(sts().status.currentRevision).toBe(first);
    expect(Object.fromEntries(revisions().map((r) => [r.metadata.name, r.revision]))).toEqual({ [first]: 3, [s.updateRevision]: 2 });
  });

  it('updates only ordinals at or above rollingUpdate.partition', async () => {
    start();
    fx.create('apps/statefulsets', makeStatefulSet(3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
    await rolledOut(3);
    const first = sts().status.currentRevision as string;
    setImage('17');
    await waitFor(() => sts().status?.observedGeneration === 2 && rollout().done && sts().status.updatedReplicas === 1, 10_000, 'partitioned roll out');
    expect(rollout().message).toBe('partitioned roll out complete: 1 new pods have been updated...');
    expect(dbPods().map((p) => `${p.metadata.name}=${image(p)}`).sort()).toEqual(['db-0=postgres:16', 'db-1=postgres:16', 'db-2=postgres:17']);
    expect(sts().status).toMatchObject({ currentRevision: first, currentReplicas: 2, updatedReplicas: 1 });

    // A deleted pod below the partition comes back at the current revision.
    const oldUid = pod('db-0')!.metadata.uid;
    fx.store.markForDeletion('pods', 'default', 'db-0', 1);
    await waitFor(() => runningAndReady(pod('db-0')) && pod('db-0')!.metadata.uid !== oldUid, 5000, 'a new db-0');
    expect(image(pod('db-0'))).toBe('postgres:16');

    fx.store.mutate('apps/statefulsets', 'default', 'db', (o) => {
      o.spec.updateStrategy.rollingUpdate.partition = 0;
    });
    await waitFor(() => sts().status?.observedGeneration === 3 && sts().status.currentRevision === sts().status.updateRevision && sts().status.readyReplicas === 3, 10_000, 'rest rolled');
    expect(dbPods().every((p) => image(p) === 'postgres:17')).toBe(true);
  });

  it('with OnDelete replaces only pods that are deleted, at the new template', async () => {
    start();
    fx.create('apps/statefulsets', makeStatefulSet(3, { updateStrategy: { type: 'OnDelete' } }));
    await waitFor(() => sts().status?.readyReplicas === 3, 10_000);
    const uids = () => Object.fromEntries(dbPods().map((p) => [p.metadata.name, p.metadata.uid]));
    const before = uids();
    setImage('17');
    await waitFor(() => sts().status?.observedGeneration === 2, 5000);
    await syncBarrier();
    expect(uids()).toEqual(before);
    expect(sts().status.updateRevision).not.toBe(sts().status.currentRevision);
    expect(sts().status.updatedReplicas).toBeUndefined();
    expect(rollout().error).toBe('rollout status is only available for RollingUpdate strategy type');

    fx.store.markForDeletion('pods', 'default', 'db-1', 1);
    await waitFor(() => runningAndReady(pod('db-1')) && pod('db-1')!.metadata.uid !== before['db-1'], 5000, 'a new db-1');
    await waitFor(() => sts().status.updatedReplicas === 1 && sts().status.readyReplicas === 3, 5000, 'status counts the new db-1 ready');
    expect(dbPods().map((p) => `${p.metadata.name}=${image(p)}`).sort()).toEqual(['db-0=postgres:16', 'db-1=postgres:17', 'db-2=postgres:16']);
    expect(sts().status).toMatchObject({ currentReplicas: 2, updatedReplicas: 1, readyReplicas: 3 });
  });
});

describe('StatefulSetController (Parallel)', () => {
  it('creates every pod without waiting for readiness and deletes the surplus at once', async () => {
    start();
    fx.kubelet.unready.add('default/db-0');
    fx.create('apps/statefulsets', makeStatefulSet(3, { podManagementPolicy: 'Parallel' }));
    await waitFor(() => sts().status?.readyReplicas === 2 && sts().status.replicas === 3, 5000, 'db-1 and db-2 ready beside an unready db-0');
    expect(runningAndReady(pod('db-0'))).toBe(false);

    const rec = recordPodEvents();
    fx.store.mutate('apps/statefulsets', 'default', 'db', (s) => {
      s.spec.replicas = 0;
    });
    await waitFor(() => dbPods().length === 0 && sts().status?.replicas === 0, 5000, 'all gone');
    expect(rec.deleting.sort()).toEqual(['db-0', 'db-1', 'db-2']);
    expect(rec.maxTerminating).toBe(3);
    expect(sts().status).toMatchObject({ replicas: 0, availableReplicas: 0 });
  });
});

describe('StatefulSetController with the whole control plane', () => {
  it('settles without rewriting anything, and its pods and revisions go with the set', async () => {
    let stopAll = () => {};
    fx = startFixture((ctx) => {
      const running = startControllers(ctx);
      stopAll = () => running.stop();
      return [{ name: 'all', start: () => {}, stop: () => stopAll() }];
    });
    for (const n of ['n1', 'n2', 'n3']) fx.create('nodes', makeNode(n));
    fx.create('apps/statefulsets', makeStatefulSet(3));
    fx.create('policy/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } } });
    await rolledOut(3);
    await waitFor(() => fx.store.get('policy/poddisruptionbudgets', 'default', 'db')?.status?.disruptionsAllowed === 1, 5000, 'budget allows one');

    let lastWrite = Date.now();
    const stop = fx.store.watch({}, () => {
      lastWrite = Date.now();
    });
    cleanups.push(stop);
    await waitFor(() => Date.now() - lastWrite > 150, 5000, 'no writes for 150 ms');

    fx.store.delete('apps/statefulsets', 'default', 'db');
    await waitFor(() => dbPods().length === 0 && revisions().length === 0, 5000, 'pods and revisions collected');
  });
});

describe('StatefulSet rules (pure)', () => {
  const shape = (s: Partial<StatefulSetShape> = {}): StatefulSetShape => ({ replicas: 3, startOrdinal: 0, ordered: true, deleting: false, rollingUpdate: true, partition: 0, statusCurrentReplicas: 0, currentRevision: 'r1', updateRevision: 'r1', ...s });
  const view = (ordinal: number, v: Partial<StatefulPodView> = {}): StatefulPodView => ({ ordinal, revision: 'r1', created: true, terminating: false, finished: false, runningAndReady: true, available: true, identityMatches: true, ...v });

  it('parses member names as getParentNameAndOrdinal does', () => {
    expect(parseStatefulPodName('db-12')).toEqual({ parent: 'db', ordinal: 12 });
    expect(parseStatefulPodName('my-db-0')).toEqual({ parent: 'my-db', ordinal: 0 });
    expect(parseStatefulPodName('db-x').ordinal).toBe(-1);
  });

  it('starts at spec.ordinals.start and deletes a finished pod before anything else', () => {
    expect(planStatefulSet(shape({ startOrdinal: 5, replicas: 2 }), [])).toMatchObject({ create: [{ ordinal: 5, revision: 'r1' }], delete: [] });
    expect(planStatefulSet(shape({ ordered: false, startOrdinal: 5, replicas: 2 }), []).create.map((c) => c.ordinal)).toEqual([5, 6]);
    expect(planStatefulSet(shape(), [view(0, { finished: true }), view(1)])).toMatchObject({ create: [], delete: [0] });
  });

  it('scales down past an unhealthy top pod only when it is the first unhealthy one', () => {
    const unready = { runningAndReady: false, available: false };
    expect(planStatefulSet(shape({ replicas: 1 }), [view(0), view(1), view(2, unready)]).delete).toEqual([2]);
    expect(planStatefulSet(shape({ replicas: 1 }), [view(0), view(1, unready), view(2, unready)]).delete).toEqual([]);
    expect(planStatefulSet(shape({ replicas: 1, ordered: false }), [view(0), view(1, unready), view(2, unready)]).delete).toEqual([2, 1]);
  });

  it('picks the revision for a new pod by partition, or by status.currentReplicas without rollingUpdate', () => {
    const rolling = shape({ currentRevision: 'r1', updateRevision: 'r2', partition: 2 });
    expect(planStatefulSet({ ...rolling, ordered: false }, []).create).toEqual([{ ordinal: 0, revision: 'r1' }, { ordinal: 1, revision: 'r1' }, { ordinal: 2, revision: 'r2' }]);
    const noPartition = shape({ currentRevision: 'r1', updateRevision: 'r2', partition: undefined, statusCurrentReplicas: 1, ordered: false });
    expect(planStatefulSet(noPartition, []).create.map((c) => c.revision)).toEqual(['r1', 'r2', 'r2']);
    expect(planStatefulSet({ ...noPartition, rollingUpdate: false }, []).create.map((c) => c.revision)).toEqual(['r2', 'r2', 'r2']);
  });

  it('deletes the highest outdated pod for an update and counts it out of currentReplicas', () => {
    const set = shape({ currentRevision: 'r1', updateRevision: 'r2' });
    expect(planStatefulSet(set, [view(0), view(1), view(2)])).toMatchObject({ delete: [2], counts: { currentReplicas: 2, updatedReplicas: 0 } });
    expect(planStatefulSet(set, [view(0), view(1), view(2, { revision: 'r2', runningAndReady: false })]).delete).toEqual([]);
    expect(planStatefulSet({ ...set, partition: 3 }, [view(0), view(1), view(2)]).delete).toEqual([]);
    // Ready but not yet available for minReadySeconds holds the update, even for a Parallel set.
    expect(planStatefulSet({ ...set, ordered: false }, [view(0), view(1), view(2, { revision: 'r2', available: false })]).delete).toEqual([]);
  });

  it('writes status like the API serves it and completes a rolling update once spec.replicas pods are updated', () => {
    const counts = { replicas: 2, readyReplicas: 2, availableReplicas: 2, currentReplicas: 0, updatedReplicas: 2 };
    const input = { generation: 4, specReplicas: 2, counts, currentRevision: 'r1', updateRevision: 'r2', collisionCount: 0, rollingUpdate: true };
    expect(statefulSetStatus(input)).toEqual({
      observedGeneration: 4, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, currentRevision: 'r2', updateRevision: 'r2', collisionCount: 0, availableReplicas: 2,
    });
    // Scaling up during the update: two of three updated is not complete.
    expect(statefulSetStatus({ ...input, specReplicas: 3 })).toMatchObject({ currentRevision: 'r1' });
    expect(statefulSetStatus({ ...input, generation: 1, counts: { ...counts, updatedReplicas: 0 }, collisionCount: 1, rollingUpdate: false })).toEqual({
      observedGeneration: 1, replicas: 2, readyReplicas: 2, currentRevision: 'r1', updateRevision: 'r2', collisionCount: 1, availableReplicas: 2,
    });
  });

  it('rewrites the status only when a count, a revision or the generation moved', () => {
    const current = statefulSetStatus({ generation: 2, specReplicas: 1, counts: { replicas: 1, readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1 }, currentRevision: 'r1', updateRevision: 'r1', collisionCount: 0, rollingUpdate: true });
    expect(statusNeedsWrite(current, { ...current })).toBe(false);
    expect(statusNeedsWrite(current, { ...current, collisionCount: 1 })).toBe(false);
    expect(statusNeedsWrite({ ...current, conditions: [{ type: 'X' }] }, current)).toBe(false);
    expect(statusNeedsWrite(current, { ...current, observedGeneration: 3 })).toBe(true);
    expect(statusNeedsWrite(current, { ...current, readyReplicas: undefined, availableReplicas: 0 })).toBe(true);
    expect(statusNeedsWrite(undefined, current)).toBe(true);
  });

  it('reuses, renumbers or creates the update revision, and trims history that no pod uses', () => {
    const base = makeStatefulSet(1);
    base.metadata.uid = 'u1';
    const other = structuredClone(base);
    other.spec.template.spec.containers[0].image = 'postgres:17';
    const r1 = newRevision(base, 1, 0);
    const r2 = newRevision(other, 2, 0);
    expect(r1.metadata.name).not.toBe(r2.metadata.name);
    expect(newRevision(base, 1, 1).metadata.name).not.toBe(r1.metadata.name);
    expect(chooseUpdateRevision([r1, r2], newRevision(other, 3, 0))).toEqual({ action: 'reuse', revision: r2 });
    expect(chooseUpdateRevision([r1, r2], newRevision(base, 3, 0))).toEqual({ action: 'renumber', revision: r1, number: 3 });
    expect(chooseUpdateRevision([r1], newRevision(other, 2, 0))).toMatchObject({ action: 'create' });
    const named = (n: string) => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: n } });
    expect(revisionsToTrim(['a', 'b', 'c', 'd'].map(named), new Set(['a', 'd']), 1).map((r) => r.metadata.name)).toEqual(['b']);
    expect(revisionsToTrim(['a', 'b', 'c'].map(named), new Set(), -1)).toEqual([]);
  });
});
