/**
 * PeerSource over the API server (inside a pod, with the pod's service account): the probe
 * Service's Endpoints and the pods of the probe namespace. Cached for refreshMs so that N agents
 * probing every couple of seconds cost the API server 2N requests per refresh period, not per
 * round; a fresh read is made when the agent confirms a failure.
 */
import type { ClusterClient } from '../../kube/clusterClient.js';
import { isNotFound } from '../../kube/kubeErrors.js';
import type { EndpointsLike, PeerSnapshot, PeerSource } from './probeTypes.js';

/** Where the peers are. */
export interface ClusterPeerSourceOptions {
  namespace: string;
  /** The probe Service (its Endpoints list the ready peers). */
  service: string;
  /** How long a snapshot is reused (default 10 s). */
  refreshMs?: number;
  now?: () => number;
}

/** Reads peers through a ClusterClient. */
export class ClusterPeerSource implements PeerSource {
  private cached: { at: number; snapshot: PeerSnapshot } | undefined;

  constructor(
    private readonly client: Pick<ClusterClient, 'getObject' | 'listPods'>,
    private readonly opts: ClusterPeerSourceOptions,
  ) {}

  async snapshot(opts: { fresh?: boolean } = {}): Promise<PeerSnapshot> {
    const now = (this.opts.now ?? Date.now)();
    if (!opts.fresh && this.cached && now - this.cached.at < (this.opts.refreshMs ?? 10_000)) return this.cached.snapshot;
    const [endpoints, pods] = await Promise.all([this.endpoints(), this.client.listPods({ namespace: this.opts.namespace })]);
    const snapshot = { endpoints, pods };
    this.cached = { at: now, snapshot };
    return snapshot;
  }

  private async endpoints(): Promise<EndpointsLike | undefined> {
    try {
      return (await this.client.getObject({ apiVersion: 'v1', kind: 'Endpoints', namespace: this.opts.namespace, name: this.opts.service })) as EndpointsLike;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
