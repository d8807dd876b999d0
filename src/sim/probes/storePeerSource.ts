/** PeerSource over the simulator's store: always fresh, no API round trip. */
import type { Pod } from '../../kube/kubeTypes.js';
import type { EndpointsLike, PeerSnapshot, PeerSource } from '../../connectivity/agent/probeTypes.js';
import type { WatchEvent } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';
import type { ProbeClusterView } from './probeClusterView.js';

/** The probe runner's view of the simulator: the store's pod watch, and snapshots of a probe namespace kept until it changes. */
export class StoreProbeView implements ProbeClusterView {
  // Every agent asks every round; copying the namespace's pods each time starved the event loop
  // at 50 nodes, so agents share one read-only snapshot until the namespace's pods or Endpoints change.
  private readonly cache = new Map<string, { version: number; snapshot: PeerSnapshot }>();
  private readonly versions = new Map<string, number>();
  private readonly stops: (() => void)[];

  constructor(private readonly store: ObjectStore) {
    const bump = (ev: WatchEvent) => {
      const ns = ev.object.metadata.namespace ?? '';
      this.versions.set(ns, (this.versions.get(ns) ?? 0) + 1);
    };
    this.stops = [store.watch({ resource: 'pods' }, bump), store.watch({ resource: 'endpoints' }, bump)];
  }

  watchPods(handler: (event: WatchEvent) => void): () => void {
    const stop = this.store.watch({ resource: 'pods' }, handler);
    for (const object of this.store.list('pods').items) handler({ type: 'ADDED', resource: 'pods', object });
    return stop;
  }

  // The cached snapshot is the store as it is now (it is dropped on every write to the namespace),
  // so it is as fresh as a read that bypasses caches: agents confirming failures get it too.
  peerSource(namespace: string, service: string): PeerSource {
    return { snapshot: () => Promise.resolve(this.peerSnapshot(namespace, service).snapshot) };
  }

  peerSnapshot(namespace: string, service: string): { snapshot: PeerSnapshot; version: number } {
    const version = this.versions.get(namespace) ?? 0;
    const key = `${namespace}/${service}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === version) return hit;
    const entry = { version, snapshot: this.read(namespace, service) };
    this.cache.set(key, entry);
    return entry;
  }

  close(): void {
    for (const s of this.stops.splice(0)) s();
  }

  private read(namespace: string, service: string): PeerSnapshot {
    const endpoints = this.store.get('endpoints', namespace, service) as EndpointsLike | undefined;
    const pods = this.store.list('pods', namespace).items as Pod[];
    return { endpoints, pods };
  }
}
