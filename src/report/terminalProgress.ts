import { createLogUpdate } from 'log-update';
import type { MigrationEvent, MigrationEventSink } from '../migration/migrationEvents.js';
import { applyEvent, newLiveStatus, renderLiveStatus } from './liveStatus.js';
import { createProgressReporter, type LogLevel } from './progressReporter.js';

// Progress for a person: on a terminal, the plain lines scroll above a live block (log-update)
// that shows the step, nodes done / total, the batch, each busy node's current action, elapsed
// time and an estimate of what is left; anywhere else (CI logs, pipes) the plain lines alone.
// --quiet keeps only what needs attention: warnings, failures, rollbacks, the end.

export interface ProgressOptions {
  level: LogLevel;
  quiet?: boolean | undefined;
  /** Force the live block on or off (default: when the stream is a terminal). */
  live?: boolean | undefined;
  now?: () => number;
}

const ATTENTION = new Set<MigrationEvent['type']>(['warning', 'rollback', 'runDone', 'apiRetry']);

export function createProgress(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, opts: ProgressOptions): MigrationEventSink {
  const plain = createProgressReporter(out, opts.level);
  // -v warn and -v error print only what needs attention, as --quiet does.
  if (opts.quiet || opts.level === 'warn' || opts.level === 'error') {
    return (e) => {
      if (ATTENTION.has(e.type) || (e.type === 'connectivity' && !e.verdict.ok) || (e.type === 'preflight' && e.checks.some((c) => c.verdict !== 'pass'))) plain(e);
    };
  }
  const live = opts.live ?? (out.isTTY === true && opts.level !== 'debug');
  if (!live) return plain;
  const now = opts.now ?? Date.now;
  const status = newLiveStatus(now());
  // The plain lines go through the same stream; log-update clears its block before each.
  const update = createLogUpdate(out, { showCursor: true });
  const render = () => update(renderLiveStatus(status, now(), Math.max(40, (out.columns ?? 100) - 1)).join('\n'));
  const timer = setInterval(render, 1000);
  timer.unref();
  return (e) => {
    update.clear();
    plain(e);
    applyEvent(status, e, now());
    if (status.finished) {
      clearInterval(timer);
      update.done();
      return;
    }
    render();
  };
}
