/**
 * The agent's HTTP server inside a pod: agentHttpHandler for /healthz, /status, /metrics and
 * /hello, plus the streaming /flow endpoint peers hold open (a heartbeat line every second).
 * close() says goodbye on every flow first, so peers can tell "this pod is going away" from a
 * network cut.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentHttpHandler, collectHandler, type AgentView } from './agentHttpHandler.js';
import type { ProbeAgent } from './probeAgent.js';
import { FLOW_GOODBYE, FLOW_PATH } from './nodeTransport.js';

/** Where and how the server listens. */
export interface AgentServerOptions {
  /** Address to bind (default 0.0.0.0). */
  host?: string;
  port: number;
  /** Heartbeat period on flows (default 1000 ms). */
  heartbeatMs?: number;
}

/** node:http server for one agent. */
export class AgentServer {
  private readonly server: http.Server;
  private readonly flows = new Set<http.ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    agent: AgentView & { self: { pod: string } } & Partial<Pick<ProbeAgent, 'collect'>>,
    private readonly opts: AgentServerOptions,
  ) {
    const handle = agentHttpHandler(agent);
    const collect = agent.collect ? collectHandler({ collect: (since, fresh) => agent.collect!(since, fresh), get stopped() { return agent.stopped; } }) : undefined;
    this.server = http.createServer((req, res) => {
      const [path = '/', query] = (req.url ?? '/').split('?');
      if (path === FLOW_PATH && req.method === 'GET' && !agent.stopped) return this.serveFlow(agent.self.pod, res);
      const collecting = collect?.({ method: req.method ?? 'GET', path, query });
      if (collecting) {
        void collecting.then((answer) => {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        });
        return;
      }
      const answer = handle({ method: req.method ?? 'GET', path, query });
      res.writeHead(answer.status, answer.headers);
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    });
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Says goodbye on every flow, then stops serving. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const res of this.flows) res.end(`${FLOW_GOODBYE}\n`);
    this.flows.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Anything still open after a moment (a peer not reading its flow) is cut.
    const force = setTimeout(() => this.server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(force);
  }

  /** Cuts every connection without a goodbye (tests: what a network cut looks like to peers). */
  dropConnections(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const res of this.flows) res.socket?.destroy();
    this.flows.clear();
  }

  private serveFlow(pod: string, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.write(`hello from ${pod}\n`);
    this.flows.add(res);
    const timer = setInterval(() => res.write('tick\n'), this.opts.heartbeatMs ?? 1000);
    this.timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
      this.flows.delete(res);
    });
  }
}
