import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, internalError, methodNotAllowed } from './apiError.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { openApiV3GroupVersion, openApiV3Root } from './openapi.js';
import { decodeKubeProtobuf, isKubeProtobuf } from './protobufBody.js';
import { parseRequestPath, type RequestInfo } from './requestInfo.js';
import { resourceKey, type ResourceRegistry } from './resourceRegistry.js';
import { ResourceHandlers, type ApiServerHooks } from './resourceHandlers.js';
import { isForbidden, pickFault } from './faults.js';
import type { ObjectStore } from '../store/objectStore.js';
import type { ForbiddenRuleSettings, SettingsHolder } from '../simSettings.js';
import type { ServingCert } from './servingCert.js';
import { meterResponse, RequestStats } from './requestStats.js';

/** A response from a handler: JSON (default), text, or a streaming watch that the handler writes itself. */
export interface ApiResponse {
  status: number;
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The parts of an HTTP request handlers use. */
export interface ApiRequest {
  method: string;
  info: RequestInfo;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed body (JSON, or YAML for apply patches); throws 400 on malformed input. */
  body(): unknown;
  res: http.ServerResponse;
  req: http.IncomingMessage;
}

/** Extra non-resource routes (the simulator's own debug endpoints such as /sim/v1/groundtruth). */
export type ExtraRoute = (path: string, req: ApiRequest) => Promise<ApiResponse | undefined> | ApiResponse | undefined;

export interface ApiServerOptions {
  store: ObjectStore;
  registry: ResourceRegistry;
  settings: SettingsHolder;
  hooks?: ApiServerHooks;
  /** Bearer token clients must present; no auth when omitted. */
  token?: string;
  extraRoutes?: ExtraRoute[];
  log?: (line: string) => void;
  /** Serve HTTPS with this certificate; plain HTTP when omitted. */
  tls?: ServingCert;
}

/** Request counters by "VERB resource", for benchmarks and tests. */
export type RequestCounts = Map<string, number>;

/**
 * The simulated kube-apiserver: an HTTP server on 127.0.0.1 that speaks the Kubernetes REST API
 * for what kubectl and client-node use. All state lives in the ObjectStore.
 */
export class SimApiServer {
  private server: http.Server | https.Server | undefined;
  private readonly handlers: ResourceHandlers;
  readonly requestCounts: RequestCounts = new Map();
  /** Latency and bytes of every answer but watches (benchmarks). */
  readonly requestStats = new RequestStats();
  /** Faults injected, by "<code|reset|cut> <verb> <resource>": what a test under faults was really put through. */
  readonly faultCounts: RequestCounts = new Map();
  private readonly openResponses = new Set<http.ServerResponse>();
  private listening: { port: number; host: string } | undefined;

  constructor(private readonly opts: ApiServerOptions) {
    this.handlers = new ResourceHandlers(opts.store, opts.registry, opts.hooks ?? {});
  }

  /** Adds a non-resource route (checked after the built-in ones). */
  addRoute(route: ExtraRoute): void {
    (this.opts.extraRoutes ??= []).push(route);
  }

  /** Starts listening; port 0 picks a free port. Resolves with the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
      void this.handle(req, res);
    };
    const tls = this.opts.tls;
    const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener);
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    this.listening = { port: addr.port, host };
    return `${tls ? 'https' : 'http'}://${host}:${addr.port}`;
  }

  /**
   * Goes away and comes back on the same address, as kube-apiserver does when it restarts: open
   * requests and watches are cut, connections refused for `downMs`, the stored state kept.
   */
  async restart(downMs: number): Promise<void> {
    const at = this.listening;
    if (!at) throw new Error('the simulated API server is not listening');
    await this.close();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.listen(at.port, at.host);
  }

  /** Stops accepting requests and ends open watches. */
  async close(): Promise<void> {
    for (const r of this.openResponses) r.destroy();
    this.openResponses.clear();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.openResponses.add(res);
    res.on('close', () => this.openResponses.delete(res));
    try {
      const rawBody = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://sim.invalid');
      const info = parseRequestPath(url.pathname);
      const apiReq: ApiRequest = {
        method: req.method ?? 'GET',
        info,
        query: url.searchParams,
        headers: req.headers,
        rawBody,
        body: () => parseBody(rawBody, String(req.headers['content-type'] ?? '')),
        res,
        req,
      };
      const key = this.count(apiReq);
      if (!key.startsWith('watch ')) {
        const started = performance.now();
        meterResponse(res, (bytes) => this.requestStats.record(key, performance.now() - started, bytes));
      }
      if (this.opts.token && !this.authorized(req, info)) {
        return send(res, new ApiError(401, 'Unauthorized', 'Unauthorized').toStatus(), 401);
      }
      const response = await this.dispatch(apiReq, url.pathname);
      if (!response) return; // streamed (watch) — the handler owns res
      if (res.headersSent) return;
      if (response.text !== undefined) {
        res.writeHead(response.status, { 'Content-Type': response.contentType ?? 'text/plain; charset=utf-8', ...(response.headers ?? {}) });
        res.end(response.text);
      } else {
        send(res, response.body, response.status, response.headers);
      }
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
      if (!(err instanceof ApiError)) this.opts.log?.(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (res.headersSent) {
        res.end();
        return;
      }
      const headers: Record<string, string> = {};
      // As kube-apiserver: a PDB refusal carries no Retry-After (kubectl drain paces itself); throttling does.
      if (apiErr.code === 429 && apiErr.details?.retryAfterSeconds) headers['Retry-After'] = String(apiErr.details.retryAfterSeconds);
      send(res, apiErr.toStatus(), apiErr.code, headers);
    }
  }

  private authorized(req: http.IncomingMessage, info: RequestInfo): boolean {
    if (info.type === 'nonResource' && ['/healthz', '/readyz', '/livez', '/version'].includes(info.path)) return true;
    return req.headers.authorization === `Bearer ${this.opts.token}`;
  }

  private count(r: ApiRequest): string {
    const what = r.info.type === 'resource' ? `${r.info.resource}${r.info.subresource ? `/${r.info.subresource}` : ''}` : 'nonResource';
    const key = `${verbOf(r)} ${what}`;
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
    return key;
  }

  private async dispatch(r: ApiRequest, path: string): Promise<ApiResponse | undefined> {
    if (r.info.type === 'nonResource') return this.nonResource(r, path);
    const info = r.info;
    const type = this.opts.registry.lookup(info.group, info.version, info.resource);
    if (!type) return { status: 404, text: '404 page not found\n' };
    if (info.subresource && !type.subresources.includes(info.subresource)) return { status: 404, text: '404 page not found\n' };
    const settings = this.opts.settings.get();
    const verb = verbOf(r);
    if (type.plural === 'selfsubjectaccessreviews' && type.group === 'authorization.k8s.io' && r.method === 'POST') return accessReview(r, settings.forbidden);
    // As kube-apiserver: a server-side apply that would create the object is authorized as a create too.
    const applyCreates = verb === 'patch' && String(r.headers['content-type'] ?? '').startsWith('application/apply-patch') && info.name !== undefined && !this.opts.store.peek(resourceKey(type.group, type.plural), type.namespaced ? info.namespace : undefined, info.name);
    if (isForbidden(settings.forbidden, info.resource, info.subresource, verb) || (applyCreates && isForbidden(settings.forbidden, info.resource, info.subresource, 'create'))) {
      const denied = isForbidden(settings.forbidden, info.resource, info.subresource, verb) ? verb : 'create';
      const scope = info.namespace ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
      const what = `${info.resource}${info.subresource ? `/${info.subresource}` : ''}`;
      throw new ApiError(403, 'Forbidden', `${what}${info.name ? ` "${info.name}"` : ''} is forbidden: User "${SIM_USER}" cannot ${denied} resource "${what}" in API group "${info.group}" ${scope}`);
    }
    const fault = pickFault(settings.faults, info.resource, info.subresource, verb, Math.random, hasPrecondition(r));
    if (fault) {
      const what = `${fault.reset ? 'reset' : fault.code ?? (fault.cutAfterMs ? 'cut' : 'delay')} ${verb} ${info.resource}${info.subresource ? `/${info.subresource}` : ''}`;
      this.faultCounts.set(what, (this.faultCounts.get(what) ?? 0) + 1);
    }
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.reset) {
      r.req.socket.destroy();
      return undefined;
    }
    if (fault?.code) {
      if (fault.code === 409) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${info.resource} "${info.name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`);
      const reason = fault.code === 429 ? 'TooManyRequests' : fault.code === 503 ? 'ServiceUnavailable' : 'InternalError';
      // kube-apiserver asks throttled (429) and unavailable (503) clients to come back in a second; a 500 says nothing.
      throw new ApiError(fault.code, reason, fault.code === 429 ? 'the server has received too many requests and has asked us to try again later' : 'simulated fault: the server is currently unable to handle the request', fault.code === 429 || fault.code === 503 ? { retryAfterSeconds: 1 } : undefined);
    }
    if (fault?.cutAfterMs && r.query.get('watch') === 'true') {
      const timer = setTimeout(() => r.res.destroy(), fault.cutAfterMs);
      r.res.on('close', () => clearTimeout(timer));
    }
    return this.handlers.handle(r, type);
  }

  private async nonResource(r: ApiRequest, path: string): Promise<ApiResponse | undefined> {
    const p = path.replace(/\/+$/, '') || '/';
    if (r.method !== 'GET' && !p.startsWith('/sim/')) throw methodNotAllowed();
    const reg = this.opts.registry;
    if (p === '/api') return { status: 200, body: apiVersions() };
    if (p === '/apis') return { status: 200, body: apiGroupList(reg) };
    if (p === '/version') return { status: 200, body: versionInfo() };
    if (['/healthz', '/readyz', '/livez'].includes(p)) return { status: 200, text: 'ok' };
    // An empty protobuf document: kubectl then skips client-side schema validation for kinds the
    // server does not serve and reports them as unknown, as it does against a real API server.
    if (p === '/openapi/v2') return { status: 200, text: '', contentType: 'application/octet-stream' };
    if (p === '/openapi/v3') return { status: 200, body: openApiV3Root(reg) };
    const oa = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (oa) {
      const doc = oa[1] ? openApiV3GroupVersion(reg, '', oa[1]) : openApiV3GroupVersion(reg, oa[2]!, oa[3]!);
      return doc ? { status: 200, body: doc } : { status: 404, text: '404 page not found\n' };
    }
    let m = /^\/api\/([^/]+)$/.exec(p);
    if (m) {
      const doc = apiResourceList(reg, '', m[1]!);
      return doc ? { status: 200, body: doc } : { status: 404, text: '404 page not found\n' };
    }
    m = /^\/apis\/([^/]+)$/.exec(p);
    if (m) {
      const doc = apiGroup(reg, m[1]!);
      return doc ? { status: 200, body: doc } : { status: 404, text: '404 page not found\n' };
    }
    m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (m) {
      const doc = apiResourceList(reg, m[1]!, m[2]!);
      return doc ? { status: 200, body: doc } : { status: 404, text: '404 page not found\n' };
    }
    for (const route of this.opts.extraRoutes ?? []) {
      const out = await route(p, r);
      if (out) return out;
    }
    return { status: 404, text: '404 page not found\n' };
  }
}

/** The Kubernetes verb of a request (get, list, watch, create, update, patch, delete, deletecollection). */
export function verbOf(r: Pick<ApiRequest, 'method' | 'info' | 'query'>): string {
  const info = r.info;
  const named = info.type === 'resource' && info.name !== undefined;
  switch (r.method) {
    case 'GET':
      if (info.type === 'resource' && (info.legacyWatch || r.query.get('watch') === 'true' || r.query.get('watch') === '1')) return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return r.method.toLowerCase();
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(raw: Buffer, contentType: string): unknown {
  if (isKubeProtobuf(contentType, raw)) return decodeKubeProtobuf(raw);
  const text = raw.toString('utf8');
  if (text.trim() === '') throw badRequest('the body of the request was empty');
  const ct = contentType.split(';')[0]!.trim();
  if (ct === 'application/apply-patch+yaml' || ct === 'application/yaml') {
    try {
      return parseYaml(text, { version: '1.1' }) as unknown;
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`json parse error: ${(e as Error).message}`);
  }
}

function send(res: http.ServerResponse, body: unknown, status: number, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

/** Whether a write names the version (or UID) it expects: only such a write can conflict. */
function hasPrecondition(r: ApiRequest): boolean {
  if (r.method === 'PUT') return true;
  if (r.method !== 'PATCH' && r.method !== 'DELETE') return false;
  try {
    const body = r.body() as { metadata?: { resourceVersion?: string }; preconditions?: unknown } | undefined;
    return Boolean(body?.metadata?.resourceVersion || body?.preconditions);
  } catch {
    return false;
  }
}

/** The identity the simulated API server gives the kubeconfig's token (in RBAC messages). */
const SIM_USER = 'sim-admin';

/**
 * A SelfSubjectAccessReview answered as kube-apiserver's authorizer would for the simulated user:
 * allowed unless a `forbidden` rule denies the verb on the resource.
 */
function accessReview(r: ApiRequest, forbidden: ForbiddenRuleSettings[]): ApiResponse {
  const review = r.body() as { spec?: { resourceAttributes?: { verb?: string; resource?: string; subresource?: string; group?: string; namespace?: string }; nonResourceAttributes?: unknown } } | undefined;
  const attrs = review?.spec?.resourceAttributes;
  if (!attrs && !review?.spec?.nonResourceAttributes) throw new ApiError(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
  const denied = attrs ? isForbidden(forbidden, attrs.resource ?? '', attrs.subresource || undefined, attrs.verb ?? '') : false;
  return {
    status: 201,
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: null },
      spec: review?.spec,
      status: denied ? { allowed: false, reason: `the simulated cluster's settings forbid ${attrs?.verb} on ${attrs?.resource}` } : { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to User "${SIM_USER}"` },
    },
  };
}
