/**
 * The tunnel check agent on a real node (hostNetwork): answers datagrams on the tunnel port and
 * serves GET /udp, which sends one datagram to each target and waits for the answers.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTargets, TUNNEL_CHECK_PATH, TUNNEL_CHECK_PING, type TunnelCheckDocument, type TunnelTarget } from './tunnelCheckDocument.js';

export interface TunnelCheckAgentOptions {
  node: string;
  /** The UDP port to bind and to send to (Cilium's tunnel port). */
  port: number;
  httpPort: number;
  host?: string;
  /** How long to wait for answers (default 1 s; the query's timeoutMs overrides, up to 10 s). */
  timeoutMs?: number;
}

/** A running agent; close() releases both ports. */
export class TunnelCheckAgent {
  private readonly socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  private readonly server: http.Server;
  private readonly waiting = new Map<string, (from: string) => void>();
  private seq = 0;

  constructor(private readonly opts: TunnelCheckAgentOptions) {
    this.socket.on('message', (msg, rinfo) => {
      const text = msg.toString('utf8');
      if (text.startsWith(`${TUNNEL_CHECK_PING} ping `)) {
        this.socket.send(`${TUNNEL_CHECK_PING} pong ${text.slice(TUNNEL_CHECK_PING.length + 6)}`, rinfo.port, rinfo.address);
      } else if (text.startsWith(`${TUNNEL_CHECK_PING} pong `)) {
        this.waiting.get(text.slice(TUNNEL_CHECK_PING.length + 6))?.(rinfo.address);
      }
    });
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://agent.invalid');
      if (url.pathname === '/healthz') return void res.end('ok');
      if (url.pathname !== TUNNEL_CHECK_PATH) {
        res.writeHead(404);
        return void res.end('not found');
      }
      const timeoutMs = Math.min(10_000, Number(url.searchParams.get('timeoutMs')) || (this.opts.timeoutMs ?? 1000));
      void this.check(parseTargets(url.searchParams.get('targets')), timeoutMs).then((doc) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(doc));
      });
    });
  }

  /** Binds the UDP port (fails when something holds it: that is a finding too) and the HTTP port. */
  async listen(): Promise<{ udp: AddressInfo; http: AddressInfo }> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.opts.port, this.opts.host ?? '0.0.0.0', () => resolve());
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.httpPort, this.opts.host ?? '0.0.0.0', () => resolve());
    });
    return { udp: this.socket.address(), http: this.server.address() as AddressInfo };
  }

  /** One datagram to each target's port; a target that does not answer in time is reported so. */
  async check(targets: readonly TunnelTarget[], timeoutMs: number): Promise<TunnelCheckDocument> {
    const results = await Promise.all(
      targets.map(
        (t) =>
          new Promise<TunnelCheckDocument['results'][number]>((resolve) => {
            const id = `${process.pid}-${this.seq++}`;
            const timer = setTimeout(() => {
              this.waiting.delete(id);
              resolve({ node: t.node, ip: t.ip, ok: false, detail: `no answer on UDP ${this.opts.port} within ${timeoutMs} ms` });
            }, timeoutMs);
            this.waiting.set(id, () => {
              clearTimeout(timer);
              this.waiting.delete(id);
              resolve({ node: t.node, ip: t.ip, ok: true });
            });
            this.socket.send(`${TUNNEL_CHECK_PING} ping ${id}`, this.opts.port, t.ip, (err) => {
              if (!err) return;
              clearTimeout(timer);
              this.waiting.delete(id);
              resolve({ node: t.node, ip: t.ip, ok: false, detail: `cannot send: ${err.message}` });
            });
          }),
      ),
    );
    return { node: this.opts.node, port: this.opts.port, results };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
