import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/waitFor.js';
import { probePod, snapshotOf } from '../testing/probeBuilders.js';
import { AgentServer } from './agentServer.js';
import { NodeTransport } from './nodeTransport.js';
import { ProbeAgent } from './probeAgent.js';
import type { PeerSnapshot } from './probeTypes.js';

// Two real agents over real sockets on loopback addresses (127.0.0.1 and 127.0.0.2, same port),
// as two pods on two nodes would be: the node transport and server, not the simulator's.
describe('probe agents over node:http on loopback', () => {
  const servers: AgentServer[] = [];
  const agents: ProbeAgent[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) a.stop();
    for (const s of servers.splice(0)) await s.close();
  });

  const peers: { snapshot: PeerSnapshot } = { snapshot: snapshotOf([probePod('pa', 'node-a', '127.0.0.1'), probePod('pb', 'node-b', '127.0.0.2')]) };
  const start = async (pod: string, node: string, ip: string, port: number) => {
    const agent = new ProbeAgent({
      self: { pod, namespace: 'cni-migration-probe', node, podIP: ip },
      port,
      intervalMs: 50,
      timeoutMs: 1000,
      maxFlows: 1,
      transport: new NodeTransport({ from: pod, flowIdleTimeoutMs: 400 }),
      peers: { snapshot: () => Promise.resolve(peers.snapshot) },
    });
    const server = new AgentServer(agent, { host: ip, port, heartbeatMs: 50 });
    const addr = await server.listen();
    agents.push(agent);
    servers.push(server);
    return { agent, server, port: addr.port };
  };
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });

  it('probe each other, hold a flow, and tell a goodbye from a cut connection', async () => {
    const a = await start('pa', 'node-a', '127.0.0.1', await freePort());
    let b = await start('pb', 'node-b', '127.0.0.2', a.port);
    await a.agent.runRound();
    await b.agent.runRound();
    expect(a.agent.status().peers.map((p) => [p.pod, p.result])).toEqual([['pb', 'ok']]);
    expect(b.agent.status().peers.map((p) => [p.pod, p.result])).toEqual([['pa', 'ok']]);
    await waitFor('a flow from pa to pb', () => a.agent.openFlowPeers().includes('pb'), 5000);

    // pb shuts down cleanly: it says goodbye, so pa records that the peer went away.
    await b.server.close();
    servers.splice(servers.indexOf(b.server), 1);
    await waitFor('the goodbye recorded', () => a.agent.status().flows.breaks.length === 1, 5000);
    expect(a.agent.status().flows.breaks[0]).toMatchObject({ peer: 'pb', reason: 'peer-gone', cause: 'peer-closed' });

    // Nothing listens at pb's address now: the probe is refused.
    await a.agent.runRound();
    expect(a.agent.status().peers[0]).toMatchObject({ pod: 'pb', result: 'refused', consecutiveFailures: 1 });

    // pb is back; then its connections are cut without a goodbye while its pod still exists.
    b.agent.stop();
    b = await start('pb', 'node-b', '127.0.0.2', a.port);
    await a.agent.runRound();
    await waitFor('a new flow from pa to pb', () => a.agent.openFlowPeers().includes('pb'), 5000);
    b.server.dropConnections();
    await waitFor('the cut recorded', () => a.agent.status().flows.breaks.length === 2, 5000);
    expect(a.agent.status().flows.breaks[1]).toMatchObject({ peer: 'pb', reason: 'network' });
    expect(['closed', 'reset']).toContain(a.agent.status().flows.breaks[1]!.cause);
  });

  it('counts a flow that goes silent as cut', async () => {
    const a = await start('pa', 'node-a', '127.0.0.1', await freePort());
    const b = await start('pb', 'node-b', '127.0.0.2', a.port);
    await a.agent.runRound();
    await waitFor('a flow from pa to pb', () => a.agent.openFlowPeers().includes('pb'), 5000);
    // Heartbeats stop (a blackholed path looks like this): the idle timeout cuts the flow.
    (b.server as unknown as { timers: Set<NodeJS.Timeout> }).timers.forEach((t) => clearInterval(t));
    await waitFor('the silence recorded', () => a.agent.status().flows.breaks.length === 1, 5000);
    expect(a.agent.status().flows.breaks[0]).toMatchObject({ peer: 'pb', reason: 'network', cause: 'timeout' });
  });
});
