/**
 * What the simulated probe agents need to know about the cluster: the pods (to start an agent for
 * each running probe pod and stop it when the pod goes) and, per agent, where its peers are. The
 * simulator answers from its in-process store (storePeerSource.ts); a real control plane through
 * the API (backendPeerSource.ts), so the same runner drives the agents on either.
 */
import type { PeerSnapshot, PeerSource } from '../../connectivity/agent/probeTypes.js';
import type { WatchEvent } from '../store/kubeObject.js';

/** The pods and peers the probe runner reads. */
export interface ProbeClusterView {
  /**
   * Streams ADDED for every existing pod, then changes, until the returned function is called.
   * A synchronous view delivers the existing pods before it returns.
   */
  watchPods(handler: (event: WatchEvent) => void): () => void;
  /** The peers of an agent in `namespace` behind the probe Service `service`. */
  peerSource(namespace: string, service: string): PeerSource;
  /**
   * The same peers now, read-only and shared, with a number that changes whenever they may have
   * (a write to the namespace's pods or Endpoints), so derived work can be kept until then.
   */
  peerSnapshot(namespace: string, service: string): { snapshot: PeerSnapshot; version: number };
  /** Ends whatever the view watches. */
  close(): void;
}
