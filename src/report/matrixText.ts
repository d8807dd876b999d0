/**
 * Text rendering of a connectivity matrix for `check`: the verdict first, then the node × node
 * grid (rows probe from, columns probe to), then what failed, who did not report, and which
 * long-lived flows were cut. Plain text, no colours, fine in CI logs.
 */
import type { ProbeCollection } from '../connectivity/collectProbeStatuses.js';
import type { ConnectivityMatrix, MatrixCell } from '../connectivity/connectivityMatrix.js';

/** Renders the matrix as text (ends with a newline); an aggregated collection has no grid, only what failed. */
export function renderMatrixText(m: ConnectivityMatrix, via?: ProbeCollection['via']): string {
  const out: string[] = [];
  const aggregated = via?.mode === 'aggregated';
  out.push(`Connectivity in namespace ${m.namespace} at ${m.collectedAt}: ${m.ok ? 'OK' : 'FAILED'}`);
  for (const p of m.problems) out.push(`  - ${p}`);
  out.push('');
  if (aggregated) {
    out.push(`Collected through ${via.collectors.length ? via.collectors.join(', ') : 'no collector'}${via.direct ? ` and ${via.direct} pods read directly` : ''}: ${via.proxyRequests} proxied requests, ${(via.bytes / 1024).toFixed(1)} KiB (--full for the node x node matrix).`, '');
  }
  if (m.nodes.length && !aggregated) {
    out.push(...renderGrid(m));
    out.push('  (rows: from, columns: to; "ok 1.2ms": every probe answered, slowest answer; "FAIL f/n": f of n probes failed; "-": no probe yet)');
    out.push('');
  }
  if (m.failing.length) {
    out.push(`Failing pairs (${m.failing.length}):`);
    for (const f of m.failing) {
      const since = f.failingSince ? ` since ${f.failingSince}` : '';
      const where = `${f.ip} (${f.network}${f.primary ? ', primary' : ', extra interface'})`;
      out.push(`  ${f.fromNode} -> ${f.toNode}  ${f.fromPod} -> ${f.toPod} ${where}: ${f.result} x${f.consecutiveFailures}${since}${f.detail ? `: ${f.detail}` : ''}`);
    }
    out.push('');
  }
  if (m.silent.length) {
    out.push(`Probe pods not reporting (${m.silent.length}):`);
    for (const s of m.silent) out.push(`  ${s.pod} on ${s.node}: ${s.state}: ${s.detail}`);
    out.push('');
  }
  if (m.flowBreaks.length) {
    out.push(`Long-lived flows cut (${m.flowBreaks.length}):`);
    for (const b of m.flowBreaks) {
      const note = b.reason === 'network' ? (b.recent ? ' <- downtime' : ' (outside the window)') : ' (peer pod went away: expected while nodes drain)';
      out.push(`  ${b.brokenAt} ${b.fromNode} -> ${b.toNode}  ${b.fromPod} -> ${b.toPod} ${b.ip} (${b.network}): ${b.reason}${note}: ${b.cause}: ${b.detail}`);
    }
    out.push('');
  }
  const s = m.summary;
  const pairs = aggregated ? '' : `${s.okNodePairs} of ${s.nodePairs} node pairs ok, `;
  out.push(`${pairs}${s.failedProbes} of ${s.probes} probes failing, ${s.reportingPods} of ${s.pods} probe pods reporting${m.networks.length && !aggregated ? `, networks: ${m.networks.join(', ')}` : ''}.`);
  return `${out.join('\n')}\n`;
}

function renderGrid(m: ConnectivityMatrix): string[] {
  const n = m.nodes.length;
  const cellText = (c: MatrixCell | undefined): string => {
    if (!c || c.state === 'no-data') return '-';
    const total = c.ok + c.failed;
    if (c.state === 'failed') return `FAIL ${c.failed}/${total}${c.failingNetworks.length ? ` ${c.failingNetworks.join(',')}` : ''}`;
    return `ok ${formatLatency(c.worstLatencyMs)}`;
  };
  const rows = m.nodes.map((from, i) => [from, ...m.nodes.map((_, j) => cellText(m.cells[i * n + j]))]);
  const header = ['from \\ to', ...m.nodes];
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cols: string[]) => `  ${cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}
