/**
 * ProbeTransport over real sockets (node:http): every probe opens a new TCP connection, so a
 * probe proves connection set-up works, not just an old connection. A long-lived flow is one
 * GET /flow whose answer never ends: the peer writes a heartbeat line every second and "bye"
 * when its agent shuts down, so a cut shows up as an error, an end without goodbye, or silence.
 */
import http from 'node:http';
import type { FlowCut, HttpGetResult, OpenFlowResult, ProbeFlow, ProbeTransport, TransportFailure } from './probeTypes.js';

/** The streaming endpoint of long-lived flows. */
export const FLOW_PATH = '/flow';
/** The line a shutting-down agent writes on its flows before closing them. */
export const FLOW_GOODBYE = 'bye';

/** Tunables of the node transport. */
export interface NodeTransportOptions {
  /** Who is asking (sent as ?from=, shown in the peer's logs). */
  from: string;
  /** A flow silent this long counts as cut (default 5 s: five missed heartbeats). */
  flowIdleTimeoutMs?: number;
}

/** The transport a probe agent uses inside a pod. */
export class NodeTransport implements ProbeTransport {
  constructor(private readonly opts: NodeTransportOptions) {}

  httpGet(ip: string, port: number, path: string, timeoutMs: number): Promise<HttpGetResult> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: HttpGetResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = http.request({ host: ip, port, path, method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => done({ kind: 'response', status: res.statusCode ?? 0, body }));
        res.on('error', (e) => done(failureOf(e)));
      });
      const timer = setTimeout(() => {
        done({ kind: 'failure', failure: 'timeout', message: `no answer from ${ip}:${port} within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => done(failureOf(e)));
      req.end();
    });
  }

  openFlow(ip: string, port: number, timeoutMs: number): Promise<OpenFlowResult> {
    return new Promise((resolve) => {
      let settled = false;
      const fail = (r: { failure: TransportFailure; message: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve({ ok: false, ...r });
      };
      const req = http.request({ host: ip, port, path: `${FLOW_PATH}?from=${encodeURIComponent(this.opts.from)}`, method: 'GET', agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return fail({ failure: 'error', message: `HTTP ${res.statusCode ?? 0} from ${ip}:${port}${FLOW_PATH}` });
        }
        settled = true;
        clearTimeout(timer);
        req.socket?.setKeepAlive(true, 1000);
        resolve({ ok: true, flow: new NodeFlow(req, res, this.opts.flowIdleTimeoutMs ?? 5000, `${ip}:${port}`) });
      });
      const timer = setTimeout(() => fail({ failure: 'timeout', message: `no answer from ${ip}:${port} within ${timeoutMs} ms` }), timeoutMs);
      req.on('error', (e) => {
        const f = failureOf(e);
        if (f.kind === 'failure') fail(f);
      });
      req.end();
    });
  }
}

class NodeFlow implements ProbeFlow {
  private listener: ((cut: FlowCut) => void) | undefined;
  private pending: FlowCut | undefined;
  private ended = false;
  private goodbye = false;
  private buffered = '';
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly req: http.ClientRequest,
    res: http.IncomingMessage,
    private readonly idleTimeoutMs: number,
    private readonly where: string,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.onData(chunk));
    res.on('end', () => this.cut(this.goodbye ? { cause: 'peer-closed', message: `${where} said goodbye` } : { cause: 'closed', message: `${where} closed the connection without a goodbye` }));
    res.on('error', (e) => this.cut(cutOf(e, where)));
    req.on('error', (e) => this.cut(cutOf(e, where)));
    this.armIdle();
  }

  onBroken(listener: (cut: FlowCut) => void): void {
    this.listener = listener;
    if (this.pending) listener(this.pending);
  }

  close(): void {
    this.ended = true;
    clearTimeout(this.idle);
    this.req.destroy();
  }

  private onData(chunk: string): void {
    this.armIdle();
    this.buffered += chunk;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop() ?? '';
    if (lines.some((l) => l.trim() === FLOW_GOODBYE)) this.goodbye = true;
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.cut({ cause: 'timeout', message: `${this.where} silent for ${this.idleTimeoutMs} ms` }), this.idleTimeoutMs);
  }

  private cut(c: FlowCut): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idle);
    this.req.destroy();
    if (this.listener) this.listener(c);
    else this.pending = c;
  }
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function failureKind(code: string | undefined): TransportFailure {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'error';
  }
}

function failureOf(e: unknown): HttpGetResult {
  const message = e instanceof Error ? e.message : String(e);
  return { kind: 'failure', failure: failureKind(codeOf(e)), message };
}

function cutOf(e: unknown, where: string): FlowCut {
  return { cause: failureKind(codeOf(e)), message: `${where}: ${e instanceof Error ? e.message : String(e)}` };
}
