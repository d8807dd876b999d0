/**
 * A scripted HTTP server for contract tests of the real ClusterClient: each test says how to
 * answer, and every request (method, path, query, headers, body) is recorded for assertions.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How to answer one request; `hang` never answers (timeouts), `reset` drops the connection. */
export type ScriptedResponse = { status: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'hang' | 'reset';

/** A local API server stand-in at `url`. */
export class TestApiServer {
  readonly requests: RecordedRequest[] = [];
  private server!: http.Server;
  url = '';

  private constructor(private handler: (r: RecordedRequest) => ScriptedResponse) {}

  /** Starts on a free port of 127.0.0.1 (or on `port`, to come back where a stopped one was). */
  static async start(handler: (r: RecordedRequest) => ScriptedResponse = () => ({ status: 404, text: '404 page not found\n' }), port = 0): Promise<TestApiServer> {
    const s = new TestApiServer(handler);
    s.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const rec: RecordedRequest = {
          method: req.method ?? '',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        s.requests.push(rec);
        const out = s.handler(rec);
        if (out === 'hang') return;
        if (out === 'reset') return void req.socket.destroy();
        const body = out.json !== undefined ? JSON.stringify(out.json) : (out.text ?? '');
        res.writeHead(out.status, { 'Content-Type': out.json !== undefined ? 'application/json' : 'text/plain', ...(out.headers ?? {}) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => s.server.listen(port, '127.0.0.1', () => resolve()));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** Replaces the answering function. */
  respond(handler: (r: RecordedRequest) => ScriptedResponse): void {
    this.handler = handler;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A kubeconfig for `server` with a bearer token. */
export function tokenKubeconfig(server: string, token: string, extra: { namespace?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c1',
    '  cluster:',
    `    server: ${server}`,
    'users:',
    '- name: u1',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: ctx1',
    '  context:',
    '    cluster: c1',
    '    user: u1',
    ...(extra.namespace ? [`    namespace: ${extra.namespace}`] : []),
    'current-context: ctx1',
    '',
  ].join('\n');
}

/** A v1.Status error body. */
export function statusBody(code: number, reason: string, message: string, causes?: { reason: string; message: string }[]): unknown {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, ...(causes ? { details: { causes } } : {}) };
}
