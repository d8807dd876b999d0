import { describe, expect, it } from 'vitest';
import { cidrContains, formatCidr, formatIp, nodeSubnet, parseCidr, parseIp } from './ipv4.js';

describe('ipv4', () => {
  it('parses and formats addresses and ranges', () => {
    expect(formatIp(parseIp('10.244.3.7')!)).toBe('10.244.3.7');
    expect(parseIp('10.244.3')).toBeUndefined();
    expect(parseIp('256.0.0.1')).toBeUndefined();
    expect(formatCidr(parseCidr('172.29.5.9/16')!)).toBe('172.29.0.0/16');
    expect(cidrContains(parseCidr('10.244.0.0/16')!, parseIp('10.244.255.1')!)).toBe(true);
    expect(cidrContains(parseCidr('10.244.0.0/16')!, parseIp('10.245.0.1')!)).toBe(false);
  });

  it('carves a /24 per node, narrowing when more nodes than /24s must fit', () => {
    const range = parseCidr('10.244.0.0/16')!;
    expect(formatCidr(nodeSubnet(range, 24, 2, 3)!)).toBe('10.244.2.0/24');
    expect(formatCidr(nodeSubnet(range, 24, 999, 1000)!)).toBe('10.244.249.192/26');
    expect(nodeSubnet(parseCidr('10.0.0.0/28')!, 24, 4, 5)).toBeUndefined();
  });
});
