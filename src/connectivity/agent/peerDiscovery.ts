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

/** Every address this agent should probe, sorted by node, pod, primary first. Excludes itself. */
export function discoverPeers(self: AgentIdentity, snapshot: PeerSnapshot, opts: DiscoveryOptions = {}): Discovery {
  const aliases = opts.networkAliases ?? DEFAULT_NETWORK_ALIASES;
  const pods = new Map(snapshot.pods.map((p) => [p.metadata.name ?? '', p]));
  const selfInterfaces = interfacesOf(pods.get(self.pod), self.podIP, aliases);
  const selfIps = new Set(selfInterfaces.flatMap((i) => i.ips));
  const selfNetworks = new Set(selfInterfaces.map((i) => i.network));
  const targets: ProbeTarget[] = [];
  const seen = new Set<string>();
  for (const addr of readyAddresses(snapshot)) {
    const name = addr.targetRef?.name;
    if (!name || name === self.pod || selfIps.has(addr.ip) || seen.has(name)) continue;
    const pod = pods.get(name);
    // Not in the pod list (deleted since the Endpoints were written) or terminating: not a peer.
    if (!pod || pod.metadata.deletionTimestamp) continue;
    seen.add(name);
    const node = addr.nodeName ?? pod.spec?.nodeName ?? 'unknown';
    const interfaces = interfacesOf(pod, addr.ip, aliases);
    const primary = interfaces.find((i) => i.ips.includes(addr.ip)) ?? interfaces[0];
    targets.push(targetOf(name, node, addr.ip, primary?.network ?? DEFAULT_NETWORK, primary?.interface ?? 'eth0', true));
    for (const itf of interfaces) {
      if (!selfNetworks.has(itf.network)) continue;
      for (const ip of itf.ips) {
        if (ip === addr.ip) continue;
        targets.push(targetOf(name, node, ip, itf.network, itf.interface, false));
      }
    }
  }
  targets.sort((a, b) => cmp(a.node, b.node) || cmp(a.pod, b.pod) || Number(b.primary) - Number(a.primary) || cmp(a.ip, b.ip));
  return { self: { ips: [...selfIps], interfaces: selfInterfaces }, targets };
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
