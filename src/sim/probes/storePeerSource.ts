/** PeerSource over the simulator's store: always fresh, no API round trip. */
import type { Pod } from '../../kube/kubeTypes.js';
import type { EndpointsLike, PeerSnapshot, PeerSource } from '../../connectivity/agent/probeTypes.js';
import type { ObjectStore } from '../store/objectStore.js';

/** Reads the probe Service's Endpoints and the pods of its namespace from the store. */
export class StorePeerSource implements PeerSource {
  constructor(
    private readonly store: ObjectStore,
    private readonly namespace: string,
    private readonly service: string,
  ) {}

  snapshot(): Promise<PeerSnapshot> {
    const endpoints = this.store.get('endpoints', this.namespace, this.service) as EndpointsLike | undefined;
    const pods = this.store.list('pods', this.namespace).items as Pod[];
    return Promise.resolve({ endpoints, pods });
  }
}
