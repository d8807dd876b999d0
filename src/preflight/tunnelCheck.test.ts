import { describe, expect, it } from 'vitest';
import { formatTargets } from '../connectivity/tunnelCheck/tunnelCheckDocument.js';
import { chunkTargets } from './tunnelCheck.js';

describe('chunkTargets', () => {
  const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ node: `ip-10-20-${Math.floor(i / 250)}-${i % 250}.eu-west-1.compute.internal`, ip: `10.20.${Math.floor(i / 250)}.${i % 250}` }));

  it('keeps every target, in order, in requests an HTTP server takes (under 16 KiB of URL)', () => {
    const all = nodes(1000);
    const chunks = chunkTargets(all);
    expect(chunks.flat()).toEqual(all);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(`/api/v1/namespaces/cni-migration-probe/pods/x:9879/proxy/udp?targets=${encodeURIComponent(formatTargets(c))}&timeoutMs=1000`.length).toBeLessThan(16 * 1024);
    // The negative control: the whole list in one request is far over.
    expect(encodeURIComponent(formatTargets(all)).length).toBeGreaterThan(16 * 1024);
  });

  it('sends a small cluster in one request, and nothing for no targets', () => {
    expect(chunkTargets(nodes(5))).toHaveLength(1);
    expect(chunkTargets([])).toEqual([]);
  });
});
