import { ApiError } from '../api/apiError.js';
import type { FirewallRuleSettings, SettingsHolder } from '../simSettings.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ClusterBackend } from './clusterBackend.js';
import { ciliumOperatorView, startCiliumOperatorEffects } from './ciliumOperatorEffects.js';
import { ClusterCache, WATCHED, WATCHED_CUSTOM } from './clusterCache.js';
import { nodeShouldRunDaemonPod } from '../controllers/daemonSetPlacement.js';
import { CalicoAddressWatch } from './calicoAddressHazard.js';
import { CniRuntime, type PodInterface } from './cniRuntime.js';
import { GroundTruthLog, reachClassOf, type GroundTruthPod, type GroundTruthSource, type ReachClass } from './groundTruth.js';
import type { NodeCniView } from './nodeCniState.js';
import { LeaseRenewer, registerNodes } from './nodeRegistrar.js';
import { PodLifecycle, type PodRecord } from './podLifecycle.js';
import { podSpecOf } from './podSpec.js';
import { connectionRefused, PodHttpHandlers, resolvePodPort, type PodHttpHandler, type PodHttpRequest, type PodHttpResponse } from './podProxy.js';
import { anyPolicy, canReach, policyClassKey, profileKey, reachClassKey, type NetworkProfile, type PodPolicyFacts, type PolicyContext, type ReachPod, type ReachResult, type ReachView } from './reachability.js';
import { calicoNetCidrs, calicoPolicyDocOf } from '../../policy/calicoPolicySemantics.js';
import { ciliumPolicyDocOf } from '../../policy/ciliumPolicySemantics.js';
import { containerNamedPorts, ipBlockCidrs, POLICY_BRIDGE_LABEL, policyDocOf } from '../../policy/networkPolicySemantics.js';

/** How the model runs. */
export interface NetworkModelOptions {
  /** The nodes this model is the kubelet of. */
  nodeNames: string[];
  /** Renew node Leases (needed against a real control plane only). */
  renewLeases?: boolean;
  /** How long a network's datapath outlives its node's last agent pod, for a DaemonSet to bind the replacement. */
  agentReplacementGraceMs?: number;
  log?: (line: string) => void;
}

/** A node's state for the debug endpoint. */
export interface NodeStateView extends Omit<NodeCniView, 'datapaths'> {
  /** Each datapath up, with how it fares there now (conflicts, firewall, broken routes, bridging). */
  datapaths: (NodeCniView['datapaths'][number] & Pick<NetworkProfile, 'conflictsWith' | 'blocked' | 'bridges' | 'broken'>)[];
  internalIP: string;
  podCIDR?: string;
  pods: { pod: string; state: string; ips: string[]; interfaces: PodInterface[]; hostNetwork: boolean }[];
}

/** A request as the API server's pods/proxy forwards it (port not yet resolved). */
export type ProxiedRequest = Omit<PodHttpRequest, 'port'>;

/**
 * The node and CNI data-plane model: the kubelets of the simulated nodes (registration, pod
 * lifecycle, sandboxes), every node's CNI state, reachability between pods and the ground-truth
 * log. Talks to the cluster only through a ClusterBackend, so it can drive a real API server too.
 */
export class NetworkModel {
  /** Ground truth: pairs of running pods that cannot reach each other's primary IP, logged on change. */
  readonly groundTruth: GroundTruthLog;
  private readonly cache = new ClusterCache();
  private readonly runtime: CniRuntime;
  private readonly lifecycle: PodLifecycle;
  private readonly calicoAddresses: CalicoAddressWatch;
  private readonly handlers = new PodHttpHandlers();
  private readonly stops: (() => void)[] = [];
  private leases: LeaseRenewer | undefined;
  private policyMemo: PolicyContext | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly backend: ClusterBackend,
    private readonly settings: SettingsHolder,
    private readonly options: NetworkModelOptions,
  ) {
    const log = options.log ?? (() => {});
    this.groundTruth = new GroundTruthLog(this.groundTruthSource());
    this.runtime = new CniRuntime(settings, options.nodeNames, {
      replacementGraceMs: options.agentReplacementGraceMs ?? 1000,
      daemonSetWantsNode: (ds, node) => this.daemonSetWantsNode(ds, node),
      onNodeChange: (node) => {
        this.lifecycle.retryBlocked(node);
        this.groundTruth.markDirty({ node });
        this.calicoAddresses.nodeChanged(node);
      },
    });
    this.lifecycle = new PodLifecycle({
      backend,
      settings,
      runtime: this.runtime,
      cache: this.cache,
      onPodChanged: (uid) => this.groundTruth.markDirty({ pod: uid }),
      log,
      readinessProbe: (pod) => this.readinessProbe(pod),
    });
    this.calicoAddresses = new CalicoAddressWatch({
      runtime: this.runtime,
      backend,
      settings,
      configMaps: this.cache.configMap,
      calicoAgentPod: (node) => {
        for (const id of this.lifecycle.uidsOnNode(node)) {
          const r = this.lifecycle.record(id);
          if (r?.state === 'running' && r.agent?.datapath?.network === 'calico') return r.pod;
        }
        return undefined;
      },
      log,
    });
  }

  /** Registers the nodes, then watches ConfigMaps, NetworkAttachmentDefinitions, Nodes and Pods. */
  async start(): Promise<void> {
    await registerNodes(this.backend, this.settings.get(), this.options.nodeNames);
    this.stops.push(await this.backend.watch(WATCHED.configMaps, (ev) => this.onClusterEvent(ev)));
    for (const resource of [WATCHED.nads, ...Object.values(WATCHED_CUSTOM)]) await this.watchOptional(resource);
    this.stops.push(await this.backend.watch(WATCHED.nodes, (ev) => this.onNodeEvent(ev)));
    this.stops.push(await this.backend.watch(WATCHED.daemonSets, (ev) => this.cache.apply(ev)));
    for (const resource of [WATCHED.namespaces, WATCHED.networkPolicies]) {
      this.stops.push(await this.backend.watch(resource, (ev) => (this.cache.apply(ev) ? this.groundTruth.markDirty('all') : undefined)));
    }
    this.stops.push(await this.backend.watch(WATCHED.pods, (ev) => this.lifecycle.handlePodEvent(ev)));
    this.stops.push(await startCiliumOperatorEffects(this.backend, ciliumOperatorView(this.runtime), this.options.log));
    this.stops.push(
      this.settings.onChange(() => {
        this.runtime.invalidateProfiles();
        this.groundTruth.markDirty('all');
      }),
    );
    if (this.options.renewLeases) {
      this.leases = new LeaseRenewer(this.backend, this.options.nodeNames, { log: this.options.log });
      await this.leases.start();
    }
  }

  /** Stops watching and all timers. */
  stop(): void {
    this.stopped = true;
    for (const s of this.stops.splice(0)) s();
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    this.leases?.stop();
    this.lifecycle.stop();
    this.calicoAddresses.stop();
    this.runtime.stop();
    this.groundTruth.stop();
  }

  /** Can pod fromNamespace/fromPod reach toIp now? */
  canReach(fromNamespace: string, fromPod: string, toIp: string): ReachResult {
    return canReach(this.reachView(), fromNamespace, fromPod, toIp);
  }

  /** reachClassKey of each address (equal keys, same side of the prober's node: equal verdicts). */
  reachClassKeys(ips: readonly string[]): (string | undefined)[] {
    const view = this.reachView();
    return ips.map((ip) => reachClassKey(view, ip));
  }

  /** Bumped whenever any node's datapaths, overlays or firewall, or the policies, may have changed (verdicts may differ). */
  reachGeneration(): number {
    return this.runtime.generation + this.cache.policyGeneration;
  }

  /** The NetworkPolicies in force, as reachability reads them (rebuilt when they change). */
  policyContext(): PolicyContext {
    const generation = this.cache.policyGeneration;
    if (this.policyMemo?.generation !== generation) {
      const policies = this.cache.policies().map(policyDocOf);
      const calico = this.cache.calicoPolicies().flatMap((o) => calicoPolicyDocOf(o, POLICY_BRIDGE_LABEL) ?? []);
      const cilium = this.cache.ciliumPolicies().map((o) => ciliumPolicyDocOf(o, POLICY_BRIDGE_LABEL));
      const cidrs = [...new Set([...ipBlockCidrs(policies), ...calicoNetCidrs(calico)])].sort();
      this.policyMemo = { policies, intended: policies.filter((p) => !p.bridge), calico, intendedCalico: calico.filter((p) => !p.bridge), cilium, generation, cidrs };
    }
    return this.policyMemo;
  }

  // What NetworkPolicies read of a running pod with interfaces.
  private policyFacts(r: PodRecord): PodPolicyFacts | undefined {
    if (r.hostNetwork || !r.interfaces.length) return undefined;
    const namedPorts = containerNamedPorts(podSpecOf(r.pod).containers);
    return {
      pod: { namespace: r.namespace, labels: r.pod.metadata.labels ?? {}, namespaceLabels: this.cache.namespaceLabels(r.namespace), namedPorts },
      statusIp: r.podIPs[0] ?? r.interfaces[0]!.ip,
      ips: new Map(r.interfaces.map((i) => [i.network, i.ip])),
    };
  }

  /** A running pod's interfaces (primary first); undefined when the pod has no sandbox. */
  podInterfaces(namespace: string, name: string): PodInterface[] | undefined {
    const rec = this.lifecycle.recordByName(namespace, name);
    return rec && (rec.state === 'running' || rec.state === 'stopping') ? [...rec.interfaces] : undefined;
  }

  /** A node's CNI files, agents, datapaths and pods (debug view); undefined for unknown nodes. */
  nodeState(nodeName: string): NodeStateView | undefined {
    const state = this.runtime.state(nodeName);
    const addr = this.runtime.addressingOf(nodeName);
    if (!state || !addr) return undefined;
    const pods = [...this.lifecycle.allRecords()]
      .filter((r) => r.node === nodeName)
      .map((r) => ({ pod: r.label, state: r.state, ips: r.podIPs, interfaces: r.interfaces, hostNetwork: r.hostNetwork }));
    const view = state.view();
    const datapaths = view.datapaths.map((d) => {
      const p = this.runtime.profile(nodeName, d.network);
      return { ...d, conflictsWith: p.conflictsWith, blocked: p.blocked, bridges: p.bridges ?? false, broken: p.broken };
    });
    return { ...view, datapaths, internalIP: addr.internalIP, podCIDR: addr.podCIDR, pods };
  }

  /** Serves HTTP for matching pods (through pods/proxy); returns a function that unregisters it. */
  /** The firewall rules in force (the tunnel check's simulated agents judge by them). */
  firewallRules(): readonly FirewallRuleSettings[] {
    return this.settings.get().firewall.blocked;
  }

  registerPodHandler(match: (pod: KubeObject) => boolean, handler: PodHttpHandler): () => void {
    return this.handlers.register(match, handler);
  }

  /**
   * pods/proxy: forwards a request to a running pod's handler. Throws the API server's 503
   * ("connect: connection refused") when the pod does not run or nothing serves that port.
   */
  async proxy(namespace: string, name: string, port: string | undefined, req: ProxiedRequest): Promise<PodHttpResponse> {
    const rec = this.lifecycle.recordByName(namespace, name);
    const resolved = rec ? resolvePodPort(rec.pod, port) : undefined;
    const shownPort = resolved ?? port ?? 80;
    const ip = rec?.podIPs[0] ?? '';
    if (!rec || (rec.state !== 'running' && rec.state !== 'stopping') || resolved === undefined) throw connectionRefused(ip, shownPort);
    const handler = this.handlers.find(rec.pod);
    if (!handler) throw connectionRefused(ip, shownPort);
    try {
      return await handler(rec.pod, { ...req, port: resolved });
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: read tcp ${ip}:${shownPort}: connection reset by peer (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  // What the DaemonSet controller will do: a DaemonSet that exists, is not being deleted and still
  // places a pod on the node replaces the one that went there.
  private daemonSetWantsNode(ref: { namespace: string; name: string }, nodeName: string): boolean {
    const ds = this.cache.daemonSet(ref.namespace, ref.name);
    const node = this.cache.node(nodeName);
    if (!ds || ds.metadata.deletionTimestamp || !node) return false;
    return nodeShouldRunDaemonPod(ds, node).shouldRun;
  }

  // A container's httpGet readiness probe, answered by the pod's handler (the probe agents', the
  // tunnel check's) as the kubelet's prober would get it; pods nothing serves are Ready once started.
  private readinessProbe(pod: KubeObject): (() => Promise<boolean>) | undefined {
    const handler = this.handlers.find(pod);
    if (!handler) return undefined;
    for (const c of podSpecOf(pod).containers ?? []) {
      const get = (c as { readinessProbe?: { httpGet?: { path?: string; port?: string | number } } }).readinessProbe?.httpGet;
      if (!get) continue;
      const port = resolvePodPort(pod, get.port === undefined ? undefined : String(get.port));
      if (port === undefined) return undefined;
      const [path = '/', query = ''] = (get.path ?? '/').split('?');
      return async () => {
        const res = await handler(pod, { method: 'GET', port, path, query, headers: {}, body: Buffer.alloc(0) });
        return res.status >= 200 && res.status < 400;
      };
    }
    return undefined;
  }

  private onClusterEvent(ev: WatchEvent): void {
    const policies = this.cache.policyGeneration;
    if (this.cache.apply(ev)) this.lifecycle.retryBlocked();
    // Calico's and Cilium's own policies: every pair may be judged anew, as for NetworkPolicies.
    if (this.cache.policyGeneration !== policies) this.groundTruth.markDirty('all');
  }

  private onNodeEvent(ev: WatchEvent): void {
    this.cache.apply(ev);
    if (ev.type !== 'DELETED' && this.runtime.isOurNode(ev.object.metadata.name)) this.runtime.updateNode(ev.object);
  }

  // The CRD may not be installed yet (the seed's Multus manifest installs NADs, Calico's manifest
  // its CRDs): retry until it is.
  private async watchOptional(resource: string): Promise<void> {
    try {
      this.stops.push(await this.backend.watch(resource, (ev) => this.onClusterEvent(ev)));
    } catch {
      if (this.stopped) return;
      const t = setTimeout(() => {
        this.retries.delete(t);
        void this.watchOptional(resource);
        // Soon after a CRD appears: a policy created right after its CRD must be in force before pods use it.
      }, 1000);
      this.retries.add(t);
    }
  }

  private reachView(): ReachView {
    const toReachPod = (r: PodRecord): ReachPod => {
      const pod: ReachPod = {
        label: r.label,
        node: r.node,
        running: r.state === 'running' || r.state === 'stopping',
        hostNetwork: r.hostNetwork,
        networks: new Set(r.interfaces.map((i) => i.network)),
      };
      // Computed on first read: most verdicts (no policy anywhere) never need them, and at a
      // thousand probe pods building them for every peer was the simulator's largest cost.
      let facts: PodPolicyFacts | undefined | null = null;
      Object.defineProperty(pod, 'policy', { enumerable: true, get: () => (facts === null ? (facts = this.policyFacts(r)) : facts) });
      return pod;
    };
    return {
      policies: () => this.policyContext(),
      pod: (namespace, name) => {
        const r = this.lifecycle.recordByName(namespace, name);
        return r ? toReachPod(r) : undefined;
      },
      addressOwner: (ip) => {
        const owner = this.runtime.addressOwner(ip);
        if (!owner || 'node' in owner) return owner;
        const r = this.lifecycle.record(owner.uid);
        return r ? { pod: toReachPod(r), network: owner.network } : undefined;
      },
      profile: (node, network) => this.runtime.profile(node, network),
      bridges: (node) => this.runtime.bridges(node),
    };
  }

  // Running, non-hostNetwork pods with their reachability class (classes shared per node and interface set).
  private groundTruthSource(): GroundTruthSource {
    let classes = new Map<string, ReachClass>();
    let generation = -1;
    const entryOf = (r: PodRecord): GroundTruthPod | undefined => {
      if ((r.state !== 'running' && r.state !== 'stopping') || r.hostNetwork || !r.interfaces.length) return undefined;
      // Profiles and policies change between evaluations: classes are only reused within one.
      if (generation !== this.reachGeneration()) {
        classes = new Map();
        generation = this.reachGeneration();
      }
      const networks = r.interfaces.map((i) => i.network);
      const ctx = this.policyContext();
      // Without policies a class's verdicts do not depend on its pods' labels or addresses.
      let facts = anyPolicy(ctx) ? this.policyFacts(r) : undefined;
      const memoKey = `${r.node}\u0001${networks.join(',')}${policyClassKey(ctx, facts)}`;
      let cls = classes.get(memoKey);
      if (!cls) {
        facts ??= this.policyFacts(r);
        const profiles = new Map<string, NetworkProfile>();
        // The networks bridging for every pod on the node decide the verdicts too.
        for (const n of [...networks, ...this.runtime.bridges(r.node)]) profiles.set(n, this.runtime.profile(r.node, n));
        cls = reachClassOf(networks[0]!, new Set(networks), profiles, profileKey, facts ? { facts, ctx } : undefined);
        classes.set(memoKey, cls);
      }
      return { id: r.uid, label: r.label, node: r.node, cls };
    };
    // The lifecycle is created after the log: reach it through `this` when called.
    const records = () => this.lifecycle.allRecords();
    return {
      *all() {
        for (const r of records()) {
          const e = entryOf(r);
          if (e) yield e;
        }
      },
      pod: (id) => {
        const r = this.lifecycle.record(id);
        return r ? entryOf(r) : undefined;
      },
      idsOnNode: (node) => this.lifecycle.uidsOnNode(node),
    };
  }
}
