/** PeerSource over the simulator's store: always fresh, no API round trip. */
import type { Pod } from '../../kube/kubeTypes.js';
import type { EndpointsLike, PeerSnapshot, PeerSource } from '../../connectivity/agent/probeTypes.js';
import type { WatchEvent } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';
import type { ProbeClusterView } from './probeClusterView.js';

/** Reads the probe Service's Endpoints and the pods of its namespace from the store. */
export class StorePeerSource implements PeerSource {
  constructor(
    private readonly store: ObjectStore,
    private readonly namespace: string,
    private readonly service: string,
    private readonly cache?: SnapshotCache,
  ) {}

  snapshot(): Promise<PeerSnapshot> {
    // Every agent asks every round; copying the namespace's pods each time starved the event loop
    // at 50 nodes, so agents share one read-only snapshot per store resourceVersion.
    const rv = this.store.currentResourceVersion();
    const key = `${this.namespace}/${this.service}`;
    const hit = this.cache?.get(key);
    if (hit && hit.rv === rv) return Promise.resolve(hit.snapshot);
    const endpoints = this.store.get('endpoints', this.namespace, this.service) as EndpointsLike | undefined;
    const pods = this.store.list('pods', this.namespace).items as Pod[];
    const snapshot = { endpoints, pods };
    this.cache?.set(key, { rv, snapshot });
    return Promise.resolve(snapshot);
  }
}

/** Snapshots shared by the agents of one runner, by namespace/service. */
export type SnapshotCache = Map<string, { rv: string; snapshot: PeerSnapshot }>;

/** The probe runner's view of the simulator: the store's pod watch and StorePeerSource. */
export class StoreProbeView implements ProbeClusterView {
  private readonly cache: SnapshotCache = new Map();

  constructor(private readonly store: ObjectStore) {}

  watchPods(handler: (event: WatchEvent) => void): () => void {
    const stop = this.store.watch({ resource: 'pods' }, handler);
    for (const object of this.store.list('pods').items) handler({ type: 'ADDED', resource: 'pods', object });
    return stop;
  }

  peerSource(namespace: string, service: string): PeerSource {
    return new StorePeerSource(this.store, namespace, service, this.cache);
  }
}
