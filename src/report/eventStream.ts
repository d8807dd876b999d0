import type { MigrationEvent } from '../migration/migrationEvents.js';
import type { RunReport } from './runRecorder.js';

// -o json on run and demo: the engine's events as NDJSON on stdout, one object per line with its
// "type" (runStart, stepStart, nodeStart, action, connectivity, warning, ... runDone), then one
// {"type":"report"} line holding the report (schema: cni-migration report-schema). Progress text
// stays on stderr, so a pipeline reads stdout line by line.

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** One event as its NDJSON line (with "at" as an ISO time where the event has one). */
export function eventLine(e: MigrationEvent): string {
  const at = 'at' in e && typeof e.at === 'number' ? { at: new Date(e.at).toISOString() } : {};
  return `${JSON.stringify({ ...e, ...at }, replacer)}\n`;
}

/** The closing line. */
export function reportLine(report: RunReport, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ type: 'report', ...extra, report }, replacer)}\n`;
}
