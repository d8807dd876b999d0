/**
 * The vocabulary of the probe agent: what it probes, the named outcomes of a probe and of a
 * long-lived flow, and the two interfaces through which it talks to the world (ProbeTransport,
 * PeerSource). Real pods use node:http/node:net and the API server; the simulator asks its
 * network model and reads its store. Nothing here does I/O.
 */
import type { Pod } from '../../kube/kubeTypes.js';

/** One interface of a pod, as Multus' network-status annotation lists it (network name normalised). */
export interface PodNetworkInterface {
  /** Network name ("flannel", "cilium"; "default" when the pod carries no network-status annotation). */
  network: string;
  /** Interface inside the pod (eth0, net1, …). */
  interface: string;
  ips: string[];
  /** The pod's primary interface (status.podIP lives there). */
  primary: boolean;
}

/** One address of one peer pod that the agent probes. */
export interface ProbeTarget {
  /** Stable identity: "pod@ip". */
  key: string;
  pod: string;
  node: string;
  ip: string;
  network: string;
  interface: string;
  /** Whether this is the peer's primary address (the one in the Service's Endpoints). */
  primary: boolean;
}

/** Named outcomes of one probe. */
export type ProbeResult =
  /** 200 from the expected peer. */
  | 'ok'
  /** No answer within the timeout (packets dropped: firewall, overlay down). */
  | 'timeout'
  /** Connection refused: nothing listens there. */
  | 'refused'
  /** No route to the address. */
  | 'unreachable'
  /** The connection was reset mid-request. */
  | 'reset'
  /** The peer answered with a non-200 status. */
  | 'http-error'
  /** Another pod answered at the peer's address (an IP reused). */
  | 'wrong-peer'
  /** Any other transport error. */
  | 'error';

/** Every probe result, in display order. */
export const PROBE_RESULTS: readonly ProbeResult[] = ['ok', 'timeout', 'refused', 'unreachable', 'reset', 'http-error', 'wrong-peer', 'error'];

/** How a transport-level request failed. */
export type TransportFailure = 'timeout' | 'refused' | 'unreachable' | 'reset' | 'error';

/** What one HTTP GET came to: an answer (any status) or a transport failure, as data. */
export type HttpGetResult = { kind: 'response'; status: number; body: string } | { kind: 'failure'; failure: TransportFailure; message: string };

/** How a long-lived flow ended, as the transport sees it. */
export interface FlowCut {
  /**
   * peer-closed: the peer said goodbye (its agent is shutting down); closed: the connection ended
   * without a goodbye; reset/timeout/unreachable/error: the connection was cut or went silent.
   */
  cause: 'peer-closed' | 'closed' | TransportFailure;
  message: string;
}

/** An open long-lived connection to a peer. */
export interface ProbeFlow {
  /** Registers the listener told once when the connection is cut (never after close()). */
  onBroken(listener: (cut: FlowCut) => void): void;
  /** Closes the flow from our side; no cut is reported. */
  close(): void;
}

/** Opening a flow: the flow, or why it could not be opened. */
export type OpenFlowResult = { ok: true; flow: ProbeFlow } | { ok: false; failure: TransportFailure; message: string };

/** How the agent reaches peers: node:http/node:net in a pod, the network model in the simulator. */
export interface ProbeTransport {
  /** GET http://ip:port/path within timeoutMs. Never rejects: failures are data. */
  httpGet(ip: string, port: number, path: string, timeoutMs: number): Promise<HttpGetResult>;
  /** Opens a long-lived connection to the peer's agent. Never rejects: failures are data. */
  openFlow(ip: string, port: number, timeoutMs: number): Promise<OpenFlowResult>;
}

/** v1 EndpointAddress, as much as discovery reads. */
export interface EndpointAddressLike {
  ip: string;
  nodeName?: string | undefined;
  targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string } | undefined;
}

/** v1 Endpoints, as much as discovery reads. */
export interface EndpointsLike {
  subsets?: { addresses?: EndpointAddressLike[]; notReadyAddresses?: EndpointAddressLike[] }[] | undefined;
}

/** The probe Service's Endpoints and the probe pods, read together. */
export interface PeerSnapshot {
  /** undefined when the Service (or its Endpoints) does not exist. */
  endpoints: EndpointsLike | undefined;
  /** The probe pods (this one included). */
  pods: Pod[];
}

/** Where the agent learns about its peers. */
export interface PeerSource {
  /** Current peers; `fresh` asks to bypass any cache (used to confirm failures). */
  snapshot(opts?: { fresh?: boolean }): Promise<PeerSnapshot>;
}

/** Who the agent is. */
export interface AgentIdentity {
  pod: string;
  namespace: string;
  node: string;
  /** status.podIP as the downward API gives it (may be empty at start). */
  podIP?: string | undefined;
}

/** Why a long-lived flow was cut, as the agent judges it. */
export type FlowBreakReason =
  /** The peer pod went away (deleted, restarting, being drained): expected while nodes drain. */
  | 'peer-gone'
  /** Both ends were alive and the connection was cut: downtime. */
  | 'network';
