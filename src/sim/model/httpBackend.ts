/**
 * ClusterBackend over the Kubernetes REST API (HTTPS with client certificates or a bearer token,
 * or plain HTTP), so the node/CNI model can act as the kubelet of simulated nodes against a real
 * control plane (e2e) — or against the simulator's own HTTP server. node:http(s) only: this module
 * must not depend on @kubernetes/client-node (one module owns that dependency).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ClusterBackend } from './clusterBackend.js';

/** How to reach and authenticate to an API server. */
export interface HttpBackendConfig {
  /** https://host:port or http://host:port (no trailing path). */
  server: string;
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** Timeout of every non-watch request (ms); 30 s by default. */
  requestTimeoutMs?: number;
  /** Diagnostics (watch reconnects, relists, handler errors). */
  log?: (line: string) => void;
  /** User-Agent (the field manager kube-apiserver records); "cni-migration-sim-kubelet" by default. */
  userAgent?: string;
}

/** A non-2xx answer (or a transport failure, status 0) from the API server. */
export class HttpBackendError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string | undefined,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'HttpBackendError';
  }
}

/** A resource key resolved through discovery. */
export interface ResolvedResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** apiVersion of its objects ("v1", "apps/v1"). */
  apiVersion: string;
  /** "/api/v1" or "/apis/{group}/{version}". */
  base: string;
}

/** Versions of groups that never need discovery. */
const KNOWN_GROUP_VERSIONS: Record<string, string> = {
  '': 'v1',
  apps: 'v1',
  'coordination.k8s.io': 'v1',
  policy: 'v1',
  'rbac.authorization.k8s.io': 'v1',
  'apiextensions.k8s.io': 'v1',
  'discovery.k8s.io': 'v1',
  'events.k8s.io': 'v1',
  batch: 'v1',
};

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** Transport failures worth retrying (the server restarting or busy); TLS and auth failures are not. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** Whether an error is worth retrying: 429/5xx answers and connection failures. */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof HttpBackendError)) return false;
  if (e.status === 0) return TRANSIENT_CODES.has((e as { code?: string }).code ?? '');
  return RETRYABLE_STATUS.has(e.status);
}

/** ClusterBackend over HTTP(S). Call close() to end every watch and free the sockets. */
export class HttpBackend implements ClusterBackend {
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;
  private readonly groupVersions = new Map<string, string>();
  private readonly resolved = new Map<string, ResolvedResource>();
  private readonly watches = new Set<WatchLoop>();
  /** Per-object queues: writes to one object reach the server in the order they were issued. */
  private readonly writeQueues = new Map<string, Promise<unknown>>();
  private readonly server: URL;
  private closed = false;

  constructor(private readonly cfg: HttpBackendConfig) {
    this.server = new URL(cfg.server);
    if (this.server.protocol === 'https:') {
      this.mod = https;
      this.agent = new https.Agent({
        keepAlive: true,
        ...(cfg.ca !== undefined ? { ca: cfg.ca } : {}),
        ...(cfg.cert !== undefined ? { cert: cfg.cert } : {}),
        ...(cfg.key !== undefined ? { key: cfg.key } : {}),
        rejectUnauthorized: cfg.insecureSkipTLSVerify !== true,
      });
    } else {
      this.mod = http;
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /** A backend for the current context of a kubeconfig file (client certs/keys, CA, token; inline or by path). */
  static fromKubeconfig(path: string, opts: Pick<HttpBackendConfig, 'requestTimeoutMs' | 'log' | 'userAgent'> = {}): HttpBackend {
    return new HttpBackend({ ...kubeconfigCredentials(path), ...opts });
  }

  /** Lists, then watches from the list's resourceVersion; reconnects when the stream ends and relists on 410 Gone. */
  async watch(resource: string, handler: (event: WatchEvent) => void): Promise<() => void> {
    const loop = new WatchLoop(this, resource, handler, this.cfg.log ?? (() => {}));
    this.watches.add(loop);
    try {
      await loop.start();
    } catch (e) {
      loop.stop();
      this.watches.delete(loop);
      throw e;
    }
    return () => {
      loop.stop();
      this.watches.delete(loop);
    };
  }

  async get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const r = await this.resolve(resource);
    try {
      return withType(r, (await this.requestJson('GET', this.path(r, namespace, name))) as KubeObject);
    } catch (e) {
      if (e instanceof HttpBackendError && e.status === 404) return undefined;
      throw e;
    }
  }

  async list(resource: string, namespace?: string): Promise<KubeObject[]> {
    return (await this.listWithVersion(resource, namespace)).items;
  }

  /** A list with its resourceVersion (what a watch resumes from). */
  async listWithVersion(resource: string, namespace?: string): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const r = await this.resolve(resource);
    const list = (await this.requestJson('GET', this.path(r, namespace))) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
    return { items: (list.items ?? []).map((o) => withType(r, o)), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async create(resource: string, obj: KubeObject): Promise<KubeObject> {
    const r = await this.resolve(resource);
    const ns = r.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    return withType(r, (await this.inOrder(resource, ns, obj.metadata.name, () => this.requestJson('POST', this.path(r, ns), obj))) as KubeObject);
  }

  async patch(resource: string, namespace: string | undefined, name: string, mergePatch: object): Promise<void> {
    const r = await this.resolve(resource);
    await this.inOrder(resource, namespace, name, () => this.requestJson('PATCH', this.path(r, namespace, name), mergePatch, 'application/merge-patch+json'));
  }

  async patchStatus(resource: string, namespace: string | undefined, name: string, status: object): Promise<void> {
    const r = await this.resolve(resource);
    await this.inOrder(resource, namespace, name, () => this.requestJson('PATCH', `${this.path(r, namespace, name)}/status`, { status }, 'application/merge-patch+json'));
  }

  /**
   * DELETE with DeleteOptions. The grace period defaults to 0 (immediate), as InProcessBackend does;
   * 404 and a failed uid precondition (409) are ignored.
   */
  async delete(resource: string, namespace: string | undefined, name: string, opts: { gracePeriodSeconds?: number; uid?: string } = {}): Promise<void> {
    const r = await this.resolve(resource);
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: opts.gracePeriodSeconds ?? 0,
      ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
    };
    try {
      await this.inOrder(resource, namespace, name, () => this.requestJson('DELETE', this.path(r, namespace, name), body));
    } catch (e) {
      if (e instanceof HttpBackendError && (e.status === 404 || (e.status === 409 && opts.uid !== undefined))) return;
      throw e;
    }
  }

  /**
   * Runs a write after the earlier writes to the same object have completed. Without this, two
   * status patches issued 20 ms apart (Running, then Ready) can travel on two keep-alive sockets and
   * be applied in the opposite order, leaving the pod not Ready; the in-process store applies them
   * in order, and so must we.
   */
  private inOrder<T>(resource: string, namespace: string | undefined, name: string | undefined, write: () => Promise<T>): Promise<T> {
    if (!name) return write();
    const key = `${resource}/${namespace ?? ''}/${name}`;
    const prev = this.writeQueues.get(key) ?? Promise.resolve();
    const next = prev.then(write, write);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.writeQueues.set(key, settled);
    void settled.then(() => {
      if (this.writeQueues.get(key) === settled) this.writeQueues.delete(key);
    });
    return next;
  }

  /** Ends every watch and closes idle sockets. */
  close(): void {
    this.closed = true;
    for (const w of this.watches) w.stop();
    this.watches.clear();
    this.agent.destroy();
  }

  /** Resolves a resource key ("pods", "apps/daemonsets", "k8s.cni.cncf.io/network-attachment-definitions") through discovery. */
  async resolve(resource: string): Promise<ResolvedResource> {
    const cached = this.resolved.get(resource);
    if (cached) return cached;
    const slash = resource.lastIndexOf('/');
    const group = slash < 0 ? '' : resource.slice(0, slash);
    const plural = slash < 0 ? resource : resource.slice(slash + 1);
    const version = await this.groupVersion(group);
    const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    const list = (await this.requestJson('GET', base)) as { resources?: { name: string; namespaced: boolean; kind: string }[] };
    const entry = (list.resources ?? []).find((e) => e.name === plural);
    if (!entry) throw new HttpBackendError(`the server does not serve ${plural} in ${base}`, 404, 'NotFound', undefined);
    const r: ResolvedResource = { group, version, plural, kind: entry.kind, namespaced: entry.namespaced, apiVersion: group === '' ? version : `${group}/${version}`, base };
    this.resolved.set(resource, r);
    return r;
  }

  /** Forgets a resolved resource (its CRD may have gone or changed version). */
  forget(resource: string): void {
    this.resolved.delete(resource);
    const slash = resource.lastIndexOf('/');
    if (slash >= 0 && !(resource.slice(0, slash) in KNOWN_GROUP_VERSIONS)) this.groupVersions.delete(resource.slice(0, slash));
  }

  /** Collection or object path of a resolved resource. */
  path(r: ResolvedResource, namespace: string | undefined, name?: string): string {
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${r.base}${ns}/${r.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  /** One JSON request; retries transport failures, 429 and 503 a few times; throws HttpBackendError on any other non-2xx. */
  async requestJson(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { status, text } = await this.send(method, path, body, contentType);
        const json = parseJson(text);
        if (status >= 200 && status < 300) return json;
        const st = (json ?? {}) as { message?: string; reason?: string };
        throw new HttpBackendError(`${method} ${path}: ${status} ${st.message ?? text.slice(0, 300)}`, status, st.reason, json);
      } catch (e) {
        const status = e instanceof HttpBackendError ? e.status : 0;
        // A POST that may have reached the server is not repeated (it could create twice).
        const safe = method !== 'POST' || (e as { code?: string }).code === 'ECONNREFUSED' || status === 429;
        if (this.closed || attempt >= 4 || !isTransient(e) || !safe) throw e;
        await sleep(200 * attempt);
      }
    }
  }

  /** Starts a streaming GET (watch); the caller owns the response. */
  openStream(path: string, onResponse: (res: http.IncomingMessage) => void, onError: (e: Error) => void): http.ClientRequest {
    const req = this.mod.request(this.url(path), { method: 'GET', agent: this.agent, headers: this.headers('application/json') }, onResponse);
    req.on('error', onError);
    req.end();
    return req;
  }

  private send(method: string, path: string, body: unknown, contentType: string): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = this.mod.request(
        this.url(path),
        {
          method,
          agent: this.agent,
          timeout: this.cfg.requestTimeoutMs ?? 30_000,
          headers: { ...this.headers(contentType), ...(payload !== undefined ? { 'Content-Length': Buffer.byteLength(payload) } : {}) },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          r.on('error', (e) => rej(transportError(method, path, e)));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`timed out after ${this.cfg.requestTimeoutMs ?? 30_000} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => rej(transportError(method, path, e)));
      req.end(payload);
    });
  }

  private url(path: string): URL {
    return new URL(path, this.server);
  }

  private headers(contentType: string): Record<string, string> {
    return {
      Accept: 'application/json',
      'Content-Type': contentType,
      'User-Agent': this.cfg.userAgent ?? 'cni-migration-sim-kubelet',
      ...(this.cfg.token ? { Authorization: `Bearer ${this.cfg.token}` } : {}),
    };
  }

  private async groupVersion(group: string): Promise<string> {
    const known = KNOWN_GROUP_VERSIONS[group] ?? this.groupVersions.get(group);
    if (known) return known;
    const doc = (await this.requestJson('GET', `/apis/${group}`)) as { preferredVersion?: { version?: string }; versions?: { version: string }[] };
    const v = doc.preferredVersion?.version ?? doc.versions?.[0]?.version;
    if (!v) throw new HttpBackendError(`the server serves no version of API group ${group}`, 404, 'NotFound', doc);
    this.groupVersions.set(group, v);
    return v;
  }
}

type Backoff = { next(): number; reset(): void };

function backoff(minMs: number, maxMs: number): Backoff {
  let cur = minMs;
  return {
    next: () => {
      const v = cur;
      cur = Math.min(maxMs, cur * 2);
      return v;
    },
    reset: () => {
      cur = minMs;
    },
  };
}

/**
 * One list+watch, informer style: ADDED for every listed object, then the stream's events; on a
 * closed stream it resumes from the last resourceVersion seen (bookmarks included); on 410 Gone it
 * relists and turns the difference into events. A resource the server does not serve yet (a CRD
 * not applied) is polled until it appears; when it disappears its objects are reported DELETED.
 */
class WatchLoop {
  private readonly known = new Map<string, KubeObject>();
  private rv = '';
  private stopped = false;
  private current: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly retry = backoff(250, 5_000);

  constructor(
    private readonly backend: HttpBackend,
    private readonly resource: string,
    private readonly handler: (event: WatchEvent) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Delivers the initial list (or finds the resource not served yet), then keeps watching in the background. */
  async start(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const present = await this.relist();
        this.schedule(present ? 0 : 1_000);
        return;
      } catch (e) {
        if (Date.now() > deadline || !isTransient(e)) throw e;
        await sleep(this.retry.next());
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.current?.destroy();
    this.current = undefined;
  }

  private schedule(delayMs: number, relist = false): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.cycle(relist);
    }, delayMs);
  }

  private async cycle(relist: boolean): Promise<void> {
    if (this.stopped) return;
    if (relist || this.rv === '') {
      try {
        const present = await this.relist();
        if (!present) return this.schedule(1_000, true);
      } catch (e) {
        this.log(`watch ${this.resource}: relist failed: ${errText(e)}`);
        return this.schedule(this.retry.next(), true);
      }
    }
    this.stream();
  }

  /** Lists and reconciles the known objects with events; false when the resource is not served. */
  private async relist(): Promise<boolean> {
    let list: { items: KubeObject[]; resourceVersion: string };
    try {
      list = await this.backend.listWithVersion(this.resource);
    } catch (e) {
      if (!(e instanceof HttpBackendError) || e.status !== 404) throw e;
      this.backend.forget(this.resource);
      for (const [key, obj] of this.known) {
        this.known.delete(key);
        this.emit({ type: 'DELETED', resource: this.resource, object: obj });
      }
      this.rv = '';
      return false;
    }
    if (this.stopped) return true;
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.known.get(key);
      this.known.set(key, obj);
      if (!old) this.emit({ type: 'ADDED', resource: this.resource, object: obj });
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit({ type: 'MODIFIED', resource: this.resource, object: obj, oldObject: old });
    }
    for (const [key, obj] of this.known) {
      if (seen.has(key)) continue;
      this.known.delete(key);
      this.emit({ type: 'DELETED', resource: this.resource, object: obj });
    }
    this.rv = list.resourceVersion;
    return true;
  }

  private stream(): void {
    if (this.stopped) return;
    const timeoutSeconds = 240 + Math.floor(Math.random() * 60);
    this.backend
      .resolve(this.resource)
      .then((r) => {
        if (this.stopped) return;
        const path = `${this.backend.path(r, undefined)}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.rv)}&timeoutSeconds=${timeoutSeconds}`;
        let ended = false;
        let relist = false;
        const finish = (why: string | undefined, delayMs: number) => {
          if (ended) return;
          ended = true;
          this.current = undefined;
          if (why && !this.stopped) this.log(`watch ${this.resource}: ${why}`);
          this.schedule(delayMs, relist);
        };
        const req = this.backend.openStream(
          path,
          (res) => {
            if (res.statusCode !== 200) {
              relist = res.statusCode === 410 || res.statusCode === 404;
              res.resume();
              finish(`HTTP ${res.statusCode}${relist ? ', relisting' : ''}`, relist ? 0 : this.retry.next());
              return;
            }
            this.retry.reset();
            res.setEncoding('utf8');
            let buf = '';
            res.on('data', (chunk: string) => {
              buf += chunk;
              let nl: number;
              while ((nl = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                const verdict = line ? this.onLine(line) : undefined;
                if (verdict) {
                  relist = true;
                  req.destroy();
                  finish(`${verdict}, relisting`, 0);
                  return;
                }
              }
            });
            res.on('end', () => finish(undefined, 0));
            res.on('error', (e) => finish(`stream error: ${errText(e)}`, this.retry.next()));
            res.on('close', () => finish(undefined, 0));
          },
          (e) => finish(`${errText(e)}; reconnecting`, this.retry.next()),
        );
        // A dead peer that never resets the connection: give up well after the server's own timeout.
        req.setTimeout((timeoutSeconds + 60) * 1000, () => req.destroy(new Error('watch idle timeout')));
        this.current = req;
      })
      .catch((e: unknown) => {
        const gone = e instanceof HttpBackendError && e.status === 404;
        this.log(`watch ${this.resource}: ${errText(e)}`);
        this.schedule(gone ? 1_000 : this.retry.next(), true);
      });
  }

  /** Handles one watch line; returns why to relist (the resourceVersion is too old, or another error event). */
  private onLine(line: string): string | undefined {
    let ev: { type?: string; object?: KubeObject & { code?: number; message?: string } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      this.log(`watch ${this.resource}: unparsable line ${line.slice(0, 200)}`);
      return undefined;
    }
    const obj = ev.object;
    if (!obj) return undefined;
    if (ev.type === 'ERROR') return `error event ${obj.code ?? ''} ${obj.message ?? ''}`.trim();
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return undefined;
    if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') return undefined;
    const key = keyOf(obj);
    const old = this.known.get(key);
    if (ev.type === 'DELETED') this.known.delete(key);
    else this.known.set(key, obj);
    // After a reconnect the server may repeat an object we know in that version: not a change.
    if (ev.type !== 'DELETED' && old?.metadata.resourceVersion === rv) return undefined;
    const type = ev.type === 'DELETED' ? 'DELETED' : old ? 'MODIFIED' : 'ADDED';
    this.emit({ type, resource: this.resource, object: obj, ...(type === 'MODIFIED' && old ? { oldObject: old } : {}) });
    return undefined;
  }

  private emit(ev: WatchEvent): void {
    if (this.stopped) return;
    try {
      this.handler(ev);
    } catch (e) {
      this.log(`watch ${this.resource}: handler failed on ${ev.type} ${keyOf(ev.object)}: ${errText(e)}`);
    }
  }
}

/** Server, CA, client certificate/key or token of a kubeconfig's current context. */
export function kubeconfigCredentials(path: string): HttpBackendConfig {
  const doc = parseYaml(readFileSync(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string; user?: string } }[];
    clusters?: { name: string; cluster: Record<string, unknown> }[];
    users?: { name: string; user: Record<string, unknown> }[];
  };
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context']) ?? doc.contexts?.[0];
  if (!ctx) throw new Error(`kubeconfig ${path} has no context`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${path}: cluster ${ctx.context.cluster} has no server`);
  const user = doc.users?.find((u) => u.name === ctx.context.user)?.user ?? {};
  const dir = dirname(path);
  const material = (data: unknown, file: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    if (typeof file === 'string' && file) return readFileSync(isAbsolute(file) ? file : resolvePath(dir, file));
    return undefined;
  };
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  const tokenFile = user.tokenFile;
  const token = typeof user.token === 'string' ? user.token : typeof tokenFile === 'string' ? readFileSync(isAbsolute(tokenFile) ? tokenFile : resolvePath(dir, tokenFile), 'utf8').trim() : undefined;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecureSkipTLSVerify: true } : {}),
  };
}

/** List items come without apiVersion/kind from kube-apiserver; the model expects them set. */
function withType(r: ResolvedResource, o: KubeObject): KubeObject {
  if (!o.apiVersion) o.apiVersion = r.apiVersion;
  if (!o.kind) o.kind = r.kind;
  return o;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function transportError(method: string, path: string, e: Error): HttpBackendError {
  const err = new HttpBackendError(`${method} ${path}: ${e.message}`, 0, (e as { code?: string }).code, undefined);
  return Object.assign(err, { code: (e as { code?: string }).code });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
