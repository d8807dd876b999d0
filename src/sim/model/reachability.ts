import { ipInCidrText } from '../../net/ipv4.js';
import { intendedVerdict, type ConnectionPort, type PolicyDoc, type PolicyEndpoint, type PolicyPod } from '../../policy/networkPolicySemantics.js';
import type { FirewallRuleSettings } from '../simSettings.js';
import type { Overlay } from './agentRecognizer.js';
import { judgeFelix, type CalicoPolicyDoc } from '../../policy/calicoPolicySemantics.js';
import type { CiliumPolicyDoc } from '../../policy/ciliumPolicySemantics.js';
import { enforcerKey, judgeEnforcement, type Enforcer, type EnforcementSide, type RemoteAppearance } from './policyEnforcement.js';

// Whether one pod can reach an address: pure rules over the model's state, shared by canReach()
// (one question) and the ground truth (every pair, by equivalence class).
//
// Pod A reaches IP X, owned by pod B's interface on network N, only if both pods are running and not
// hostNetwork, A has an interface on N, N's datapath is up on both nodes, and — across nodes — N's
// overlay passes: both ends run the same overlay (mode, protocol, port), the firewall does not drop
// it (or, for routes learnt over BGP, the session) to or from either node, and no other network up
// on either node holds the same UDP port (a tunnel cannot bind a port another device holds). Pods
// on the same node need no overlay.
//
// One network routes for every pod, whatever its network: Cilium's agent puts every pod IP in its
// ipcache (the pod watcher's "unmanaged" entries, tunnel endpoint = the pod's node) and routes its
// own pod range through cilium_host on every node where it runs, latent or not. So a pod of
// another network reaches a Cilium pod through its node (egress on its own network's datapath,
// then Cilium's tunnel), and a Cilium pod reaches a pod of another network over Cilium's tunnel
// and the target node's host routing (delivered by that network's datapath there): the mixed phase
// of a dual-overlay migration. Either way Cilium must run on both nodes and its overlay must pass.

/** A network's condition on one node. */
export interface NetworkProfile {
  up: boolean;
  overlay?: Overlay;
  /** Other networks up on the node whose overlay binds the same port. */
  conflictsWith: string[];
  /** Whether a firewall rule drops this overlay to or from the node. */
  blocked: boolean;
  /** Routes for every pod on its node, whatever its network (see the module comment). */
  bridges?: boolean;
  /** Cross-node traffic of this network to and from the node is broken, and why. */
  broken?: string;
  /** Who enforces NetworkPolicy on this network's pod interfaces on the node. */
  enforcer?: Enforcer;
  /** Pod traffic leaving through another network's device is masqueraded to that device's address (flannel --ip-masq, Calico natOutgoing). */
  masquerades?: boolean;
}

/** Named outcomes of a reachability question. */
export type ReachReason =
  | 'reachable'
  | 'unknown-source'
  | 'source-not-running'
  | 'no-such-address'
  | 'target-not-running'
  | 'no-interface-on-network'
  | 'datapath-down-on-source-node'
  | 'datapath-down-on-target-node'
  | 'overlay-mismatch'
  | 'overlay-port-conflict'
  | 'overlay-blocked-by-firewall'
  | 'node-routes-broken'
  | 'denied-by-policy'
  | 'policy-not-enforced';

/** The answer to "can A reach X now?". */
export interface ReachResult {
  ok: boolean;
  /** Network the address is on ("host" for node addresses). */
  network?: string;
  reason: ReachReason;
  /** A sentence naming the nodes, network and ports involved. */
  detail: string;
}

/** The parts of a pod reachability looks at. */
export interface ReachPod {
  label: string;
  node: string;
  running: boolean;
  hostNetwork: boolean;
  /** Datapath networks of its interfaces. */
  networks: ReadonlySet<string>;
  /** What NetworkPolicies read of it (absent for hostNetwork pods). */
  policy?: PodPolicyFacts;
}

/** What NetworkPolicies and their enforcers read of a pod. */
export interface PodPolicyFacts {
  pod: PolicyPod;
  /** pod.status.podIP: the address felix knows the pod by. */
  statusIp: string;
  /** Its address on each network it has an interface on. */
  ips: ReadonlyMap<string, string>;
}

/** The NetworkPolicies in force. */
export interface PolicyContext {
  /** Every NetworkPolicy enforcers apply. */
  policies: readonly PolicyDoc[];
  /** The user's NetworkPolicies (the migration's companions left out): what the intended verdicts come from. */
  intended: readonly PolicyDoc[];
  /** Calico NetworkPolicies and GlobalNetworkPolicies (felix applies them). */
  calico?: readonly CalicoPolicyDoc[];
  /** The user's Calico policies: part of what the intended verdicts come from. */
  intendedCalico?: readonly CalicoPolicyDoc[];
  /** CiliumClusterwideNetworkPolicies (Cilium applies them). */
  cilium?: readonly CiliumPolicyDoc[];
  /** Bumped whenever policies or namespace labels change. */
  generation: number;
  /** Every CIDR an ipBlock names (ipBlockCidrs). */
  cidrs: readonly string[];
}

/** The model state reachability reads. */
export interface ReachView {
  pod(namespace: string, name: string): ReachPod | undefined;
  /** Who owns an address: a pod interface, or a node (its InternalIP). */
  addressOwner(ip: string): { pod: ReachPod; network: string } | { node: string } | undefined;
  profile(node: string, network: string): NetworkProfile;
  /** Networks up on a node that route for every pod. */
  bridges(node: string): readonly string[];
  /** The NetworkPolicies in force (none when omitted). */
  policies?(): PolicyContext;
}

/** The port connectivity is judged on (the probes' port). */
export const JUDGED_PORT: ConnectionPort = { port: 8080, protocol: 'TCP' };

/** A stable string for an overlay ("udp/6081 geneve", "native host-gw", "none"). */
export function overlayKey(overlay: Overlay | undefined): string {
  if (!overlay) return 'none';
  return overlay.kind === 'native' ? `native ${overlay.mode}` : `${overlay.protocol}/${overlay.port} ${overlay.mode}`;
}

/** The UDP port an overlay holds on its node, if any (a tunnel's, or a native mode's idle device). */
function boundUdpPort(o: Overlay): number | undefined {
  if (o.kind === 'tunnel') return o.protocol === 'udp' ? o.port : undefined;
  return o.binds?.port;
}

/**
 * A network's profile on a node, from the overlays of the networks up there — in the order they
 * came up: a tunnel cannot bind a UDP port a device that came up before holds (the later fails,
 * the earlier keeps working) — and the firewall rules.
 */
export function networkProfile(node: string, network: string, upOverlays: ReadonlyMap<string, Overlay>, rules: readonly FirewallRuleSettings[]): NetworkProfile {
  const overlay = upOverlays.get(network);
  if (!overlay) return { up: false, conflictsWith: [], blocked: false };
  const applies = (r: FirewallRuleSettings) => !r.nodes || r.nodes.includes(node);
  // Routes learnt over a session (BGP) go when the session is dropped, whatever carries the packets.
  const c = overlay.control;
  const controlBlocked = c !== undefined && rules.some((r) => r.protocol === c.protocol && r.port === c.port && applies(r));
  // Plain routing needs no port; an IP-protocol tunnel (IPIP) has none a rule could name.
  if (overlay.kind === 'native' || overlay.protocol === 'ip') return { up: true, overlay, conflictsWith: [], blocked: controlBlocked };
  const conflictsWith: string[] = [];
  for (const [other, o] of upOverlays) {
    if (other === network) break;
    if (overlay.protocol === 'udp' && boundUdpPort(o) === overlay.port) conflictsWith.push(other);
  }
  const blocked = controlBlocked || rules.some((r) => r.protocol === overlay.protocol && r.port === overlay.port && applies(r));
  return { up: true, overlay, conflictsWith: conflictsWith.sort(), blocked };
}

/**
 * Whether the firewall drops UDP to `port` between two nodes (host to host, as the tunnel check's
 * hostNetwork agents send): the same rules networkProfile applies to an overlay on that port.
 */
export function udpPortBlocked(rules: readonly FirewallRuleSettings[], port: number, fromNode: string, toNode: string): FirewallRuleSettings | undefined {
  return rules.find((r) => r.protocol === 'udp' && r.port === port && (!r.nodes || r.nodes.includes(fromNode) || r.nodes.includes(toNode)));
}

/** A string equal for profiles that behave identically (used to group pods). */
export function profileKey(p: NetworkProfile): string {
  if (!p.up) return 'down';
  return `${overlayKey(p.overlay)}${p.conflictsWith.length ? ' conflict' : ''}${p.blocked ? ' blocked' : ''}${p.bridges ? ' bridges' : ''}${p.broken ? ' broken' : ''}${p.enforcer ? ` ${enforcerKey(p.enforcer)}` : ''}${p.masquerades ? ' masq' : ''}`;
}

/** The verdict for traffic from a pod with `fromNetworks` on one node to an address on `network` on another (or the same) node. */
export function judgePath(
  fromNetworks: ReadonlySet<string>,
  network: string,
  fromProfile: NetworkProfile,
  toProfile: NetworkProfile,
  sameNode: boolean,
  names: { from: string; to: string } = { from: 'the source node', to: 'the target node' },
): { reason: ReachReason; detail: string } {
  if (!fromNetworks.has(network)) return { reason: 'no-interface-on-network', detail: `the source pod has no interface on network ${network}` };
  if (!fromProfile.up) return { reason: 'datapath-down-on-source-node', detail: `no ${network} agent is on ${names.from}` };
  if (!toProfile.up) return { reason: 'datapath-down-on-target-node', detail: `no ${network} agent is on ${names.to}` };
  if (sameNode) return { reason: 'reachable', detail: `same node, network ${network}` };
  const a = overlayKey(fromProfile.overlay);
  const b = overlayKey(toProfile.overlay);
  if (a !== b) return { reason: 'overlay-mismatch', detail: `${network} uses ${a} on ${names.from} but ${b} on ${names.to}` };
  for (const [p, where] of [
    [fromProfile, names.from],
    [toProfile, names.to],
  ] as const) {
    if (p.conflictsWith.length) return { reason: 'overlay-port-conflict', detail: `${network}'s overlay ${a} collides with ${p.conflictsWith.join(', ')} on ${where}` };
  }
  if (fromProfile.blocked || toProfile.blocked) {
    const where = fromProfile.blocked && toProfile.blocked ? `${names.from} and ${names.to}` : fromProfile.blocked ? names.from : names.to;
    return { reason: 'overlay-blocked-by-firewall', detail: `the firewall drops ${network}'s overlay ${a} at ${where}` };
  }
  const broken = fromProfile.broken ?? toProfile.broken;
  if (broken) return { reason: 'node-routes-broken', detail: `${network} between ${names.from} and ${names.to}: ${broken}` };
  return { reason: 'reachable', detail: `network ${network} over ${a}` };
}

/** One end of a pod pair: its interface networks and the profile of any network on its node. */
export interface PodSide {
  networks: ReadonlySet<string>;
  profile(network: string): NetworkProfile;
  /** Networks up on its node that route for every pod (see the module comment). */
  bridges: readonly string[];
  policy?: PodPolicyFacts;
}

/** How a reachable connection travels: over one network, or out through one and in through a bridging network's host routing. */
export type ReachPath = { kind: 'direct'; network: string } | { kind: 'bridge'; bridge: string; outward: string };

/**
 * The verdict for traffic from one pod to an address on `network` of another: over that network
 * when the source has an interface on it, else through a bridging network up on both nodes.
 */
export function judgeReach(from: PodSide, to: PodSide, network: string, sameNode: boolean, names: { from: string; to: string } = { from: 'the source node', to: 'the target node' }): { reason: ReachReason; detail: string; path?: ReachPath } {
  const direct = judgePath(from.networks, network, from.profile(network), to.profile(network), sameNode, names);
  if (direct.reason === 'reachable') return { ...direct, path: { kind: 'direct', network } };
  if (direct.reason !== 'no-interface-on-network') return direct;
  for (const bridge of from.bridges) {
    if (!to.bridges.includes(bridge)) continue;
    // Towards the bridge's own pods: out through one of the source pod's networks, then its host.
    // From the bridge's pods: to the target node's host, delivered by the target's network there.
    const outward = network === bridge ? [...from.networks].find((n) => from.profile(n).up) : from.networks.has(bridge) && to.profile(network).up ? bridge : undefined;
    if (outward === undefined) continue;
    const v = judgePath(new Set([bridge]), bridge, from.profile(bridge), to.profile(bridge), sameNode, names);
    if (v.reason !== 'reachable') return { reason: v.reason, detail: `${network} through ${bridge}'s host routing: ${v.detail}` };
    return { reason: 'reachable', detail: `${network} through ${bridge}'s host routing (${v.detail})`, path: { kind: 'bridge', bridge, outward } };
  }
  return direct;
}

/** The policy half of a verdict on a connection the datapath carries. */
export interface PolicyJudgement {
  /** What Kubernetes semantics allow (the policies alone). */
  intended: boolean;
  /** What the enforcers on the path let through. */
  enforced: boolean;
  /** Why the enforcers dropped it. */
  detail?: string;
}

function endpointOf(f: PodPolicyFacts, ip: string): PolicyEndpoint {
  return { ...f.pod, ip };
}

/** Whether Kubernetes semantics allow a connection between two pods' status addresses. */
export function intendedAllowed(ctx: PolicyContext | undefined, from: PodPolicyFacts | undefined, to: PodPolicyFacts | undefined): boolean {
  if (!ctx || (!ctx.intended.length && !ctx.intendedCalico?.length) || !from || !to) return true;
  const f = endpointOf(from, from.statusIp);
  const t = endpointOf(to, to.statusIp);
  if (!ctx.intendedCalico?.length) return intendedVerdict(ctx.intended, f, t, JUDGED_PORT).allowed;
  // The user's Calico policies mean what felix makes of them when it knows every pod.
  const egress = judgeFelix(ctx.intended, ctx.intendedCalico, f, { pod: t, ip: t.ip, cidrMatchable: true }, 'Egress', JUDGED_PORT, t.namedPorts);
  return egress.allowed && judgeFelix(ctx.intended, ctx.intendedCalico, t, { pod: f, ip: f.ip, cidrMatchable: true }, 'Ingress', JUDGED_PORT, t.namedPorts).allowed;
}

/** Whether any policy of any kind is in force (without one, nothing but Cilium's "always" drops). */
export function anyPolicy(ctx: PolicyContext | undefined): boolean {
  return Boolean(ctx && (ctx.policies.length || ctx.calico?.length || ctx.cilium?.length));
}

// How an enforcer working on `enforcerNetwork` sees an address on `addressNetwork`: felix ties any
// status address to its pod; Cilium only its own endpoints' addresses.
function appearance(e: Enforcer | undefined, enforcerNetwork: string, addressNetwork: string, ip: string, facts: PodPolicyFacts): RemoteAppearance {
  if (e?.engine === 'felix') return ip === facts.statusIp ? 'identity' : 'address';
  return enforcerNetwork === addressNetwork ? 'identity' : 'address';
}

/**
 * The policy verdict for a connection the datapath carries along `path` to an address on
 * `network`: egress enforced where it leaves the source pod, ingress where it enters the target.
 * Undefined when either pod has no policy facts (the model gives none for hostNetwork pods).
 */
export function judgePolicy(ctx: PolicyContext, from: PodSide, to: PodSide, network: string, path: ReachPath, sameNode: boolean, names: { from: string; to: string } = { from: 'the source node', to: 'the target node' }): PolicyJudgement | undefined {
  const f = from.policy;
  const t = to.policy;
  if (!f || !t) return undefined;
  const intended = intendedAllowed(ctx, f, t);
  const outward = path.kind === 'direct' ? path.network : path.outward;
  const fromIp = f.ips.get(outward) ?? f.statusIp;
  const toIp = t.ips.get(network) ?? t.statusIp;
  const egress: EnforcementSide = { enforcer: from.profile(outward).enforcer, remote: 'identity', node: names.from };
  egress.remote = appearance(egress.enforcer, outward, network, toIp, t);
  const ingress: EnforcementSide = { enforcer: to.profile(network).enforcer, remote: 'identity', node: names.to };
  // A legacy pod's traffic into a bridging network's pod leaves its node through cilium_host:
  // masqueraded by the legacy network's rule (to the host on the same node, to a remote node's router address across).
  if (path.kind === 'bridge' && outward !== path.bridge) ingress.remote = sameNode ? 'host' : from.profile(outward).masquerades ? 'remote-node' : 'address';
  else ingress.remote = appearance(ingress.enforcer, network, outward, fromIp, f);
  const v = judgeEnforcement({ k8s: ctx.policies, calico: ctx.calico ?? [], cilium: ctx.cilium ?? [] }, endpointOf(f, fromIp), endpointOf(t, toIp), JUDGED_PORT, egress, ingress);
  return { intended, enforced: v.allowed, ...(v.detail ? { detail: v.detail } : {}) };
}

/**
 * The part of a pod's class key policies decide on, when any policy exists: the policy
 * generation, namespace, labels, named ports, which of its addresses is its status address, and
 * which ipBlock CIDRs hold each address. Empty without policies (nothing else depends on them).
 */
export function policyClassKey(ctx: PolicyContext | undefined, facts: PodPolicyFacts | undefined): string {
  if (!anyPolicy(ctx) || !facts || !ctx) return '';
  const sig = (ip: string) => ctx.cidrs.flatMap((c, i) => (ipInCidrText(ip, c) ? [i] : [])).join('.');
  const labels = Object.entries(facts.pod.labels).sort(([a], [b]) => (a < b ? -1 : 1));
  const nets = [...facts.ips].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, ip]) => `${n}${ip === facts.statusIp ? '*' : ''}:${sig(ip)}`);
  return `|pol${ctx.generation}|${facts.pod.namespace}|${JSON.stringify(labels)}|${JSON.stringify(facts.pod.namedPorts ?? {})}|${nets.join(',')}|${sig(facts.statusIp)}`;
}

/**
 * Whether policy can drop a connection the datapath carries: some policy exists, or an enforcer
 * on the path isolates every endpoint (Cilium's "always"). Otherwise judgePolicy allows it.
 */
export function policyMayDrop(ctx: PolicyContext, from: PodSide, to: PodSide, network: string, path: ReachPath): boolean {
  if (anyPolicy(ctx)) return true;
  const always = (e: Enforcer | undefined) => e?.engine === 'cilium' && e.mode === 'always';
  return always(from.profile(path.kind === 'direct' ? path.network : path.outward).enforcer) || always(to.profile(network).enforcer);
}

/** Answers "can pod namespace/name reach toIp now?". */
export function canReach(view: ReachView, namespace: string, name: string, toIp: string): ReachResult {
  const from = view.pod(namespace, name);
  if (!from) return { ok: false, reason: 'unknown-source', detail: `pod ${namespace}/${name} is not on any simulated node` };
  if (!from.running) return { ok: false, reason: 'source-not-running', detail: `pod ${from.label} is not running` };
  const owner = view.addressOwner(toIp);
  if (!owner) return { ok: false, reason: 'no-such-address', detail: `no running pod or node has address ${toIp}` };
  if ('node' in owner) return reachNode(view, from, owner.node, toIp);
  const to = owner.pod;
  if (!to.running) return { ok: false, network: owner.network, reason: 'target-not-running', detail: `pod ${to.label} (${toIp}) is not running` };
  const network = owner.network;
  const fromProfile = view.profile(from.node, network);
  // A hostNetwork pod is the node itself: it reaches pod networks whose datapath runs on its node.
  const fromNetworks = from.hostNetwork ? new Set(fromProfile.up ? [network] : []) : from.networks;
  const side = (node: string, networks: ReadonlySet<string>): PodSide => ({ networks, profile: (n) => view.profile(node, n), bridges: view.bridges(node) });
  const names = { from: from.node, to: to.node };
  const fromSide = side(from.node, fromNetworks);
  const toSide = side(to.node, to.networks);
  const v = judgeReach(fromSide, toSide, network, from.node === to.node, names);
  const ctx = view.policies?.();
  if (v.reason === 'reachable' && v.path && ctx && policyMayDrop(ctx, fromSide, toSide, network, v.path)) {
    // Read only now: a pod's policy facts cost more than the rest of the verdict.
    const fp = from.hostNetwork ? undefined : from.policy;
    const tp = to.policy;
    if (fp) fromSide.policy = fp;
    if (tp) toSide.policy = tp;
    const p = judgePolicy(ctx, fromSide, toSide, network, v.path, from.node === to.node, names);
    if (p && !p.enforced) return { ok: false, network, reason: 'denied-by-policy', detail: p.detail ?? 'dropped by policy' };
  }
  return { ok: v.reason === 'reachable', network, reason: v.reason, detail: v.detail };
}

/**
 * A key equal for two pod addresses that every pod gets the same verdict for (canReach's reason),
 * as long as both are on the prober's node or both elsewhere — so a prober that must cover many
 * peers can probe one address per key and side: the simulator's agents do, which keeps their work
 * per round linear in the pods. It holds what judgeReach reads of the target — the address's
 * network, whether the target runs, its interface networks, its node's bridging networks and the
 * profile there of each of those — and nothing of the source or of which node the target is on.
 * Undefined for an address that is not a pod's: judged one by one.
 */
export function reachClassKey(view: ReachView, toIp: string): string | undefined {
  const owner = view.addressOwner(toIp);
  if (!owner || 'node' in owner) return undefined;
  const to = owner.pod;
  if (!to.running) return `${owner.network}|not running`;
  const bridges = view.bridges(to.node);
  const networks = [...new Set([owner.network, ...to.networks, ...bridges])].sort();
  const profiles = networks.map((n) => `${to.networks.has(n) ? '' : '+'}${n}=${profileKey(view.profile(to.node, n))}`);
  const ctx = view.policies?.();
  return `${owner.network}|${bridges.join(',')}|${profiles.join(';')}${anyPolicy(ctx) ? policyClassKey(ctx, to.policy) : ''}`;
}

// Node addresses are on the underlay: a pod gets there through its node once any of its networks is up.
function reachNode(view: ReachView, from: ReachPod, node: string, ip: string): ReachResult {
  if (from.hostNetwork) return { ok: true, network: 'host', reason: 'reachable', detail: `node address ${ip} of ${node}` };
  const up = [...from.networks].some((n) => view.profile(from.node, n).up);
  return up
    ? { ok: true, network: 'host', reason: 'reachable', detail: `node address ${ip} of ${node}` }
    : { ok: false, network: 'host', reason: 'datapath-down-on-source-node', detail: `none of ${from.label}'s networks is up on ${from.node}` };
}
