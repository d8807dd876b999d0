/**
 * Runs the real probe agent code for every simulated probe pod: for each Running pod whose
 * container runs `probe-agent`, a ProbeAgent with the model's transport and the view's peers (the
 * simulator's store, or the API of a real control plane: ProbeClusterView),
 * served through pods/proxy by the model's pod handler; stopped when the pod is deleted or starts
 * terminating (its SIGTERM), saying goodbye on the flows peers hold to it. Intervals are the
 * simulator's own (hundreds of milliseconds), so scenario tests see results quickly.
 */
import { agentHttpHandler, collectHandler, type AgentHttpRequest, type AgentHttpResponse } from '../../connectivity/agent/agentHttpHandler.js';
import { ProbeAgent } from '../../connectivity/agent/probeAgent.js';
import { SimPeerGrouping } from './simPeerGrouping.js';
import { PROBE_PORT, PROBE_SERVICE } from '../../connectivity/connectivitySettings.js';
import type { NetworkModel } from '../model/networkModel.js';
import { connectionRefused } from '../model/podProxy.js';
import type { ReachResult } from '../model/reachability.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ObjectStore } from '../store/objectStore.js';
import type { ClusterBackend } from '../model/clusterBackend.js';
import { BackendProbeView } from './backendPeerSource.js';
import type { ProbeClusterView } from './probeClusterView.js';
import { isProbeAgentPod, probeAgentFlags, probeContainerArgs } from './probePodSpec.js';
import { parseTargets, TUNNEL_CHECK_PATH } from '../../connectivity/tunnelCheck/tunnelCheckDocument.js';
import { podSpecOf } from '../model/podSpec.js';
import { udpPortBlocked } from '../model/reachability.js';
import type { FirewallRuleSettings } from '../simSettings.js';
import { SimTransport, type SimFlow, type SimProbeNetwork } from './simTransport.js';
import { StoreProbeView } from './storePeerSource.js';

/** How fast the simulated agents run. */
export interface SimProbeOptions {
  /** Pause between probe rounds (default 300 ms). */
  intervalMs?: number;
  /**
   * Probe one peer per reachability class and side of the agent's node, letting its answer stand
   * for the class (default true; see simPeerGrouping.ts): work per round linear in the probe pods,
   * every peer covered every round. False: every agent discovers and probes every peer address
   * itself, at most maxTargetsPerRound per round (as a real agent does, without the cap).
   */
  groupProbes?: boolean;
  /** Without groupProbes: peer addresses each agent probes per round (rotating); see ProbeAgentOptions. */
  maxTargetsPerRound?: number;
  /** Probe timeout (default 250 ms; the model answers at once, so it only bounds the real code's waits). */
  timeoutMs?: number;
  /** How often open flows are checked against the model (default 50 ms). */
  flowCheckMs?: number;
  /** Long-lived flows per agent (default 3). */
  maxFlows?: number;
  log?: (line: string) => void;
}

interface RunningAgent {
  uid: string;
  namespace: string;
  name: string;
  port: number;
  ips: string[];
  agent: ProbeAgent;
  serve: (req: AgentHttpRequest) => AgentHttpResponse;
}

/** Starts agents for probe pods as they run; stop() ends them all. */
export class SimProbeRunner implements SimProbeNetwork {
  private readonly agents = new Map<string, RunningAgent>();
  private readonly byIp = new Map<string, string>();
  private readonly flows = new Set<SimFlow>();
  private readonly groupings = new Map<string, SimPeerGrouping>();
  /** Bumped whenever an agent starts or stops (which addresses answer as whom). */
  private agentsVersion = 0;
  private lastFlowCheck = 0;
  private readonly pending = new Map<string, KubeObject>();
  private readonly stops: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private tick: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly view: ProbeClusterView,
    private readonly model: NetworkModel,
    private readonly opts: SimProbeOptions = {},
    private readonly onStop: () => void = () => {},
  ) {}

  /** Watches pods and serves the agents' HTTP through the model. */
  start(): this {
    this.stops.push(
      this.model.registerPodHandler(isProbeAgentPod, async (pod, req) => {
        const a = this.agents.get(pod.metadata.uid ?? '');
        const collecting = a && a.port === req.port && !a.agent.stopped ? collectHandler(a.agent)({ method: req.method, path: req.path.split('?')[0] ?? req.path, query: req.query }) : undefined;
        return collecting ? await collecting : this.serve(pod, req.port, req.method, req.path, req.query);
      }),
    );
    // The preflight's tunnel-port agents: answered from the firewall rules, as the kernel would.
    this.stops.push(this.model.registerPodHandler(isTunnelCheckPod, (pod, req) => Promise.resolve(serveTunnelCheck(pod, req, this.model.firewallRules()))));
    this.stops.push(this.view.watchPods((ev) => this.onPodEvent(ev)));
    this.tick = setInterval(() => this.checkFlows(), this.opts.flowCheckMs ?? 50);
    return this;
  }

  /** Stops every agent and the watch. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.tick);
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const s of this.stops.splice(0)) s();
    for (const uid of [...this.agents.keys()]) this.stopAgent(uid);
    this.view.close();
    this.onStop();
  }

  /** Every running agent (tests and debugging). */
  runningAgents(): { namespace: string; name: string; agent: ProbeAgent }[] {
    return [...this.agents.values()].map((a) => ({ namespace: a.namespace, name: a.name, agent: a.agent }));
  }

  /** The agent of a running probe pod (tests and debugging). */
  agent(namespace: string, name: string): ProbeAgent | undefined {
    for (const a of this.agents.values()) if (a.namespace === namespace && a.name === name) return a.agent;
    return undefined;
  }

  canReach(fromNamespace: string, fromPod: string, ip: string): ReachResult {
    return this.model.canReach(fromNamespace, fromPod, ip);
  }

  answer(ip: string, port: number, path: string): { status: number; body: string } | undefined {
    const a = this.runningAt(ip, port);
    if (!a) return undefined;
    const [bare = path, query] = path.split('?');
    const res = a.serve({ method: 'GET', path: bare, query });
    return { status: res.status, body: res.body };
  }

  track(flow: SimFlow): void {
    this.flows.add(flow);
  }

  untrack(flow: SimFlow): void {
    this.flows.delete(flow);
  }

  /** The grouping of one probe Service's peers, shared by its agents. */
  grouping(namespace: string, service: string): SimPeerGrouping {
    const key = `${namespace}/${service}`;
    let g = this.groupings.get(key);
    if (!g) {
      g = new SimPeerGrouping({
        snapshot: () => this.view.peerSnapshot(namespace, service),
        generation: () => `${this.model.reachGeneration()}:${this.agentsVersion}`,
        classKeys: (ips) => this.model.reachClassKeys(ips),
        answersAsItself: (t) => {
          const a = this.byIp.get(t.ip);
          const running = a === undefined ? undefined : this.agents.get(a);
          return running !== undefined && !running.agent.stopped && running.name === t.pod && running.namespace === namespace;
        },
      });
      this.groupings.set(key, g);
    }
    return g;
  }

  private runningAt(ip: string, port: number): RunningAgent | undefined {
    const uid = this.byIp.get(ip);
    const a = uid === undefined ? undefined : this.agents.get(uid);
    return a && a.port === port && !a.agent.stopped ? a : undefined;
  }

  private serve(pod: KubeObject, port: number, method: string, path: string, query: string): { status: number; headers: Record<string, string>; body: string } {
    const a = this.agents.get(pod.metadata.uid ?? '');
    if (!a || a.port !== port || a.agent.stopped) throw connectionRefused(String(pod.status?.podIP ?? ''), port);
    return a.serve({ method, path, query });
  }

  private onPodEvent(ev: WatchEvent): void {
    if (ev.type === 'DELETED') {
      // Deferred like everything else: watch handlers run inside the store's write.
      this.pending.set(ev.object.metadata.uid ?? '', { ...ev.object, metadata: { ...ev.object.metadata, deletionTimestamp: ev.object.metadata.deletionTimestamp ?? 'deleted' } });
      this.schedule();
      return;
    }
    this.enqueue(ev.object);
  }

  private enqueue(pod: KubeObject): void {
    if (!isProbeAgentPod(pod)) return;
    this.pending.set(pod.metadata.uid ?? '', pod);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      const pods = [...this.pending.values()];
      this.pending.clear();
      for (const p of pods) this.reconcile(p);
    });
  }

  private reconcile(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? '';
    if (pod.metadata.deletionTimestamp) {
      this.stopAgent(uid);
      return;
    }
    if (this.agents.has(uid) || pod.status?.phase !== 'Running') return;
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const interfaces = this.model.podInterfaces(namespace, name);
    if (!interfaces) return;
    this.startAgent(pod, interfaces.map((i) => i.ip));
  }

  private startAgent(pod: KubeObject, ips: string[]): void {
    const uid = pod.metadata.uid ?? '';
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const flags = probeAgentFlags(probeContainerArgs(pod) ?? [], { port: PROBE_PORT, service: PROBE_SERVICE });
    const agent = new ProbeAgent({
      self: { pod: name, namespace, node: String(pod.spec?.nodeName ?? ''), podIP: typeof pod.status?.podIP === 'string' ? pod.status.podIP : undefined },
      port: flags.port,
      // All agents share this process: grouped, a round costs each agent O(classes), so rounds
      // slow down only gently as the cluster grows; ungrouped, they also narrow (maxTargetsPerRound).
      intervalMs: this.opts.intervalMs ?? simProbeIntervalMs(this.agents.size + 1, this.opts.groupProbes !== false),
      timeoutMs: this.opts.timeoutMs ?? 250,
      maxTargetsPerRound: this.opts.maxTargetsPerRound ?? 24,
      grouping: this.opts.groupProbes === false ? undefined : this.grouping(namespace, flags.service),
      maxFlows: this.opts.maxFlows,
      transport: new SimTransport({ uid, namespace, name }, this),
      peers: this.view.peerSource(namespace, flags.service),
      log: this.opts.log ? (l) => this.opts.log!(`probe ${namespace}/${name}: ${l}`) : undefined,
    });
    const running: RunningAgent = { uid, namespace, name, port: flags.port, ips, agent, serve: agentHttpHandler(agent) };
    this.agents.set(uid, running);
    this.agentsVersion++;
    for (const ip of ips) this.byIp.set(ip, uid);
    void agent.run();
  }

  private stopAgent(uid: string): void {
    const a = this.agents.get(uid);
    if (!a) return;
    a.agent.stop();
    this.agents.delete(uid);
    this.agentsVersion++;
    for (const ip of a.ips) if (this.byIp.get(ip) === uid) this.byIp.delete(ip);
    for (const flow of [...this.flows]) {
      if (flow.from.uid === uid) flow.close();
      else if (a.ips.includes(flow.ip)) flow.cut({ cause: 'peer-closed', message: `${a.namespace}/${a.name} said goodbye (its agent stopped)` });
    }
  }

  private checkFlows(): void {
    // Every agent holds a few flows: at a thousand nodes, thousands of paths to judge. Judged at
    // most every flowCheckMs, and less often as they grow (about 10 µs each).
    const now = Date.now();
    if (now - this.lastFlowCheck < this.flows.size / 20) return;
    this.lastFlowCheck = now;
    for (const flow of [...this.flows]) {
      if (!this.agents.has(flow.from.uid)) {
        flow.close();
        continue;
      }
      if (!this.runningAt(flow.ip, flow.port)) {
        flow.cut({ cause: 'closed', message: `${flow.ip}:${flow.port}: nothing listens there any more` });
        continue;
      }
      const reach = this.model.canReach(flow.from.namespace, flow.from.name, flow.ip);
      if (!reach.ok) flow.cut({ cause: 'timeout', message: `${flow.ip}:${flow.port} went silent: ${reach.reason}: ${reach.detail} (simulated)` });
    }
  }
}

/**
 * The simulated agents' probe interval for a cluster of `agents` probe pods. Grouped, a round is
 * O(classes) per agent (about 1 ms of the simulator's time per agent per round at a thousand
 * nodes), so the interval grows by 1.5 ms per agent; ungrouped, a round is O(peers), 5 ms per agent.
 */
export function simProbeIntervalMs(agents: number, grouped: boolean): number {
  return Math.max(300, Math.round(agents * (grouped ? 1.5 : 5)));
}

/** Starts the simulated probe agents of a cluster. */
export function startSimProbes(store: ObjectStore, model: NetworkModel, opts: SimProbeOptions = {}): SimProbeRunner {
  return new SimProbeRunner(new StoreProbeView(store), model, opts).start();
}

/**
 * Starts the simulated probe agents of a cluster reached through a ClusterBackend (a real control
 * plane): pods and peers come from the API; stop() also ends the view's watches.
 */
export async function startBackendProbes(backend: ClusterBackend, model: NetworkModel, opts: SimProbeOptions = {}): Promise<SimProbeRunner> {
  const view = await new BackendProbeView(backend).start();
  return new SimProbeRunner(view, model, opts, () => view.close()).start();
}

/** Whether a pod runs the preflight's tunnel check agent. */
function isTunnelCheckPod(pod: KubeObject): boolean {
  return (podSpecOf(pod).containers ?? []).some((c) => [...(c.command ?? []), ...(c.args ?? [])].includes('tunnel-check-agent'));
}

/** GET /udp for a simulated tunnel check agent: a target answers unless a firewall rule drops the port. */
function serveTunnelCheck(pod: KubeObject, req: { method: string; path: string; query: string; port: number }, rules: readonly FirewallRuleSettings[]): AgentHttpResponse {
  const argv = (podSpecOf(pod).containers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]);
  const port = Number(argv.find((a) => a.startsWith('--port='))?.slice(7));
  const url = new URL(`${req.path}${req.query ? `?${req.query}` : ''}`, 'http://agent.invalid');
  if (url.pathname === '/healthz') return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'ok' };
  if (url.pathname !== TUNNEL_CHECK_PATH || !Number.isInteger(port)) return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not found' };
  const from = podSpecOf(pod).nodeName ?? '';
  const timeoutMs = Math.min(10_000, Number(url.searchParams.get('timeoutMs')) || 1000);
  const results = parseTargets(url.searchParams.get('targets')).map((t) =>
    udpPortBlocked(rules, port, from, t.node) ? { node: t.node, ip: t.ip, ok: false, detail: `no answer on UDP ${port} within ${timeoutMs} ms` } : { node: t.node, ip: t.ip, ok: true },
  );
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ node: from, port, results }) };
}

