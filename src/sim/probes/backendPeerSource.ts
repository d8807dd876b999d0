/**
 * The probe runner's view of a cluster reached through a ClusterBackend (a real control plane over
 * HttpBackend, e2e): one list+watch of pods and one of Endpoints, shared by every simulated agent,
 * informer style. An agent's routine snapshot reads that cache; a `fresh` snapshot (the agent
 * confirming a failure or judging a cut flow) asks the API server, as the in-pod agent's
 * ClusterPeerSource does.
 */
import type { EndpointsLike, PeerSnapshot, PeerSource } from '../../connectivity/agent/probeTypes.js';
import type { ClusterBackend } from '../model/clusterBackend.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ProbeClusterView } from './probeClusterView.js';

/** Pods and Endpoints from the API, cached by watches; start() before use, close() to end the watches. */
export class BackendProbeView implements ProbeClusterView {
  private readonly pods = new Map<string, KubeObject>();
  private readonly endpoints = new Map<string, KubeObject>();
  private readonly subscribers = new Set<(event: WatchEvent) => void>();
  private readonly stops: (() => void)[] = [];
  private readonly versions = new Map<string, number>();
  private readonly snapshots = new Map<string, { version: number; snapshot: PeerSnapshot }>();

  constructor(private readonly backend: ClusterBackend) {}

  /** Lists and starts watching Endpoints and pods. */
  async start(): Promise<this> {
    try {
      this.stops.push(await this.backend.watch('endpoints', (ev) => this.track(this.endpoints, ev)));
      this.stops.push(
        await this.backend.watch('pods', (ev) => {
          this.track(this.pods, ev);
          for (const s of [...this.subscribers]) s(ev);
        }),
      );
    } catch (e) {
      this.close();
      throw e;
    }
    return this;
  }

  /** Ends the watches. */
  close(): void {
    for (const s of this.stops.splice(0)) s();
    this.subscribers.clear();
  }

  watchPods(handler: (event: WatchEvent) => void): () => void {
    this.subscribers.add(handler);
    for (const object of [...this.pods.values()]) handler({ type: 'ADDED', resource: 'pods', object });
    return () => {
      this.subscribers.delete(handler);
    };
  }

  peerSource(namespace: string, service: string): PeerSource {
    return {
      snapshot: async (opts: { fresh?: boolean } = {}): Promise<PeerSnapshot> => {
        if (opts.fresh) {
          const [endpoints, pods] = await Promise.all([this.backend.get('endpoints', namespace, service), this.backend.list('pods', namespace)]);
          return { endpoints: endpoints as EndpointsLike | undefined, pods };
        }
        return this.peerSnapshot(namespace, service).snapshot;
      },
    };
  }

  peerSnapshot(namespace: string, service: string): { snapshot: PeerSnapshot; version: number } {
    const version = this.versions.get(namespace) ?? 0;
    const key = `${namespace}/${service}`;
    const hit = this.snapshots.get(key);
    if (hit && hit.version === version) return hit;
    const pods = [...this.pods.values()].filter((p) => (p.metadata.namespace ?? 'default') === namespace);
    const entry = { version, snapshot: { endpoints: this.endpoints.get(key) as EndpointsLike | undefined, pods } };
    this.snapshots.set(key, entry);
    return entry;
  }

  private track(cache: Map<string, KubeObject>, ev: WatchEvent): void {
    const ns = ev.object.metadata.namespace ?? '';
    this.versions.set(ns, (this.versions.get(ns) ?? 0) + 1);
    const key = `${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name ?? ''}`;
    if (ev.type === 'DELETED') {
      // A late DELETED of an older incarnation must not drop its successor.
      if (cache.get(key)?.metadata.uid === ev.object.metadata.uid) cache.delete(key);
    } else cache.set(key, ev.object);
  }
}
