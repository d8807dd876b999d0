import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelCheckAgent } from './tunnelCheckAgent.js';
import { formatTargets, parseTargets, TunnelCheckDocumentSchema } from './tunnelCheckDocument.js';

/** A UDP port free on 127.0.0.1 now. */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('tunnel check agent (real sockets)', () => {
  const agents: TunnelCheckAgent[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.close();
  });

  it('an address where an agent listens answers; one where nothing does is reported with the port and the wait', async () => {
    const port = await freeUdpPort();
    const agent = new TunnelCheckAgent({ node: 'node-1', port, httpPort: 0, host: '127.0.0.1' });
    agents.push(agent);
    const bound = await agent.listen();
    expect(bound.udp.port).toBe(port);
    // Through its HTTP endpoint, as the preflight asks it (the pod proxy forwards the query).
    const targets = formatTargets([{ node: 'node-1', ip: '127.0.0.1' }, { node: 'node-2', ip: '127.0.0.2' }]);
    const res = await fetch(`http://127.0.0.1:${bound.http.port}/udp?targets=${encodeURIComponent(targets)}&timeoutMs=300`);
    const doc = TunnelCheckDocumentSchema.parse(await res.json());
    expect(doc).toEqual({
      node: 'node-1',
      port,
      results: [
        { node: 'node-1', ip: '127.0.0.1', ok: true },
        { node: 'node-2', ip: '127.0.0.2', ok: false, detail: `no answer on UDP ${port} within 300 ms` },
      ],
    });
    expect((await fetch(`http://127.0.0.1:${bound.http.port}/healthz`)).status).toBe(200);
  });

  it('a port already held on the node cannot be bound: the agent does not start (the preflight reports it as not ready)', async () => {
    const port = await freeUdpPort();
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(port, '127.0.0.1', () => resolve()));
    try {
      const agent = new TunnelCheckAgent({ node: 'node-1', port, httpPort: 0, host: '127.0.0.1' });
      await expect(agent.listen()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('targets go as node@ip lists; malformed entries are dropped', () => {
    expect(parseTargets(formatTargets([{ node: 'a', ip: '10.0.0.1' }, { node: 'b', ip: '10.0.0.2' }]))).toEqual([{ node: 'a', ip: '10.0.0.1' }, { node: 'b', ip: '10.0.0.2' }]);
    expect(parseTargets('a@10.0.0.1,,nonsense,@1.2.3.4,b@')).toEqual([{ node: 'a', ip: '10.0.0.1' }]);
    expect(parseTargets(undefined)).toEqual([]);
  });
});
