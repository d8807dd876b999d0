/**
 * The tunnel check's wire format: before Cilium runs, a short-lived hostNetwork agent on every node
 * binds Cilium's tunnel port (UDP) and, asked with GET /udp?targets=node@ip,…, sends a datagram to
 * each target's port and reports which answered. The preflight asks every agent about every other
 * node, so a firewall that drops the port between two nodes is found before the first switch.
 */
import * as z from 'zod';

export const TUNNEL_CHECK_PATH = '/udp';
/** The datagram sent, and the answer's prefix. */
export const TUNNEL_CHECK_PING = 'cni-migration-tunnel-check';

/** One target: the node's name (for messages) and the address to send to. */
export interface TunnelTarget {
  node: string;
  ip: string;
}

export const TunnelCheckDocumentSchema = z.object({
  node: z.string(),
  port: z.number().int(),
  results: z.array(z.object({ node: z.string(), ip: z.string(), ok: z.boolean(), detail: z.string().optional() })),
});
export type TunnelCheckDocument = z.infer<typeof TunnelCheckDocumentSchema>;

/** targets=node-2@192.168.0.3,node-3@192.168.0.4 */
export function formatTargets(targets: readonly TunnelTarget[]): string {
  return targets.map((t) => `${t.node}@${t.ip}`).join(',');
}

/** The inverse of formatTargets; malformed entries are dropped. */
export function parseTargets(value: string | null | undefined): TunnelTarget[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const at = s.lastIndexOf('@');
      return at > 0 ? { node: s.slice(0, at), ip: s.slice(at + 1) } : undefined;
    })
    .filter((t): t is TunnelTarget => t !== undefined && t.ip !== '');
}
