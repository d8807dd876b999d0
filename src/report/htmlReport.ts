import type { OutcomeCheck } from '../migration/outcomeCheck.js';
import type { RunReport } from './runRecorder.js';

// The report as one self-contained HTML file (--report run.html): no network, no library. The
// data travel as JSON inside the page and a small script draws them as SVG — the timeline per
// node and step, the node × node heat map of failed probe pairs with the worst moment marked —
// next to plain tables: failing pairs with first/last seen, per-node durations, pods re-created
// per workload, the plan that ran, the outcome and preflight checks.

export interface HtmlReportData {
  report: RunReport;
  outcome: readonly OutcomeCheck[];
  /** When the most probe pairs were failing at once, and how many. */
  worst?: { at: string; failing: number } | undefined;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The moment the most failing pairs overlapped (a sweep over first/last seen). */
export function worstMoment(failures: RunReport['connectivity']['failedPairs']): HtmlReportData['worst'] {
  const edges: [number, number][] = [];
  for (const f of failures) {
    const a = Date.parse(f.firstSeen);
    const b = Date.parse(f.lastSeen);
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    edges.push([a, 1], [b, -1]);
  }
  // Starts before ends at the same instant: a pair seen once still counts.
  edges.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  let now = 0;
  let best: HtmlReportData['worst'];
  for (const [t, d] of edges) {
    now += d;
    if (!best || now > best.failing) best = { at: new Date(t).toISOString(), failing: now };
  }
  return best && best.failing > 0 ? best : undefined;
}

function table(head: string[], rows: string[][]): string {
  if (!rows.length) return '<p class="none">none</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const secs = (ms: number | undefined) => (ms === undefined ? 'unfinished' : `${(ms / 1000).toFixed(1)} s`);

// Draws #timeline and #heatmap from the JSON in #report-data. Plain DOM, no library.
const SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var r = data.report, NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var nodes = [];
  r.steps.forEach(function (s) { s.nodes.forEach(function (n) { if (nodes.indexOf(n.node) < 0) nodes.push(n.node); }); });
  r.connectivity.failedPairs.forEach(function (f) { [f.fromNode, f.toNode].forEach(function (n) { if (n && nodes.indexOf(n) < 0) nodes.push(n); }); });

  // Timeline: a row per node, a bar per step it went through, from its start for its duration.
  var t0 = Date.parse(r.startedAt), end = t0 + Math.max(r.durationMs, 1), W = 760, L = 120, H = 22;
  var tl = el('svg', { width: L + W + 10, height: (nodes.length + 3) * H + 10, role: 'img', 'aria-label': 'timeline per node and step' });
  // Time axis: start and end of the run.
  var axisY = (nodes.length + 1) * H;
  tl.appendChild(el('line', { x1: L, y1: axisY - 4, x2: L + W, y2: axisY - 4, stroke: '#999' }));
  tl.appendChild(el('text', { x: L, y: axisY + 10, class: 'label' }, '0 s'));
  tl.appendChild(el('text', { x: L + W - 40, y: axisY + 10, class: 'label' }, (r.durationMs / 1000).toFixed(1) + ' s'));
  nodes.forEach(function (n, i) { tl.appendChild(el('text', { x: 4, y: (i + 1) * H + 4, class: 'label' }, n)); });
  var palette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f'];
  r.steps.forEach(function (s, si) {
    s.nodes.forEach(function (n) {
      if (!n.startedAt) return;
      var a = Date.parse(n.startedAt), d = n.durationMs === undefined ? end - a : n.durationMs;
      var x = L + ((a - t0) / (end - t0)) * W, w = Math.max(2, (d / (end - t0)) * W), y = (nodes.indexOf(n.node) + 1) * H - 10;
      var bar = el('rect', { x: x.toFixed(1), y: y, width: w.toFixed(1), height: 14, class: 'bar' + (n.durationMs === undefined ? ' failed' : ''), fill: n.durationMs === undefined ? '#d62728' : palette[si % palette.length], 'data-step': s.step, 'data-node': n.node });
      bar.appendChild(el('title', {}, 'step ' + s.step + ' ' + s.name + ' on ' + n.node + ': ' + (n.durationMs === undefined ? 'did not finish' : (n.durationMs / 1000).toFixed(1) + ' s')));
      tl.appendChild(bar);
    });
  });
  // Legend: one swatch per step that has bars.
  var lx = L;
  r.steps.forEach(function (s, si) {
    if (!s.nodes.length) return;
    tl.appendChild(el('rect', { x: lx, y: axisY + 20, width: 12, height: 12, fill: palette[si % palette.length], class: 'legend' }));
    var label = el('text', { x: lx + 16, y: axisY + 30, class: 'label' }, 'step ' + s.step + ' ' + s.name);
    tl.appendChild(label);
    lx += 30 + 7 * label.textContent.length;
  });
  document.getElementById('timeline').appendChild(tl);

  // Heat map: failed probe pairs by source node (row) and target node (column).
  var count = {}, max = 0;
  r.connectivity.failedPairs.forEach(function (f) {
    var k = f.fromNode + '|' + f.toNode;
    count[k] = (count[k] || 0) + 1;
    max = Math.max(max, count[k]);
  });
  var C = 26, hm = el('svg', { width: L + nodes.length * C + 10, height: L + nodes.length * C + 10, role: 'img', 'aria-label': 'failed probe pairs, node by node' });
  nodes.forEach(function (n, i) {
    hm.appendChild(el('text', { x: 4, y: L + i * C + 17, class: 'label' }, n));
    hm.appendChild(el('text', { x: L + i * C + 17, y: L - 6, class: 'label', transform: 'rotate(-60 ' + (L + i * C + 17) + ' ' + (L - 6) + ')' }, n));
    nodes.forEach(function (m, j) {
      var c = count[n + '|' + m] || 0;
      var cell = el('rect', { x: L + j * C, y: L + i * C, width: C - 2, height: C - 2, class: 'cell' + (c ? ' failing' : ''), fill: c ? 'rgba(214,39,40,' + (0.25 + 0.75 * c / max).toFixed(2) + ')' : '#e8f5e9', 'data-from': n, 'data-to': m, 'data-failures': c });
      cell.appendChild(el('title', {}, n + ' → ' + m + ': ' + c + ' failed pair(s)'));
      hm.appendChild(cell);
    });
  });
  document.getElementById('heatmap').appendChild(hm);
  var worst = document.getElementById('worst');
  worst.textContent = data.worst ? 'Worst moment: ' + data.worst.failing + ' pair(s) failing at once, at ' + data.worst.at : 'No probe pair failed at any moment.';
  worst.className = data.worst ? 'bad' : 'good';
  document.body.setAttribute('data-drawn', 'true');
})();
`;

/** The report as a self-contained HTML page. */
export function renderHtmlReport(report: RunReport, outcome: readonly OutcomeCheck[] = []): string {
  const data: HtmlReportData = { report, outcome, worst: worstMoment(report.connectivity.failedPairs) };
  // JSON in a script element: "<" escaped so no string can close the element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const r = report;
  const perNode = r.steps.flatMap((s) => s.nodes.map((n) => [`${s.step} ${s.name}`, n.node, n.batch === undefined ? '' : String(n.batch), secs(n.durationMs)]));
  const plans = r.plans.map((p) => `<details><summary>step ${p.step} ${esc(p.name)}: ${esc(p.title)}${p.alreadyDone ? ' (already done)' : ''}</summary><ul>${[...p.actions.map((a) => `<li>${esc(a.kind)}</li>`), ...p.nodes.map((n) => `<li>${esc(n.node)}: ${n.actions.length} actions (${esc([...new Set(n.actions.map((a) => a.kind))].join(', '))})</li>`)].join('')}</ul></details>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cni-migration report: ${r.ok ? 'success' : 'FAILED'}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
.good { color: #1b7e34; } .bad { color: #b00020; font-weight: bold; } .none { color: #777; }
.label { font-size: 11px; fill: #333; }
</style>
</head>
<body>
<h1>cni-migration report — <span class="${r.ok ? 'good' : 'bad'}" id="result">${r.ok ? 'success' : 'FAILED'}</span></h1>
<p>Strategy ${esc(r.strategy ?? '?')} from ${esc(r.source ?? '?')}; started ${esc(r.startedAt)}; ${secs(r.durationMs)}.${r.error ? `</p><p class="bad">${esc(r.error)}` : ''}</p>
<h2>Timeline per node and step</h2>
<div id="timeline"></div>
<h2>Connectivity</h2>
<p>${r.connectivity.pairChecks} pair checks at ${r.connectivity.checkpoints} checkpoints, up to ${r.connectivity.probesSeen} probe pods; ${r.connectivity.failedPairs.length} failed pair(s).</p>
<p id="worst"></p>
<div id="heatmap"></div>
<h3>Failing pairs</h3>
${table(['from', 'to', 'network', 'reason', 'first seen', 'last seen'], r.connectivity.failedPairs.map((f) => [`${f.from}${f.fromNode ? ` (${f.fromNode})` : ''}`, `${f.to}${f.toNode ? ` (${f.toNode})` : ''}`, f.network ?? '', f.reason, f.firstSeen, f.lastSeen]))}
<h2>Outcome checks</h2>
${table(['check', 'result', 'detail'], outcome.map((o) => [o.name, o.ok ? 'ok' : 'FAIL', o.detail]))}
<h2>Per-node durations</h2>
${table(['step', 'node', 'batch', 'duration'], perNode)}
<h2>Pods re-created per workload</h2>
${table(['workload', 'pods evicted or deleted'], Object.entries(r.podRecreations).sort(([a], [b]) => (a < b ? -1 : 1)).map(([w, n]) => [w, String(n)]))}
<h2>Preflight</h2>
${table(['check', 'verdict', 'detail'], r.preflight.map((p) => [p.name, p.verdict, p.detail]))}
<h2>The plan that ran</h2>
${plans.join('\n') || '<p class="none">none</p>'}
${r.warnings.length ? `<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<script id="report-data" type="application/json">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
