import type { MigrationEvent } from '../migration/migrationEvents.js';

// Where a run stands, for the live block on a terminal: the step, nodes done of total, the batch
// in progress, each busy node's current action, elapsed time and an estimate of what is left.
// Pure: events in, a model; the model and a clock in, lines.

export interface LiveStatus {
  startedAt: number;
  step?: { id: number; name: string; startedAt: number; nodesTotal: number; nodesDone: number } | undefined;
  batch?: { index: number; total: number; nodes: string[] } | undefined;
  /** What each busy node is doing (step-wide actions under ""). */
  current: Map<string, string>;
  /** Durations of nodes finished in this step, for the estimate. */
  nodeMs: number[];
  finished: boolean;
}

export function newLiveStatus(now: number): LiveStatus {
  return { startedAt: now, current: new Map(), nodeMs: [], finished: false };
}

/** Folds one event into the status. */
export function applyEvent(s: LiveStatus, e: MigrationEvent, now: number): void {
  switch (e.type) {
    case 'stepStart':
      s.step = { id: e.step, name: e.name, startedAt: now, nodesTotal: e.nodes.length, nodesDone: 0 };
      s.batch = undefined;
      s.current.clear();
      s.nodeMs = [];
      break;
    case 'batchStart':
      s.batch = { index: e.index, total: e.total, nodes: e.nodes };
      break;
    case 'nodeStart':
      s.current.set(e.node, 'starting');
      break;
    case 'action':
      s.current.set(e.node ?? '', e.description);
      break;
    case 'nodeDone':
      if (s.step) s.step.nodesDone++;
      s.nodeMs.push(e.ms);
      s.current.delete(e.node);
      break;
    case 'stepDone':
      s.current.clear();
      break;
    case 'runDone':
      s.finished = true;
      break;
    default:
      break;
  }
}

/** "1h02m", "3m05s", "42s". */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (h) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/**
 * Time left in the step: the nodes still to go at the pace finished ones took, as many at once as
 * the batch in progress has. Undefined until a node has finished.
 */
export function estimateLeftMs(s: LiveStatus): number | undefined {
  const st = s.step;
  if (!st || !s.nodeMs.length || st.nodesTotal === 0) return undefined;
  const avg = s.nodeMs.reduce((a, b) => a + b, 0) / s.nodeMs.length;
  const parallel = Math.max(1, s.batch?.nodes.length ?? 1);
  return (Math.ceil((st.nodesTotal - st.nodesDone) / parallel) * avg);
}

/** The live block's lines. */
export function renderLiveStatus(s: LiveStatus, now: number, width = 100): string[] {
  const clip = (l: string) => (l.length > width ? `${l.slice(0, Math.max(1, width - 1))}…` : l);
  const parts = [s.step ? `step ${s.step.id} ${s.step.name}` : 'starting'];
  if (s.step?.nodesTotal) parts.push(`${s.step.nodesDone}/${s.step.nodesTotal} nodes`);
  if (s.batch) parts.push(`batch ${s.batch.index + 1}/${s.batch.total}`);
  parts.push(`elapsed ${formatDuration(now - s.startedAt)}`);
  const left = estimateLeftMs(s);
  if (left !== undefined) parts.push(`~${formatDuration(left)} left in the step`);
  const lines = [parts.join(' · ')];
  for (const [node, what] of s.current) lines.push(`  ${node ? `${node}: ` : ''}${what}`);
  return lines.map(clip);
}
