/**
 * Raw HTTP(S) requests to the API server with the kubeconfig's credentials and TLS settings.
 * Used for every call instead of client-node's generated methods: those send plain-object patches
 * as JSON Patch, drop fields their models do not know (SSA bodies, CRD schemas), mangle proxy
 * paths, and have no per-request timeout. No client-node import: credentials come in through
 * `applyAuth` (KubeConfig.applyToHTTPSOptions).
 */
import http from 'node:http';
import https from 'node:https';
import { ClusterUnreachableError, KubeApiError, KubeCredentialsError, KubeRequestTimeoutError, statusFromResponse } from './kubeErrors.js';
import { DEFAULT_RETRY_POLICY, retryVerdict, withAttemptsNoted, type RetryNotice, type RetryPolicy } from './requestRetry.js';

/** Fills request options with the kubeconfig's auth headers and TLS material. */
export type ApplyAuth = (opts: https.RequestOptions) => Promise<void>;

/** How to reach one API server. */
export interface HttpTransportOptions {
  /** Server URL from the kubeconfig (may carry a path prefix). */
  server: string;
  applyAuth: ApplyAuth;
  /** Default per-request timeout. */
  timeoutMs: number;
  /** Use the agent applyAuth builds (needed for proxy-url); otherwise keep-alive agents of our own. */
  useAuthAgent?: boolean;
  /** User name, for credential error messages. */
  user?: string | undefined;
  userAgent?: string;
  /** Retries of transient failures in `json` (default DEFAULT_RETRY_POLICY; attempts 1 turns them off). */
  retry?: RetryPolicy | undefined;
  /** Told before each retry. */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
  /** Told after each request with what it was and how it went (debug logs); never headers or bodies. */
  onExchange?: ((e: ExchangeNotice) => void) | undefined;
  /** Waits between attempts (tests pass a virtual clock). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  now?: (() => number) | undefined;
  random?: (() => number) | undefined;
}

/** One finished request, for debug logs: no headers, no bodies (they may hold credentials or data). */
export interface ExchangeNotice {
  method: string;
  path: string;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  ms: number;
  bytes: number;
  error?: string | undefined;
}

/** One request. `path` starts with "/" and is appended to the server URL. */
export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: string | undefined;
  contentType?: string | undefined;
  accept?: string | undefined;
  timeoutMs?: number | undefined;
}

/** A complete response. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

const TLS_OPTION_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/** Sends requests to one API server; every request has a timeout and maps failures to typed errors. */
export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly base: string;
  /** Whether the server has answered anything yet (a refused connection then means a restart). */
  private answered = false;

  constructor(private readonly opts: HttpTransportOptions) {
    this.base = opts.server.replace(/\/+$/, '');
  }

  /** The server URL requests go to. */
  get server(): string {
    return this.base;
  }

  /** Sends one request and reads the whole body; throws only when no HTTP answer arrives. */
  async request(req: RawRequest): Promise<RawResponse> {
    const { url, options, what } = await this.prepare(req);
    options.headers = { ...options.headers, ...(req.body !== undefined ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(req.body) } : {}) };
    const t0 = performance.now();
    const tell = this.opts.onExchange;
    try {
      const res = await this.send(url, options, req.body, req.timeoutMs ?? this.opts.timeoutMs, what);
      this.answered = true;
      tell?.({ method: req.method, path: req.path, status: res.status, ms: Math.round(performance.now() - t0), bytes: Buffer.byteLength(res.text) });
      return res;
    } catch (e) {
      tell?.({ method: req.method, path: req.path, status: 0, ms: Math.round(performance.now() - t0), bytes: 0, error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  /**
   * Streams a response line by line (a watch): resolves when the server ends it or `signal`
   * aborts, rejects when no answer arrives within the request timeout or the connection fails.
   * A non-2xx answer becomes KubeApiError.
   */
  async stream(req: RawRequest, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const { url, options, what } = await this.prepare(req);
    const lib = url.protocol === 'http:' ? http : https;
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const request = lib.request(url, options, (res) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => finish(() => reject(this.apiError(req, { status, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line && !settled) onLine(line);
          }
        });
        res.on('end', () => finish(() => resolve()));
        res.on('error', (e) => finish(() => (signal?.aborted ? resolve() : reject(this.connectionError(e)))));
        // A connection dropped mid-stream may end with neither: the stream is over all the same.
        res.on('close', () => finish(() => resolve()));
      });
      const onAbort = () => {
        finish(() => resolve());
        request.destroy();
      };
      const timer = setTimeout(() => {
        finish(() => reject(new KubeRequestTimeoutError(this.base, what, timeoutMs)));
        request.destroy();
      }, timeoutMs);
      request.on('error', (e) => finish(() => (signal?.aborted ? resolve() : reject(this.connectionError(e)))));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      request.end();
    });
  }

  /** Sends a request and parses a JSON answer; non-2xx answers become KubeApiError. */
  async json<T>(req: RawRequest): Promise<T> {
    const policy = this.opts.retry ?? DEFAULT_RETRY_POLICY;
    const now = this.opts.now ?? Date.now;
    const started = now();
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.request(req);
        if (res.status < 200 || res.status > 299) throw this.apiError(req, res);
        return (res.text ? JSON.parse(res.text) : {}) as T;
      } catch (e) {
        const v = retryVerdict({ error: e, attempt, answeredBefore: this.answered }, policy, this.opts.random);
        if (!v.retry) throw withAttemptsNoted(e, attempt, now() - started);
        this.opts.onRetry?.({ request: `${req.method} ${req.path}`, attempt, attempts: policy.attempts, delayMs: v.delayMs, why: v.why, message: e instanceof Error ? e.message : String(e) });
        await (this.opts.sleep ?? defaultSleep)(v.delayMs);
      }
    }
  }

  /** The typed error for a non-2xx answer. */
  apiError(req: RawRequest, res: RawResponse): KubeApiError {
    const retryAfter = res.headers['retry-after'];
    return new KubeApiError(statusFromResponse(res.status, res.text, typeof retryAfter === 'string' ? retryAfter : undefined), `${req.method} ${req.path}`);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** URL, headers and credentials of a request, without its body. */
  private async prepare(req: RawRequest): Promise<{ url: URL; options: https.RequestOptions; what: string }> {
    const url = new URL(this.base + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: https.RequestOptions = { method: req.method, headers: { Accept: req.accept ?? 'application/json', 'User-Agent': this.opts.userAgent ?? 'cni-migration' } };
    try {
      await this.opts.applyAuth(options);
    } catch (e) {
      throw new KubeCredentialsError(this.base, this.opts.user, redactSecrets(e instanceof Error ? e.message : String(e)), { cause: e });
    }
    if (!this.opts.useAuthAgent) options.agent = url.protocol === 'http:' ? this.httpAgent : this.httpsAgent;
    if (url.protocol === 'http:') for (const k of TLS_OPTION_KEYS) delete options[k];
    return { url, options, what: `${req.method} ${url.pathname}` };
  }

  private send(url: URL, options: https.RequestOptions, body: string | undefined, timeoutMs: number, what: string): Promise<RawResponse> {
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const req = lib.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', (e) => finish(() => reject(this.connectionError(e))));
      });
      const timer = setTimeout(() => {
        finish(() => reject(new KubeRequestTimeoutError(this.base, what, timeoutMs)));
        req.destroy();
      }, timeoutMs);
      req.on('error', (e) => finish(() => reject(this.connectionError(e))));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private connectionError(e: Error): ClusterUnreachableError {
    const code = (e as NodeJS.ErrnoException).code;
    return new ClusterUnreachableError(this.base, code, redactSecrets(e.message), { cause: e });
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Removes bearer tokens, token fields and PEM blocks from text that may end up in a message. */
export function redactSecrets(text: string): string {
  return text
    .replace(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g, '<redacted PEM>')
    .replace(/(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 <redacted>')
    .replace(/("?(?:token|access-token|id-token|refresh-token|password|client-key-data)"?\s*[:=]\s*)"?[^"\s,}]+"?/gi, '$1<redacted>');
}
