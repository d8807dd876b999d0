// IPv4 address and CIDR arithmetic for node addresses and per-node pod pools. Addresses are
// unsigned 32-bit integers internally so carving and containment are plain arithmetic.

/** An IPv4 network: base address (as an unsigned 32-bit integer) and prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

/** Parses a dotted-quad IPv4 address; undefined when it is not one. */
export function parseIp(text: string): number | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Formats an unsigned 32-bit integer as a dotted-quad address. */
export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses "a.b.c.d/n" (the base is masked to the prefix); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [ip, len, ...rest] = text.trim().split('/');
  if (ip === undefined || len === undefined || rest.length || !/^\d{1,2}$/.test(len)) return undefined;
  const prefix = Number(len);
  const addr = parseIp(ip);
  if (addr === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

/** Formats a CIDR as "a.b.c.d/n". */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

/** Number of addresses in a CIDR. */
export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** Whether an address lies inside a CIDR. */
export function cidrContains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip < cidr.base + cidrSize(cidr);
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.base);
}

/**
 * The index-th subnet of a range for one node. The preferred per-node prefix (a /24, as
 * kube-controller-manager and flannel default to) is narrowed just enough for nodeCount nodes to
 * fit, so a 1000-node simulation still gets distinct pools from a /16 instead of failing the way
 * a real allocator would. Undefined when even a /30 per node does not fit.
 */
export function nodeSubnet(range: Cidr, preferredPrefix: number, index: number, nodeCount: number): Cidr | undefined {
  const needBits = Math.ceil(Math.log2(Math.max(1, nodeCount, index + 1)));
  const prefix = Math.max(preferredPrefix, range.prefix, range.prefix + needBits);
  if (prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  const base = range.base + index * size;
  if (!cidrContains(range, base)) return undefined;
  return { base, prefix };
}

/** The n-th host address of a range (0 = the network address itself), undefined past its end. */
export function hostAt(cidr: Cidr, n: number): number | undefined {
  return n >= 0 && n < cidrSize(cidr) ? cidr.base + n : undefined;
}

/** Whether two CIDRs share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.base) || cidrContains(b, a.base);
}

/** Whether a dotted-quad address lies in a CIDR given as text; false when either is malformed. */
export function ipInCidrText(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  return c !== undefined && a !== undefined && cidrContains(c, a);
}
