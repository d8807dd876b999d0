import type { PoolSpec } from './agentRecognizer.js';
import { cidrCovers, cidrSize, formatCidr, formatIp, parseCidr, parseIp, nodeSubnet, type Cidr } from '../../net/ipv4.js';

/**
 * The subnet a network hands out on one node: the node's spec.podCIDR when the network allocates
 * from it (and it lies in the network's range), else the node's share of the network's range,
 * carved by node index. Undefined when the range cannot hold this node.
 */
export function nodePoolSubnet(pool: PoolSpec, nodeIndex: number, nodeCount: number, nodePodCidr: string | undefined): Cidr | undefined {
  const range = parseCidr(pool.cidr);
  const podCidr = nodePodCidr ? parseCidr(nodePodCidr) : undefined;
  if (pool.useNodePodCidr && podCidr && (!range || cidrCovers(range, podCidr))) return podCidr;
  if (!range) return undefined;
  return nodeSubnet(range, pool.nodePrefix, nodeIndex, nodeCount);
}

/**
 * Hands out pod addresses from per-node subnets, host-local style: .0 (network) and .1 (the
 * gateway / cni0 / cilium_host) and the broadcast address are never given out, and allocation
 * continues after the last address handed out rather than reusing a just-released one at once.
 * Addresses are unique across all networks, so overlapping ranges never yield a duplicate.
 */
export class IpAllocator {
  private readonly used = new Set<number>();
  private readonly cursor = new Map<string, number>();

  /** Allocates an address in the subnet, or undefined when it is exhausted. */
  allocate(subnet: Cidr): string | undefined {
    const size = cidrSize(subnet);
    const usable = size - 3;
    if (usable <= 0) return undefined;
    const key = formatCidr(subnet);
    const start = this.cursor.get(key) ?? 0;
    for (let i = 0; i < usable; i++) {
      const offset = ((start + i) % usable) + 2;
      const ip = subnet.base + offset;
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      this.cursor.set(key, (start + i + 1) % usable);
      return formatIp(ip);
    }
    return undefined;
  }

  /** Returns an address to the pool. */
  release(ip: string): void {
    const v = parseIp(ip);
    if (v !== undefined) this.used.delete(v);
  }

  /** Marks an address as taken (adopting a pod that already has it). */
  reserve(ip: string): void {
    const v = parseIp(ip);
    if (v !== undefined) this.used.add(v);
  }
}
