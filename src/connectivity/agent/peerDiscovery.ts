/**
 * Peer discovery, pure: from the probe Service's Endpoints (ready peers' primary IPs) and the
 * probe pods' Multus network-status annotations (their extra interfaces), the addresses this
 * agent probes. knet-stress only saw the Endpoints' primary IPs; during a Multus migration the
 * second network matters as much, so each peer's extra interface is probed too — but only on a
 * network this pod itself has an interface on (without one, there is no path to judge).
 */
import type { Pod } from '../../kube/kubeTypes.js';
import type { AgentIdentity, EndpointAddressLike, PeerSnapshot, PodNetworkInterface, ProbeTarget } from './probeTypes.js';

/** The annotation Multus writes on every pod it wires (the older spelling is read as a fallback). */
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
const NETWORKS_STATUS_LEGACY = 'k8s.v1.cni.cncf.io/networks-status';

/** The network name used for a pod without a network-status annotation (single-CNI cluster). */
export const DEFAULT_NETWORK = 'default';

/**
 * Canal's pod network is named "k8s-pod-network" by canal.yaml and "cbr0" by the seed's Multus
 * delegate config; both are the Flannel overlay. Normalising the names lets a pod whose primary
 * is Cilium (Flannel as "cbr0") and one whose primary is Flannel ("k8s-pod-network") agree that
 * they share a network.
 */
export const DEFAULT_NETWORK_ALIASES: Readonly<Record<string, string>> = { 'k8s-pod-network': 'flannel', cbr0: 'flannel' };

/** What discovery found: this pod's own interfaces and every address to probe. */
export interface Discovery {
  self: { ips: string[]; interfaces: PodNetworkInterface[] };
  targets: ProbeTarget[];
}

/** Options of discovery. */
export interface DiscoveryOptions {
  /** CNI network name → display name (default DEFAULT_NETWORK_ALIASES). */
  networkAliases?: Readonly<Record<string, string>> | undefined;
}

interface NetworkStatusEntry {
  name?: unknown;
  interface?: unknown;
  ips?: unknown;
  default?: unknown;
}

/**
 * A pod's interfaces from its network-status annotation, primary first; undefined when the pod
 * has no (readable) annotation. Entries without an IP are skipped.
 */
export function podNetworkInterfaces(pod: Pod, aliases: Readonly<Record<string, string>> = DEFAULT_NETWORK_ALIASES): PodNetworkInterface[] | undefined {
  const annotations = pod.metadata.annotations ?? {};
  const raw = annotations[NETWORK_STATUS_ANNOTATION] ?? annotations[NETWORKS_STATUS_LEGACY];
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: PodNetworkInterface[] = [];
  (parsed as NetworkStatusEntry[]).forEach((e, i) => {
    if (!e || typeof e !== 'object') return;
    const ips = Array.isArray(e.ips) ? e.ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '') : [];
    if (!ips.length) return;
    const name = typeof e.name === 'string' && e.name ? e.name : DEFAULT_NETWORK;
    out.push({ network: aliases[name] ?? name, interface: typeof e.interface === 'string' ? e.interface : `if${i}`, ips, primary: e.default === true });
  });
  if (out.length && !out.some((i) => i.primary)) out[0]!.primary = true;
  return out.sort((a, b) => Number(b.primary) - Number(a.primary));
}

/** A pod's interfaces: from the annotation, else one "default" interface holding status.podIP. */
function interfacesOf(pod: Pod | undefined, fallbackIp: string | undefined, aliases: Readonly<Record<string, string>>): PodNetworkInterface[] {
  const fromAnnotation = pod ? podNetworkInterfaces(pod, aliases) : undefined;
  if (fromAnnotation?.length) return fromAnnotation;
  const ip = pod?.status?.podIP || fallbackIp;
  return ip ? [{ network: DEFAULT_NETWORK, interface: 'eth0', ips: [ip], primary: true }] : [];
}

/** One Ready peer pod of the probe Service and every address it could be probed at. */
export interface PeerEntry {
  pod: string;
  /** The address the Endpoints list for it (its primary). */
  endpointIp: string;
  /** Its primary address first, then its other interfaces' addresses (by ip). */
  targets: ProbeTarget[];
}

/** Every Ready peer of a snapshot, sorted by node and pod; what discoverPeers filters per agent. */
export interface PeerCatalog {
  pods: ReadonlyMap<string, Pod>;
  entries: readonly PeerEntry[];
}

// Catalogs by snapshot: the simulator hands the same snapshot object to every agent, so the
// network-status annotations are parsed once per snapshot, not once per agent and round.
const catalogs = new WeakMap<PeerSnapshot, Map<Readonly<Record<string, string>>, PeerCatalog>>();

/** Every Ready peer of the probe Service with all its addresses (memoised per snapshot object). */
export function peerCatalog(snapshot: PeerSnapshot, aliases: Readonly<Record<string, string>> = DEFAULT_NETWORK_ALIASES): PeerCatalog {
  let byAliases = catalogs.get(snapshot);
  const hit = byAliases?.get(aliases);
  if (hit) return hit;
  const pods = new Map(snapshot.pods.map((p) => [p.metadata.name ?? '', p]));
  const entries: PeerEntry[] = [];
  const seen = new Set<string>();
  for (const addr of readyAddresses(snapshot)) {
    const name = addr.targetRef?.name;
    if (!name || seen.has(name)) continue;
    const pod = pods.get(name);
    // Not in the pod list (deleted since the Endpoints were written) or terminating: not a peer.
    if (!pod || pod.metadata.deletionTimestamp) continue;
    seen.add(name);
    const node = addr.nodeName ?? pod.spec?.nodeName ?? 'unknown';
    const interfaces = interfacesOf(pod, addr.ip, aliases);
    const primary = interfaces.find((i) => i.ips.includes(addr.ip)) ?? interfaces[0];
    const targets = [targetOf(name, node, addr.ip, primary?.network ?? DEFAULT_NETWORK, primary?.interface ?? 'eth0', true)];
    const extras: ProbeTarget[] = [];
    for (const itf of interfaces) for (const ip of itf.ips) if (ip !== addr.ip) extras.push(targetOf(name, node, ip, itf.network, itf.interface, false));
    targets.push(...extras.sort((a, b) => cmp(a.ip, b.ip)));
    entries.push({ pod: name, endpointIp: addr.ip, targets });
  }
  entries.sort((a, b) => cmp(a.targets[0]!.node, b.targets[0]!.node) || cmp(a.pod, b.pod));
  const catalog = { pods, entries };
  if (!byAliases) catalogs.set(snapshot, (byAliases = new Map()));
  byAliases.set(aliases, catalog);
  return catalog;
}

/** This pod's own interfaces as the catalog's snapshot shows them (status.podIP when it has no annotation). */
export function selfInterfaces(self: AgentIdentity, catalog: PeerCatalog, aliases: Readonly<Record<string, string>> = DEFAULT_NETWORK_ALIASES): PodNetworkInterface[] {
  return interfacesOf(catalog.pods.get(self.pod), self.podIP, aliases);
}

/**
 * Whether an agent with these addresses and networks probes a catalog entry's target: never itself
 * (nor a peer listed at one of its own addresses: a reused IP), extra interfaces only on a network
 * it has an interface on itself (without one, there is no path to judge).
 */
export function probesTarget(self: { pod: string; ips: ReadonlySet<string>; networks: ReadonlySet<string> }, entry: PeerEntry, target: ProbeTarget): boolean {
  if (entry.pod === self.pod || self.ips.has(entry.endpointIp)) return false;
  return target.primary || self.networks.has(target.network);
}

/** Every address this agent should probe, sorted by node, pod, primary first. Excludes itself. */
export function discoverPeers(self: AgentIdentity, snapshot: PeerSnapshot, opts: DiscoveryOptions = {}): Discovery {
  const aliases = opts.networkAliases ?? DEFAULT_NETWORK_ALIASES;
  const catalog = peerCatalog(snapshot, aliases);
  const interfaces = selfInterfaces(self, catalog, aliases);
  const me = { pod: self.pod, ips: new Set(interfaces.flatMap((i) => i.ips)), networks: new Set(interfaces.map((i) => i.network)) };
  const targets: ProbeTarget[] = [];
  for (const entry of catalog.entries) for (const t of entry.targets) if (probesTarget(me, entry, t)) targets.push(t);
  return { self: { ips: [...me.ips], interfaces }, targets };
}

function readyAddresses(snapshot: PeerSnapshot): EndpointAddressLike[] {
  // Only Ready addresses, as knet-stress: a peer that is not Ready is not expected to answer.
  return (snapshot.endpoints?.subsets ?? []).flatMap((s) => s.addresses ?? []);
}

function targetOf(pod: string, node: string, ip: string, network: string, itf: string, primary: boolean): ProbeTarget {
  return { key: `${pod}@${ip}`, pod, node, ip, network, interface: itf, primary };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
