/**
 * The pairwise view, pure: from every probe pod's /status, a node × node matrix (probes ok and
 * failed, worst latency), the failing pairs with their network, the pods that did not report,
 * and the long-lived flows that were cut. `ok` is the gate: every pair answered, every probe pod
 * reported, and no flow was cut by the network recently.
 */
import { formatDuration } from '../ops/deadline.js';
import type { ProbeCollection } from './collectProbeStatuses.js';
import type { FlowBreakReason } from './agent/probeTypes.js';

/** One node → node cell. */
export interface MatrixCell {
  from: string;
  to: string;
  /** no-data: no probe between these nodes has returned yet. */
  state: 'ok' | 'failed' | 'no-data';
  ok: number;
  failed: number;
  pending: number;
  /** Slowest last successful probe, in ms. */
  worstLatencyMs?: number | undefined;
  /** Networks with a failing probe in this cell. */
  failingNetworks: string[];
}

/** One probe address whose last probe failed. */
export interface FailingPair {
  fromNode: string;
  fromPod: string;
  toNode: string;
  toPod: string;
  ip: string;
  network: string;
  /** Whether ip is the peer's primary address. */
  primary: boolean;
  result: string;
  detail?: string | undefined;
  consecutiveFailures: number;
  failingSince?: string | undefined;
}

/** A long-lived flow that was cut. */
export interface FlowBreakReport {
  fromNode: string;
  fromPod: string;
  toNode: string;
  toPod: string;
  ip: string;
  network: string;
  reason: FlowBreakReason;
  cause: string;
  detail: string;
  openedAt: string;
  brokenAt: string;
  /** Within the flow-break window of this check. */
  recent: boolean;
}

/** A probe pod whose status could not be read. */
export interface SilentPod {
  pod: string;
  node: string;
  /** starting: it answered but has not completed a probe round yet. */
  state: 'not-ready' | 'proxy-error' | 'invalid-status' | 'unreachable' | 'starting';
  detail: string;
}

/** The matrix and the verdict. */
export interface ConnectivityMatrix {
  collectedAt: string;
  namespace: string;
  ok: boolean;
  /** Why not ok, one sentence each (empty when ok). */
  problems: string[];
  nodes: string[];
  networks: string[];
  /** Row-major: nodes[i] → nodes[j] at i * nodes.length + j. */
  cells: MatrixCell[];
  failing: FailingPair[];
  silent: SilentPod[];
  flowBreaks: FlowBreakReport[];
  summary: {
    pods: number;
    reportingPods: number;
    nodePairs: number;
    okNodePairs: number;
    failedNodePairs: number;
    probes: number;
    failedProbes: number;
    recentNetworkFlowBreaks: number;
  };
}

/** Options of the verdict. */
export interface MatrixOptions {
  /** A network cut of a long-lived flow this recent fails the check (default 2 min). */
  flowBreakWindowMs?: number | undefined;
}

/** Builds the matrix from one collection. */
export function buildConnectivityMatrix(collection: ProbeCollection, opts: MatrixOptions = {}): ConnectivityMatrix {
  const windowMs = opts.flowBreakWindowMs ?? 120_000;
  const nodeSet = new Set<string>();
  const networks = new Set<string>();
  const cells = new Map<string, MatrixCell>();
  const failing: FailingPair[] = [];
  const silent: SilentPod[] = [];
  const flowBreaks: FlowBreakReport[] = [];
  let unlistedProbes = 0;
  const cellOf = (from: string, to: string) => {
    const key = `${from}\u0000${to}`;
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { from, to, state: 'no-data', ok: 0, failed: 0, pending: 0, failingNetworks: [] }));
    return c;
  };
  for (const report of collection.pods) {
    nodeSet.add(report.node);
    if (report.state !== 'ok') {
      silent.push({ pod: report.pod, node: report.node, state: report.state, detail: report.detail });
      continue;
    }
    if (report.status.rounds === 0) {
      // Its peers are all pending: an OK now would only mean "nothing was tried".
      silent.push({ pod: report.pod, node: report.node, state: 'starting', detail: 'no probe round completed yet' });
      continue;
    }
    const from = report.status.pod.node;
    nodeSet.add(from);
    // A compact document lists only failing peers: the rest are in its counts.
    const compact = report.status.peerSummary;
    if (compact) unlistedProbes += compact.ok + compact.failed - report.status.peers.filter((p) => p.result !== 'pending').length;
    for (const peer of report.status.peers) {
      nodeSet.add(peer.node);
      networks.add(peer.network);
      const cell = cellOf(from, peer.node);
      if (peer.result === 'pending') cell.pending++;
      else if (peer.result === 'ok') {
        cell.ok++;
        if (peer.latencyMs !== undefined) cell.worstLatencyMs = Math.max(cell.worstLatencyMs ?? 0, peer.latencyMs);
      } else {
        cell.failed++;
        if (!cell.failingNetworks.includes(peer.network)) cell.failingNetworks.push(peer.network);
        failing.push({
          fromNode: from,
          fromPod: report.pod,
          toNode: peer.node,
          toPod: peer.pod,
          ip: peer.ip,
          network: peer.network,
          primary: peer.primary,
          result: peer.result,
          detail: peer.detail,
          consecutiveFailures: peer.consecutiveFailures,
          failingSince: peer.failingSince,
        });
      }
    }
    for (const b of report.status.flows.breaks) {
      flowBreaks.push({
        fromNode: from,
        fromPod: report.pod,
        toNode: b.peerNode,
        toPod: b.peer,
        ip: b.ip,
        network: b.network,
        reason: b.reason,
        cause: b.cause,
        detail: b.detail,
        openedAt: b.openedAt,
        brokenAt: b.brokenAt,
        recent: Date.parse(b.brokenAt) >= collection.collectedAt - windowMs,
      });
    }
  }
  const nodes = [...nodeSet].sort();
  // Only the cells some probe reported on are counted here; the whole node × node grid (a million
  // cells at a thousand nodes, mostly empty in a compact collection) is built when read.
  const withData = [...cells.values()].map(finish).filter((c) => c.state !== 'no-data');
  failing.sort((x, y) => cmp(x.fromNode, y.fromNode) || cmp(x.toNode, y.toNode) || cmp(x.fromPod, y.fromPod) || cmp(x.toPod, y.toPod) || cmp(x.ip, y.ip));
  flowBreaks.sort((x, y) => cmp(x.brokenAt, y.brokenAt));
  const recentNetworkFlowBreaks = flowBreaks.filter((b) => b.recent && b.reason === 'network').length;
  const reportingPods = collection.pods.length - silent.length;
  const summary = {
    pods: collection.pods.length,
    reportingPods,
    nodePairs: withData.length,
    okNodePairs: withData.filter((c) => c.state === 'ok').length,
    failedNodePairs: withData.filter((c) => c.state === 'failed').length,
    probes: withData.reduce((n, c) => n + c.ok + c.failed, 0) + unlistedProbes,
    failedProbes: failing.length,
    recentNetworkFlowBreaks,
  };
  const problems: string[] = [];
  if (collection.pods.length === 0) problems.push(`no probe pods in namespace ${collection.namespace}: deploy manifests/probe/probe-agent.yaml`);
  else if (reportingPods === 0) problems.push('no probe pod reported its status');
  if (failing.length) problems.push(`${plural(summary.failedNodePairs, 'node pair')} failing (${plural(failing.length, 'probe')} on ${[...new Set(failing.map((f) => f.network))].sort().join(', ')})`);
  if (silent.length) problems.push(`${plural(silent.length, 'probe pod')} not reporting`);
  if (recentNetworkFlowBreaks) problems.push(`${plural(recentNetworkFlowBreaks, 'long-lived flow')} cut by the network in the last ${formatDuration(windowMs)}`);
  const matrix: Omit<ConnectivityMatrix, 'cells'> = {
    collectedAt: new Date(collection.collectedAt).toISOString(),
    namespace: collection.namespace,
    ok: problems.length === 0,
    problems,
    nodes,
    networks: [...networks].sort(),
    failing,
    silent,
    flowBreaks,
    summary,
  };
  let grid: MatrixCell[] | undefined;
  return Object.defineProperty(matrix, 'cells', {
    enumerable: true,
    get: () => (grid ??= nodes.flatMap((a) => nodes.map((b) => cells.get(`${a}\u0000${b}`) ?? finish({ from: a, to: b, state: 'no-data', ok: 0, failed: 0, pending: 0, failingNetworks: [] })))),
  }) as ConnectivityMatrix;
}

/** The cell from → to of a matrix. */
export function matrixCell(m: ConnectivityMatrix, from: string, to: string): MatrixCell | undefined {
  const i = m.nodes.indexOf(from);
  const j = m.nodes.indexOf(to);
  return i < 0 || j < 0 ? undefined : m.cells[i * m.nodes.length + j];
}

function finish(c: MatrixCell): MatrixCell {
  c.state = c.failed > 0 ? 'failed' : c.ok > 0 ? 'ok' : 'no-data';
  c.failingNetworks.sort();
  return c;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
