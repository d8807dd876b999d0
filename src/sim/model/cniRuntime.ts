import type { SettingsHolder } from '../simSettings.js';
import type { KubeObject } from '../store/kubeObject.js';
import { datapathNetworkOf, type AgentSpec, type Overlay } from './agentRecognizer.js';
import { IpAllocator, nodePoolSubnet } from './ipPools.js';
import { formatCidr, formatIp, hostAt, parseCidr, parseIp, nodeSubnet } from '../../net/ipv4.js';
import { NodeCniState } from './nodeCniState.js';
import type { NodeFileOp } from './nodeScripts.js';
import { podSpecOf } from './podSpec.js';
import { networkProfile, type NetworkProfile } from './reachability.js';
import { planSandbox, type NadLookup, type SandboxFailureReason } from './sandboxPlanner.js';

/** How long a datapath waits for a DaemonSet to replace its node's agent pod, at most. */
const REPLACEMENT_WAIT_MS = 60_000;

/** Whether a datapath routes for every pod on its node: Cilium's (its ipcache holds every pod IP). */
function routesForEveryPod(spec: { network: string }): boolean {
  return spec.network === 'cilium';
}

/** One interface of a pod sandbox. */
export interface PodInterface {
  /** eth0 (primary), net1, … */
  name: string;
  /** Datapath network ("flannel", "cilium"). */
  network: string;
  /** CNI network name (e.g. "k8s-pod-network", "cbr0"). */
  cniName: string;
  ip: string;
}

/** A created sandbox, or why it could not be created. */
export type SandboxResult =
  | { ok: true; interfaces: PodInterface[]; multus: boolean; confFile: string }
  | { ok: false; reason: SandboxFailureReason | 'IPAMExhausted'; message: string };

/** Where a node is on the underlay and which pod CIDR it was given. */
export interface NodeAddressing {
  index: number;
  internalIP: string;
  podCIDR?: string;
}

/** Addresses a node registers with: InternalIP from nodeCIDR, spec.podCIDR a /24 of clusterCIDR, by index. */
export function nodeAddressing(clusterCIDR: string, nodeCIDR: string, index: number, nodeCount: number): NodeAddressing {
  const nodeRange = parseCidr(nodeCIDR);
  const ip = nodeRange ? hostAt(nodeRange, index + 2) : undefined;
  const cluster = parseCidr(clusterCIDR);
  const pod = cluster ? nodeSubnet(cluster, 24, index, nodeCount) : undefined;
  return { index, internalIP: ip !== undefined ? formatIp(ip) : '', podCIDR: pod ? formatCidr(pod) : undefined };
}

/**
 * The container runtime and CNI side of every simulated node: each node's CNI state, the address
 * pools, the sandboxes (interfaces) of running pods and which pod owns which address. Reports
 * every change of a node's CNI state (files, agents, datapaths) through onNodeChange.
 */
export class CniRuntime {
  private readonly states = new Map<string, NodeCniState>();
  private readonly addressing = new Map<string, NodeAddressing>();
  private readonly allocator = new IpAllocator();
  private readonly sandboxes = new Map<string, { node: string; interfaces: PodInterface[] }>();
  private readonly owners = new Map<string, { uid: string; network: string }>();
  private readonly agentPods = new Map<string, { node: string; network: string; daemonSet: { namespace: string; name: string } | undefined }>();
  private readonly takedowns = new Set<NodeJS.Timeout>();
  private profiles = new Map<string, Map<string, NetworkProfile>>();
  private readonly brokenRoutes = new Map<string, string>();
  /** Bumped whenever any node's profiles may have changed (lets callers drop derived caches). */
  generation = 0;

  constructor(
    private readonly settings: SettingsHolder,
    nodeNames: readonly string[],
    private readonly opts: {
      replacementGraceMs: number;
      onNodeChange: (node: string) => void;
      /** Whether a DaemonSet still wants a pod on a node (it will replace one that went). */
      daemonSetWantsNode?: (daemonSet: { namespace: string; name: string }, node: string) => boolean;
    },
  ) {
    const s = settings.get();
    nodeNames.forEach((name, index) => {
      this.states.set(name, new NodeCniState(name, s.cniConfDir));
      this.addressing.set(name, nodeAddressing(s.clusterCIDR, s.nodeCIDR, index, nodeNames.length));
    });
  }

  /** Whether the node is one of ours (we are its kubelet). */
  isOurNode(name: string | undefined): name is string {
    return name !== undefined && this.states.has(name);
  }

  /** The names of our nodes. */
  nodeNames(): string[] {
    return [...this.states.keys()];
  }

  /** A node's CNI state. */
  state(node: string): NodeCniState | undefined {
    return this.states.get(node);
  }

  /** A node's addressing (InternalIP, podCIDR). */
  addressingOf(node: string): NodeAddressing | undefined {
    return this.addressing.get(node);
  }

  /** Takes the InternalIP and podCIDR from the Node object (a real control plane may assign its own). */
  updateNode(node: KubeObject): void {
    const current = this.addressing.get(node.metadata.name ?? '');
    if (!current) return;
    const ip = ((node.status?.addresses ?? []) as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address;
    const podCIDR = (node.spec?.podCIDR as string | undefined) ?? current.podCIDR;
    this.addressing.set(node.metadata.name!, { index: current.index, internalIP: ip ?? current.internalIP, podCIDR });
  }

  /** Notes a pod bound to one of our nodes; agent pods keep their network's datapath up while bound. */
  podBound(pod: KubeObject): void {
    const node = podSpecOf(pod).nodeName;
    const network = datapathNetworkOf(pod);
    const uid = pod.metadata.uid ?? '';
    if (!network || !this.isOurNode(node) || this.agentPods.has(uid)) return;
    const owner = (pod.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === 'DaemonSet');
    this.agentPods.set(uid, { node, network, daemonSet: owner ? { namespace: pod.metadata.namespace ?? '', name: owner.name } : undefined });
    this.states.get(node)!.agentPodBound(uid, network);
  }

  /**
   * Notes a pod gone from the API. If it was the node's last agent pod for a network, the datapath
   * goes after the replacement grace — or, while its DaemonSet still wants a pod on the node (an
   * agent restarted or rolled, not taken off), once the DaemonSet has had REPLACEMENT_WAIT_MS to
   * bind the replacement: a busy control plane takes longer than the grace, and the kernel's
   * datapath does not go away meanwhile.
   */
  podGone(uid: string): void {
    const entry = this.agentPods.get(uid);
    if (!entry) return;
    this.agentPods.delete(uid);
    const state = this.states.get(entry.node)!;
    if (!state.agentPodUnbound(uid, entry.network)) return;
    const since = Date.now();
    const check = () => {
      const t = setTimeout(() => {
        this.takedowns.delete(t);
        const replaced = entry.daemonSet && this.opts.daemonSetWantsNode?.(entry.daemonSet, entry.node);
        if (replaced && Date.now() - since < REPLACEMENT_WAIT_MS && state.unbound(entry.network)) return check();
        if (state.takeDownIfUnbound(entry.network)) this.changed(entry.node);
      }, this.opts.replacementGraceMs);
      this.takedowns.add(t);
    };
    check();
  }

  /** An agent's containers started on its node. */
  agentStarted(node: string, uid: string, pod: string, spec: AgentSpec): void {
    this.states.get(node)?.agentStarted(uid, pod, spec);
    this.changed(node);
  }

  /** An agent became ready. */
  agentReady(node: string, uid: string): void {
    this.states.get(node)?.agentReady(uid);
    this.changed(node);
  }

  /** An agent exited (its exit effects run). */
  agentExited(node: string, uid: string): void {
    if (this.states.get(node)?.agentExited(uid)) this.changed(node);
  }

  /** A one-shot pod's file operations in a node's CNI directory (a restore, a sweep). */
  applyFileOps(node: string, ops: readonly NodeFileOp[], by: string): void {
    const state = this.states.get(node);
    if (!state || !ops.length) return;
    state.applyFileOps(ops, by);
    this.changed(node);
  }

  /** Creates a pod's sandbox: plans its interfaces from the node's CNI config and allocates their addresses. */
  createSandbox(pod: KubeObject, nads: NadLookup): SandboxResult {
    const node = podSpecOf(pod).nodeName ?? '';
    const state = this.states.get(node);
    const addr = this.addressing.get(node);
    if (!state || !addr) return { ok: false, reason: 'NetworkNotReady', message: `node ${node} is not simulated` };
    const plan = planSandbox({
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      annotations: pod.metadata.annotations ?? {},
      files: state.configFiles(),
      cniConfDir: this.settings.get().cniConfDir,
      runningNetworks: state.runningNetworks(),
      nads,
    });
    if (!plan.ok) return plan;
    const interfaces: PodInterface[] = [];
    for (const att of plan.attachments) {
      const dp = state.datapath(att.network);
      const subnet = dp ? nodePoolSubnet(dp.spec.pool, addr.index, this.states.size, addr.podCIDR) : undefined;
      const ip = subnet ? this.allocator.allocate(subnet) : undefined;
      if (!ip) {
        for (const i of interfaces) this.allocator.release(i.ip);
        const range = subnet ? formatCidr(subnet) : (dp?.spec.pool.cidr ?? 'none');
        return { ok: false, reason: 'IPAMExhausted', message: `plugin type="${att.pluginType}" failed (add): failed to allocate for range 0: no IP addresses available in range set: ${range}` };
      }
      interfaces.push({ name: att.ifName, network: att.network, cniName: att.cniName, ip });
    }
    const uid = pod.metadata.uid ?? '';
    this.sandboxes.set(uid, { node, interfaces });
    for (const i of interfaces) this.owners.set(i.ip, { uid, network: i.network });
    return { ok: true, interfaces, multus: plan.multus, confFile: plan.confFile };
  }

  /** Tears a pod's sandbox down and releases its addresses. */
  releaseSandbox(uid: string): void {
    const sb = this.sandboxes.get(uid);
    if (!sb) return;
    this.sandboxes.delete(uid);
    for (const i of sb.interfaces) {
      this.owners.delete(i.ip);
      this.allocator.release(i.ip);
    }
  }

  /** A pod's interfaces (primary first). */
  interfacesOf(uid: string): PodInterface[] | undefined {
    return this.sandboxes.get(uid)?.interfaces;
  }

  /** The pod interface owning an address, or the node whose InternalIP it is. */
  addressOwner(ip: string): { uid: string; network: string } | { node: string } | undefined {
    const pod = this.owners.get(ip);
    if (pod) return pod;
    if (parseIp(ip) === undefined) return undefined;
    for (const [node, a] of this.addressing) if (a.internalIP === ip) return { node };
    return undefined;
  }

  /** A network's profile on a node (datapath up?, overlay, conflicts, firewall), cached until something changes. */
  profile(node: string, network: string): NetworkProfile {
    return this.nodeProfiles(node).get(network) ?? { up: false, conflictsWith: [], blocked: false };
  }

  /** The address a network's datapath gives its node's host side (cilium_host, cni0: the subnet's .1). */
  hostSideAddress(node: string, network: string): string | undefined {
    const dp = this.states.get(node)?.datapath(network);
    const addr = this.addressing.get(node);
    if (!dp || !addr) return undefined;
    const subnet = nodePoolSubnet(dp.spec.pool, addr.index, this.states.size, addr.podCIDR);
    const ip = subnet ? hostAt(subnet, 1) : undefined;
    return ip === undefined ? undefined : formatIp(ip);
  }

  /** Networks up on a node that route for every pod there (Cilium's ipcache and host routing). */
  bridges(node: string): readonly string[] {
    const out: string[] = [];
    for (const [n, p] of this.nodeProfiles(node)) if (p.bridges) out.push(n);
    return out;
  }

  private nodeProfiles(node: string): Map<string, NetworkProfile> {
    let perNode = this.profiles.get(node);
    if (perNode) return perNode;
    perNode = new Map();
    const up = this.states.get(node)?.upDatapaths() ?? [];
    // In the order they came up: for two tunnels on one port, the later one fails.
    const overlays = new Map<string, Overlay>(up.map((dp) => [dp.network, dp.spec.overlay]));
    const rules = this.settings.get().firewall.blocked;
    const felix = this.states.get(node)?.runsFelix() ?? false;
    for (const dp of up) {
      const profile = networkProfile(node, dp.network, overlays, rules);
      if (routesForEveryPod(dp.spec)) profile.bridges = true;
      // Cilium enforces on its own endpoints; felix on the interfaces of the other networks' pods on its node.
      if (dp.spec.policyMode) profile.enforcer = { engine: 'cilium', mode: dp.spec.policyMode };
      else if (felix) profile.enforcer = { engine: 'felix' };
      if (dp.spec.masquerades) profile.masquerades = true;
      const broken = this.brokenRoutes.get(`${node}\u0001${dp.network}`);
      if (broken) profile.broken = broken;
      perNode.set(dp.network, profile);
    }
    this.profiles.set(node, perNode);
    return perNode;
  }

  /** Marks (or clears, with undefined) a network's cross-node routes on a node as broken. */
  setBrokenRoutes(node: string, network: string, why: string | undefined): void {
    const key = `${node}\u0001${network}`;
    if (this.brokenRoutes.get(key) === why) return;
    if (why === undefined) this.brokenRoutes.delete(key);
    else this.brokenRoutes.set(key, why);
    this.changed(node);
  }

  /** Forgets cached profiles (the firewall changed). */
  invalidateProfiles(): void {
    this.profiles = new Map();
    this.generation++;
  }

  /** Cancels pending datapath takedowns. */
  stop(): void {
    for (const t of this.takedowns) clearTimeout(t);
    this.takedowns.clear();
  }

  private changed(node: string): void {
    this.profiles.delete(node);
    this.generation++;
    this.opts.onNodeChange(node);
  }
}
