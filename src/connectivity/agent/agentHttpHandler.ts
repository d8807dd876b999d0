/**
 * The agent's HTTP endpoints as a plain function, so a node:http server (in a pod) and the
 * simulator's pod handler (through pods/proxy) serve exactly the same thing:
 *   GET /healthz  200 "ok" while the agent runs (the readiness probe), 503 once it stops
 *   GET /status   the status document (JSON)
 *   GET /metrics  Prometheus text format
 *   GET /hello    what peers probe: who answered, and when
 * Long-lived flows (GET /flow) stream and are served by the node server itself (agentServer.ts).
 */
import { METRICS_CONTENT_TYPE } from './metricsText.js';
import { HELLO_PATH, type ProbeAgent } from './probeAgent.js';

/** A request as the handler sees it. */
export interface AgentHttpRequest {
  method: string;
  /** Path without the query string. */
  path: string;
}

/** The handler's answer. */
export interface AgentHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The parts of an agent the endpoints read. */
export type AgentView = Pick<ProbeAgent, 'status' | 'metrics' | 'hello' | 'stopped'>;

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
      case '/metrics':
        return { status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE }, body: agent.metrics() };
      case HELLO_PATH:
        return agent.stopped ? text(503, 'stopping\n') : { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(agent.hello()) };
      default:
        return text(404, `no such endpoint ${path}: try /healthz, /status, /metrics or ${HELLO_PATH}\n`);
    }
  };
}

function text(status: number, body: string): AgentHttpResponse {
  return { status, headers: { 'content-type': TEXT_TYPE }, body };
}
