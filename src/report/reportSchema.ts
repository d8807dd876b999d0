import { z } from 'zod';
import type { RunReport } from './runRecorder.js';

// The JSON report's published schema (run --report x.json, -o json's final line, demo): what a
// pipeline may rely on. Plans and extra sections are open (their shape follows the strategy and
// the actions it takes); the rest is closed, so a field renamed here fails the tests that parse
// real reports with it.

const failure = z.strictObject({
  from: z.string(),
  to: z.string(),
  fromNode: z.string().optional(),
  toNode: z.string().optional(),
  network: z.string().optional(),
  reason: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
});

export const RunReportSchema = z.strictObject({
  ok: z.boolean().describe('true when every selected step finished (demo: and the outcome was verified)'),
  strategy: z.string().optional(),
  source: z.string().optional().describe('the source CNI: canal, calico or flannel'),
  error: z.string().optional().describe('why the run stopped, naming the step, node and action'),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  durationMs: z.number().nonnegative(),
  steps: z.array(
    z.strictObject({
      step: z.number().int(),
      name: z.string(),
      alreadyDone: z.boolean(),
      durationMs: z.number().optional().describe('absent: the step did not finish'),
      nodes: z.array(z.strictObject({ node: z.string(), startedAt: z.string().optional(), batch: z.number().int().optional(), durationMs: z.number().optional() })),
      skippedNodes: z.array(z.string()),
    }),
  ),
  connectivity: z.strictObject({ checkpoints: z.number().int(), probesSeen: z.number().int(), pairChecks: z.number().int(), failedPairs: z.array(failure) }),
  warnings: z.array(z.string()),
  apiRetries: z.record(z.string(), z.number().int()),
  plans: z.array(z.object({ step: z.number().int(), name: z.string(), title: z.string(), alreadyDone: z.boolean() }).describe('the plan of each step as it ran (actions per node; other fields follow the strategy)')),
  preflight: z.array(z.strictObject({ name: z.string(), verdict: z.enum(['pass', 'warn', 'fail']), detail: z.string(), fix: z.string().optional() })),
  podRecreations: z.record(z.string(), z.number().int()),
  rollbacks: z.array(z.strictObject({ node: z.string(), step: z.number().int(), reason: z.string(), ok: z.boolean(), error: z.string().optional() })),
  extra: z.record(z.string(), z.unknown()),
});

/** The schema as JSON Schema (draft 2020-12), for tools outside TypeScript. */
export function reportJsonSchema(): Record<string, unknown> {
  return { $id: 'https://cni-migration.dev/schemas/run-report.json', title: 'cni-migration run report', ...z.toJSONSchema(RunReportSchema, { io: 'input' }) };
}

/** Compile-time check that every report the recorder builds fits the schema's input type. */
export const reportFitsSchema = (r: RunReport): z.input<typeof RunReportSchema> => r;
