import { afterEach, describe, expect, it, vi } from 'vitest';
import { makePod } from '../ops/testing/builders.js';
import { FakeCluster } from '../ops/testing/fakeCluster.js';
import { KubeApiError } from './kubeErrors.js';
import { WatchedPodList, withWatchedPods, type WatchedListRestart } from './watchedPodList.js';

const probe = (name: string, node = 'node-1') => makePod(name, { namespace: 'probes', node, labels: { app: 'probe' } });
const names = (pods: { metadata: { name?: string } }[]) => pods.map((p) => p.metadata.name).sort();
const noSleep = { now: () => 0, sleep: () => Promise.resolve() };
/** A client with no pods whose list and watch answer as given (by default at once, empty). */
const scripted = (o: { listWithVersion?: () => Promise<{ items: never[]; resourceVersion: string }>; watch?: () => Promise<void> }) => ({
  listPods: () => Promise.resolve([]),
  listWithVersion: o.listWithVersion ?? (() => Promise.resolve({ items: [], resourceVersion: '1' })),
  watch: o.watch ?? (() => Promise.resolve()),
});

describe('WatchedPodList', () => {
  let list: WatchedPodList | undefined;
  afterEach(async () => {
    await list?.stop();
  });

  function follow(fake: FakeCluster, restarts: string[] = []) {
    list = new WatchedPodList(fake, { namespace: 'probes', labelSelector: 'app=probe' }, { clock: noSleep, onRestart: (why: WatchedListRestart) => restarts.push(why) });
    return list;
  }
  // The first read starts the watch; in sync once it is open.
  const synced = async (l: WatchedPodList, fake: FakeCluster) => {
    await l.list();
    await vi.waitFor(() => expect(fake.openWatches).toBe(1), { timeout: 2000, interval: 5 });
    return l;
  };

  it('lists once, then serves every read from the watch: adds and deletes show, other queries still list', async () => {
    const fake = new FakeCluster();
    fake.add(probe('p1'));
    fake.add(makePod('web', { namespace: 'probes', labels: { app: 'web' } }));
    const l = follow(fake);
    expect(names(await l.list())).toEqual(['p1']);
    await synced(l, fake);
    fake.add(probe('p2', 'node-2'));
    await vi.waitFor(async () => expect(names(await l.list())).toEqual(['p1', 'p2']), { timeout: 2000, interval: 5 });
    await fake.deletePod('probes', 'p1');
    await vi.waitFor(async () => expect(names(await l.list())).toEqual(['p2']), { timeout: 2000, interval: 5 });
    // One plain list before the watch was in sync, one list for the watch; every later read cached.
    expect(fake.callsOf('listPods')).toHaveLength(1);
    expect(fake.callsOf('listWithVersion')).toHaveLength(1);
    expect(l.counts.cached).toBeGreaterThanOrEqual(2);

    const client = withWatchedPods(fake, l);
    await client.listPods({ namespace: 'probes', labelSelector: 'app=probe' });
    expect(fake.callsOf('listPods')).toHaveLength(1);
    expect(names(await client.listPods({ namespace: 'probes' }))).toEqual(['p2', 'web']);
    expect(fake.callsOf('listPods')).toHaveLength(2);
  });

  it('a cut watch resumes from where it was, without a list; what happened meanwhile arrives', async () => {
    const fake = new FakeCluster();
    fake.add(probe('p1'));
    const restarts: string[] = [];
    const l = await synced(follow(fake, restarts), fake);
    await l.list();
    fake.cutWatches();
    fake.add(probe('p3'));
    await vi.waitFor(async () => expect(names(await l.list())).toEqual(['p1', 'p3']), { timeout: 2000, interval: 5 });
    expect(restarts).toEqual(['closed']);
    expect(fake.callsOf('listWithVersion')).toHaveLength(1);
    expect(fake.callsOf('watch')).toHaveLength(2);
  });

  it('410 Expired: reads fall back to a list until the list is read again; nothing stale is served', async () => {
    const fake = new FakeCluster();
    fake.add(probe('p1'));
    const restarts: string[] = [];
    const l = await synced(follow(fake, restarts), fake);
    await l.list();
    // The watch ends and its resourceVersion is gone by the time it resumes.
    fake.compactWatchHistory();
    fake.failNext('watch', new KubeApiError({ code: 410, reason: 'Expired', message: 'too old resource version', causes: [] }, 'watch'));
    fake.cutWatches();
    fake.add(probe('p4'));
    await vi.waitFor(() => expect(fake.callsOf('listWithVersion')).toHaveLength(2), { timeout: 2000, interval: 5 });
    expect(names(await l.list())).toEqual(['p1', 'p4']);
    expect(restarts).toEqual(['closed', 'expired']);
    expect(l.counts.relists).toBe(2);
  });

  it('after stop every read is a plain list', async () => {
    const fake = new FakeCluster();
    fake.add(probe('p1'));
    const l = await synced(follow(fake), fake);
    await l.stop();
    expect(fake.openWatches).toBe(0);
    fake.add(probe('p5'));
    expect(names(await l.list())).toEqual(['p1', 'p5']);
    expect(fake.callsOf('listPods')).toHaveLength(2);
  });

  it('a watch that ends at once with nothing (a proxy closing every stream) pauses before the next, never a busy loop', async () => {
    let watches = 0;
    let pauses = 0;
    const client = scripted({
      watch: () => {
        watches++;
        return Promise.resolve();
      },
    });
    // The pause lasts until the list stops: one watch, one pause, nothing more meanwhile.
    const clock = { now: () => 0, sleep: (_ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => { pauses++; signal?.addEventListener('abort', () => resolve()); }) };
    list = new WatchedPodList(client, { namespace: 'probes' }, { clock });
    await list.list();
    await vi.waitFor(() => expect(pauses).toBe(1), { timeout: 2000, interval: 5 });
    expect(watches).toBe(1);
  });

  it('stop() does not wait for a list the API server is holding', async () => {
    const client = scripted({ listWithVersion: () => new Promise<{ items: never[]; resourceVersion: string }>(() => undefined) });
    const l = new WatchedPodList(client, { namespace: 'probes' }, { clock: noSleep });
    await l.list();
    let stopped = false;
    await l.stop().then(() => (stopped = true));
    expect(stopped).toBe(true);
  });
});

