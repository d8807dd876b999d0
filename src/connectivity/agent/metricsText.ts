/**
 * The agent's /metrics in the Prometheus text exposition format (version 0.0.4), pure. Series:
 * probes by peer, peer node, network and result; a latency histogram of successful probes by
 * peer node and network; whether each peer answered its last probe; long-lived flows open and
 * cut (by reason). Every series also carries this pod's node as `node`.
 */
import type { HistogramSeries } from './latencyHistogram.js';
import type { PeerView } from './peerHistory.js';
import { PROBE_RESULTS } from './probeTypes.js';

/** Content-Type of the exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const PREFIX = 'cni_migration_probe';

/** What /metrics is rendered from. */
export interface MetricsInput {
  /** This pod's node. */
  node: string;
  rounds: number;
  peers: readonly PeerView[];
  latency: readonly HistogramSeries[];
  openFlows: number;
  /** Cut flows counted by peer node, network and reason. */
  flowBreaks: readonly { peerNode: string; network: string; reason: string; count: number }[];
}

type Labels = Record<string, string>;

/** Renders the exposition text. */
export function renderMetrics(input: MetricsInput): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const base = { node: input.node };

  family(`${PREFIX}_rounds_total`, 'counter', 'Probe rounds completed (every peer probed once per round).');
  out.push(sample(`${PREFIX}_rounds_total`, base, input.rounds));

  family(`${PREFIX}_peers`, 'gauge', 'Peer addresses currently probed.');
  out.push(sample(`${PREFIX}_peers`, base, input.peers.length));

  family(`${PREFIX}_requests_total`, 'counter', 'Probes sent to peers, by peer pod, peer node, network and result.');
  for (const p of input.peers) {
    const labels = { ...base, peer: p.target.pod, peer_node: p.target.node, network: p.target.network, ip: p.target.ip };
    for (const result of PROBE_RESULTS) {
      const n = p.counts.byResult[result];
      if (n) out.push(sample(`${PREFIX}_requests_total`, { ...labels, result }, n));
    }
  }

  family(`${PREFIX}_peer_up`, 'gauge', 'Whether the last probe to the peer address succeeded (1) or failed (0); absent until probed.');
  for (const p of input.peers) {
    if (!p.last) continue;
    out.push(sample(`${PREFIX}_peer_up`, { ...base, peer: p.target.pod, peer_node: p.target.node, network: p.target.network, ip: p.target.ip }, p.last.result === 'ok' ? 1 : 0));
  }

  family(`${PREFIX}_latency_seconds`, 'histogram', 'Latency of successful probes, by peer node and network.');
  for (const h of input.latency) {
    const labels = { ...base, ...h.labels };
    h.bounds.forEach((b, i) => out.push(sample(`${PREFIX}_latency_seconds_bucket`, { ...labels, le: formatValue(b) }, h.cumulative[i] ?? 0)));
    out.push(sample(`${PREFIX}_latency_seconds_bucket`, { ...labels, le: '+Inf' }, h.count));
    out.push(sample(`${PREFIX}_latency_seconds_sum`, labels, h.sum));
    out.push(sample(`${PREFIX}_latency_seconds_count`, labels, h.count));
  }

  family(`${PREFIX}_flows_open`, 'gauge', 'Long-lived connections to peers currently open.');
  out.push(sample(`${PREFIX}_flows_open`, base, input.openFlows));

  family(`${PREFIX}_flow_breaks_total`, 'counter', 'Long-lived connections cut, by peer node, network and reason (peer-gone: the peer pod went away; network: cut while both ends lived).');
  for (const b of input.flowBreaks) out.push(sample(`${PREFIX}_flow_breaks_total`, { ...base, peer_node: b.peerNode, network: b.network, reason: b.reason }, b.count));

  return `${out.join('\n')}\n`;
}

function sample(name: string, labels: Labels, value: number): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return `${name}${parts.length ? `{${parts.join(',')}}` : ''} ${formatValue(value)}`;
}

/** Label values escape backslash, double quote and newline (the format's only escapes). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}
