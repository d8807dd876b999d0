import { podNetworkInterfaces } from '../connectivity/agent/peerDiscovery.js';
import type { Pod } from '../kube/kubeTypes.js';
import { ipInCidrText } from '../net/ipv4.js';
import { podsUnderPromise } from './podNetworkChecks.js';

// What `status` shows per node beyond its labels: where its pods' networks actually are, read
// from the pods themselves (primary IP, Multus' network-status annotation). Pure.

/** How one pod is wired, relative to the migration. */
export type PodWiring = 'source' | 'source+cilium' | 'cilium+source' | 'cilium' | 'not running';

/** Counts of pod wirings on one node. */
export type NodePodFacts = Record<PodWiring, number>;

/** Classifies one pod-network pod. */
export function podWiring(pod: Pod, ciliumCIDR: string, ciliumNetwork: string): PodWiring {
  const ready = pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const ip = pod.status?.podIP;
  if (!ready || !ip) return 'not running';
  const onCilium = ipInCidrText(ip, ciliumCIDR);
  const networks = podNetworkInterfaces(pod, {})?.map((i) => i.network) ?? [];
  const extra = networks.length > 1;
  if (onCilium) return extra ? 'cilium+source' : 'cilium';
  return networks.includes(ciliumNetwork) ? 'source+cilium' : 'source';
}

/** Per-node counts of pod wirings (pod-network pods only). */
export function nodePodFacts(pods: readonly Pod[], ciliumCIDR: string, ciliumNetwork: string): Map<string, NodePodFacts> {
  const out = new Map<string, NodePodFacts>();
  for (const p of podsUnderPromise(pods)) {
    const node = p.spec?.nodeName;
    if (!node) continue;
    let f = out.get(node);
    if (!f) out.set(node, (f = { source: 0, 'source+cilium': 0, 'cilium+source': 0, cilium: 0, 'not running': 0 }));
    f[podWiring(p, ciliumCIDR, ciliumNetwork)]++;
  }
  return out;
}

/** "6 pods: 4 source+cilium, 2 not running". */
export function describeNodePodFacts(f: NodePodFacts | undefined): string {
  if (!f) return 'no pod-network pods';
  const total = Object.values(f).reduce((a, b) => a + b, 0);
  const parts = (Object.entries(f) as [PodWiring, number][]).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  return `${total} pod${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
