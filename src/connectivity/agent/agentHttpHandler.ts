/**
 * The agent's HTTP endpoints as a plain function, so a node:http server (in a pod) and the
 * simulator's pod handler (through pods/proxy) serve exactly the same thing:
 *   GET /healthz  200 "ok" while the agent runs (the readiness probe), 503 once it stops
 *   GET /status   the status document (JSON)
 *   GET /status/compact  the same with only failing peers, and counts of all (what collectors read)
 *   GET /metrics  Prometheus text format
 *   GET /hello    what peers probe: who answered, and when
 *   GET /collect  (collectHandler) every peer's compact status; ?since= leaves out failures over
 *                 before then, ?fresh=1 waits until every peer probed again after it was first read
 * Long-lived flows (GET /flow) stream and are served by the node server itself (agentServer.ts);
 * GET /collect (a collector reading every peer, asynchronously) by collectHandler below.
 */
import { METRICS_CONTENT_TYPE } from './metricsText.js';
import { COLLECT_PATH, COMPACT_STATUS_PATH } from './peerCollection.js';
import { HELLO_PATH, type ProbeAgent } from './probeAgent.js';

/** A request as the handler sees it. */
export interface AgentHttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string, without "?" (GET /collect and /status/compact take since=<RFC 3339 time>). */
  query?: string | undefined;
}

/** Whether a request asks for fresh results (fresh=1 or fresh=true). */
export function freshOf(req: AgentHttpRequest): boolean {
  const raw = new URLSearchParams(req.query ?? '').get('fresh');
  return raw === '1' || raw === 'true';
}

/** The `since` parameter of a request, epoch ms; undefined when absent or not a time. */
export function sinceOf(req: AgentHttpRequest): number | undefined {
  const raw = new URLSearchParams(req.query ?? '').get('since');
  const ms = raw ? Date.parse(raw) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The handler's answer. */
export interface AgentHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The parts of an agent the endpoints read. */
export type AgentView = Pick<ProbeAgent, 'status' | 'compactStatus' | 'metrics' | 'hello' | 'stopped'>;

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** Builds the request handler for one agent. */
export function agentHttpHandler(agent: AgentView): (req: AgentHttpRequest) => AgentHttpResponse {
  return (req) => {
    const path = req.path.replace(/\/+$/, '') || '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, `method ${req.method} not allowed\n`);
    switch (path) {
      case '/healthz':
        return agent.stopped ? text(503, 'stopping\n') : text(200, 'ok\n');
      case '/status':
        return { status: 200, headers: { 'content-type': JSON_TYPE }, body: `${JSON.stringify(agent.status(), null, 2)}\n` };
      case COMPACT_STATUS_PATH:
        return { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(agent.compactStatus(sinceOf(req))) };
      case '/metrics':
        return { status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE }, body: agent.metrics() };
      case HELLO_PATH:
        return agent.stopped ? text(503, 'stopping\n') : { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(agent.hello()) };
      default:
        return text(404, `no such endpoint ${path}: try /healthz, /status, ${COMPACT_STATUS_PATH}, ${COLLECT_PATH}, /metrics or ${HELLO_PATH}\n`);
    }
  };
}

/** GET /collect, asynchronous (the collector reads its peers); undefined for every other request. */
export function collectHandler(agent: Pick<ProbeAgent, 'collect' | 'stopped'>): (req: AgentHttpRequest) => Promise<AgentHttpResponse> | undefined {
  return (req) => {
    const path = req.path.replace(/\/+$/, '') || '/';
    if (path !== COLLECT_PATH || req.method !== 'GET') return undefined;
    if (agent.stopped) return Promise.resolve(text(503, 'stopping\n'));
    return agent.collect(sinceOf(req), freshOf(req)).then((doc) => ({ status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(doc) }));
  };
}

function text(status: number, body: string): AgentHttpResponse {
  return { status, headers: { 'content-type': TEXT_TYPE }, body };
}
