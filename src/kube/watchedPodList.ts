import type { ClusterClient, PodQuery } from './clusterClient.js';
import { KubeApiError } from './kubeErrors.js';
import type { KubeObject, Pod } from './kubeTypes.js';
import { systemClock, type Clock } from '../ops/clock.js';

// A list of pods kept current by a watch (an informer without the library): a caller that reads
// the same pods at every connectivity checkpoint — hundreds of times in a long migration — costs
// the API server one list and one open watch instead of a list each time. Until the first list
// arrives, and whenever the watch cannot follow (410 Expired, an error), reads fall back to a plain
// list, so a read is never older than what the watch delivered, and never invented.

const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

/** Why the watch was started again. */
export type WatchedListRestart = 'closed' | 'expired' | 'failed';

export interface WatchedPodListOptions {
  clock?: Clock;
  /** Wait before listing again after a failed list or watch. */
  retryMs?: number;
  /** The server ends each watch after this long; the list resumes it from the last resourceVersion. */
  watchTimeoutSeconds?: number;
  onRestart?: (why: WatchedListRestart, detail: string) => void;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class WatchedPodList {
  private readonly items = new Map<string, KubeObject>();
  private synced = false;
  private loop: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private readonly clock: Clock;
  /** Reads served from the watched list, and by a plain list (not yet or no longer in sync). */
  readonly counts = { cached: 0, listed: 0, relists: 0 };

  constructor(
    private readonly client: Pick<ClusterClient, 'listPods' | 'listWithVersion' | 'watch'>,
    readonly query: PodQuery,
    private readonly opts: WatchedPodListOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Whether a pod query is the one this list follows. */
  serves(q: PodQuery | undefined): boolean {
    return (q?.namespace ?? undefined) === this.query.namespace && (q?.labelSelector || undefined) === (this.query.labelSelector || undefined) && !q?.fieldSelector && !this.query.fieldSelector;
  }

  /** The pods now: from the watched list when it is in sync, else by a list (and the watch is started). */
  async list(): Promise<Pod[]> {
    if (this.stopper.signal.aborted) return this.client.listPods(this.query);
    this.loop ??= this.run(this.stopper.signal);
    if (this.synced) {
      this.counts.cached++;
      return [...this.items.values()].map((o) => structuredClone(o) as Pod);
    }
    this.counts.listed++;
    return this.client.listPods(this.query);
  }

  /** Stops watching; later reads list. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.synced = false;
    await this.loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const query = { namespace: this.query.namespace, labelSelector: this.query.labelSelector || undefined };
    while (!signal.aborted) {
      let rv: string;
      try {
        // An API outage can hold a list for minutes of retries: stop() does not wait for it.
        const listed = await untilAborted(this.client.listWithVersion(POD, query), signal);
        if (!listed) return;
        this.items.clear();
        for (const o of listed.items) this.items.set(keyOf(o), o);
        rv = listed.resourceVersion;
        this.synced = true;
        this.counts.relists++;
      } catch (e) {
        if (signal.aborted) return;
        this.opts.onRestart?.('failed', (e as Error).message);
        await this.pause(signal);
        continue;
      }
      for (;;) {
        const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300;
        const started = this.clock.now();
        let events = 0;
        try {
          // A half-open connection never ends by itself: past the server's own timeout (plus a
          // margin) the watch is given up and resumed, so the list is never older than that.
          await this.client.watch(
            POD,
            { ...query, resourceVersion: rv, timeoutSeconds },
            (ev) => {
              events++;
              if (ev.type === 'DELETED') this.items.delete(keyOf(ev.object));
              else if (ev.type !== 'BOOKMARK') this.items.set(keyOf(ev.object), ev.object);
              rv = ev.object.metadata.resourceVersion ?? rv;
            },
            AbortSignal.any([signal, AbortSignal.timeout((timeoutSeconds + 60) * 1000)]),
          );
          if (signal.aborted) return;
          // The server ended the watch (its timeout, a cut): the list stays true; follow on from rv.
          this.opts.onRestart?.('closed', `resuming from resourceVersion ${rv}`);
          // Something that closes every watch at once (a proxy) must not turn this into a busy loop.
          if (!events && this.clock.now() - started < 1000) await this.pause(signal);
        } catch (e) {
          this.synced = false;
          if (signal.aborted) return;
          const expired = e instanceof KubeApiError && e.code === 410;
          this.opts.onRestart?.(expired ? 'expired' : 'failed', (e as Error).message);
          if (!expired) await this.pause(signal);
          break;
        }
      }
    }
  }

  private async pause(signal: AbortSignal): Promise<void> {
    await this.clock.sleep(this.opts.retryMs ?? 1000, signal).catch(() => undefined);
  }
}

/** The promise's value, or undefined as soon as the signal aborts (a later rejection is dropped). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve(undefined);
        else reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** A client whose reads of `list`'s pods come from it; everything else goes to `client`. */
export function withWatchedPods<C extends Pick<ClusterClient, 'listPods'>>(client: C, list: WatchedPodList): C {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'listPods') return (q?: PodQuery) => (list.serves(q) ? list.list() : target.listPods(q));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
