/**
 * Text rendering of the connectivity monitor's timeline for the final report: one line per
 * failed pair, cut flow or silent probe pod, oldest first, with how long it lasted.
 */
import type { TimelineEntry } from '../connectivity/connectivityMonitor.js';
import { formatDuration } from '../ops/deadline.js';

/** Renders timeline entries (ends with a newline; "no connectivity failures" when empty). */
export function renderTimelineText(entries: readonly TimelineEntry[], opts: { now?: number } = {}): string {
  if (!entries.length) return 'Connectivity timeline: no failures seen.\n';
  const now = opts.now ?? Date.now();
  const lines = entries.map((e) => {
    const start = new Date(e.firstSeen).toISOString();
    const lasted = e.kind === 'flow' ? '' : ` for ${formatDuration((e.resolvedAt ?? now) - e.firstSeen)}${e.resolvedAt === undefined ? ' (ongoing)' : ''}`;
    const what =
      e.kind === 'pod'
        ? `probe pod ${e.fromPod} on ${e.fromNode} not reporting`
        : `${e.kind === 'flow' ? 'flow' : 'pair'} ${e.fromNode} -> ${e.toNode ?? '?'}  ${e.fromPod} -> ${e.toPod ?? '?'} ${e.ip ?? ''}${e.network ? ` (${e.network})` : ''}`;
    const count = e.failures ? ` x${e.failures}` : '';
    return `  ${start} ${what}: ${e.reason}${count}${lasted}: ${e.detail}`;
  });
  return `Connectivity timeline (${entries.length}):\n${lines.join('\n')}\n`;
}
