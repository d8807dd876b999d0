/**
 * ProbeTransport for the simulator: instead of the kernel, the network model decides whether a
 * packet from this pod reaches an address; when it does, the peer pod's agent answers in-process.
 * Long-lived flows are checked by the runner on a short tick and cut when the model says the path
 * is gone, or said goodbye to when the peer's agent stops.
 */
import type { FlowCut, HttpGetResult, OpenFlowResult, ProbeFlow, ProbeTransport, TransportFailure } from '../../connectivity/agent/probeTypes.js';
import type { ReachReason, ReachResult } from '../model/reachability.js';

/** What the transport needs from the runner. */
export interface SimProbeNetwork {
  canReach(fromNamespace: string, fromPod: string, ip: string): ReachResult;
  /** The agent serving this address and port, or undefined (nothing listens: refused). */
  answer(ip: string, port: number, path: string): { status: number; body: string } | undefined;
  /** Tracks an open flow; the runner cuts it when the path or the peer goes. */
  track(flow: SimFlow): void;
  untrack(flow: SimFlow): void;
}

/** The pod a transport sends from. */
export interface SimPodRef {
  uid: string;
  namespace: string;
  name: string;
}

/** A long-lived flow in the simulator. */
export class SimFlow implements ProbeFlow {
  private listener: ((cut: FlowCut) => void) | undefined;
  private pending: FlowCut | undefined;
  private done = false;

  constructor(
    readonly from: SimPodRef,
    readonly ip: string,
    readonly port: number,
    private readonly network: SimProbeNetwork,
  ) {}

  onBroken(listener: (cut: FlowCut) => void): void {
    this.listener = listener;
    if (this.pending) listener(this.pending);
  }

  close(): void {
    this.done = true;
    this.network.untrack(this);
  }

  /** Called by the runner when the path or the peer is gone. */
  cut(c: FlowCut): void {
    if (this.done) return;
    this.done = true;
    this.network.untrack(this);
    if (this.listener) this.listener(c);
    else this.pending = c;
  }
}

/** The simulator's transport for one probe pod. */
export class SimTransport implements ProbeTransport {
  constructor(
    private readonly from: SimPodRef,
    private readonly network: SimProbeNetwork,
  ) {}

  httpGet(ip: string, port: number, path: string): Promise<HttpGetResult> {
    const blocked = this.blocked(ip, port);
    if (blocked) return Promise.resolve({ kind: 'failure', ...blocked });
    const answer = this.network.answer(ip, port, path);
    if (!answer) return Promise.resolve({ kind: 'failure', failure: 'refused', message: `dial tcp ${ip}:${port}: connect: connection refused` });
    return Promise.resolve({ kind: 'response', status: answer.status, body: answer.body });
  }

  openFlow(ip: string, port: number): Promise<OpenFlowResult> {
    const blocked = this.blocked(ip, port);
    if (blocked) return Promise.resolve({ ok: false, ...blocked });
    if (!this.network.answer(ip, port, '/healthz')) return Promise.resolve({ ok: false, failure: 'refused', message: `dial tcp ${ip}:${port}: connect: connection refused` });
    const flow = new SimFlow(this.from, ip, port, this.network);
    this.network.track(flow);
    return Promise.resolve({ ok: true, flow });
  }

  private blocked(ip: string, port: number): { failure: TransportFailure; message: string } | undefined {
    const reach = this.network.canReach(this.from.namespace, this.from.name, ip);
    if (reach.ok) return undefined;
    return { failure: failureOf(reach.reason), message: `${ip}:${port}: ${reach.reason}: ${reach.detail} (simulated)` };
  }
}

/** What a real socket would see for each of the model's verdicts. */
export function failureOf(reason: ReachReason): TransportFailure {
  switch (reason) {
    case 'no-interface-on-network':
    case 'no-such-address':
    case 'target-not-running':
      return 'unreachable';
    case 'unknown-source':
    case 'source-not-running':
      return 'error';
    default:
      // Overlay and datapath problems drop packets silently: the prober times out.
      return 'timeout';
  }
}
