import { describe, expect, it } from 'vitest';
import { RunReportSchema } from '../../src/report/reportSchema.js';
import { runCliProcess } from '../support/cliProcess.js';

// -o json for pipelines: demo streams the engine's events as NDJSON on stdout and ends with the
// report, which the published schema accepts; the human summary goes to stderr.

describe('demo -o json', () => {
  it('streams NDJSON events, then the report the published schema accepts', { timeout: 180_000 }, async () => {
    const r = await runCliProcess(['-o', 'json', 'demo', '--nodes', '2']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    const types = lines.map((l) => l.type);
    expect(types[0]).toBe('runStart');
    expect(types).toContain('stepStart');
    expect(types).toContain('nodeDone');
    expect(types).toContain('connectivity');
    expect(types.at(-2)).toBe('runDone');
    expect(types.at(-1)).toBe('report');
    expect(lines.find((l) => l.type === 'stepStart')).toMatchObject({ step: 0, name: 'preflight', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string });
    const last = lines.at(-1) as unknown as { report: unknown; outcome: { name: string; ok: boolean }[] };
    const report = RunReportSchema.parse(last.report);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.name)).toEqual(['preflight', 'prepare', 'roll', 'priority', 'migrate', 'clean-up']);
    expect(last.outcome.every((c) => c.ok)).toBe(true);
    expect(r.stderr).toContain('Migration verified');
    // The schema is closed: a report with a field it does not know fails it.
    expect(RunReportSchema.safeParse({ ...report, stepz: [] }).success).toBe(false);
  });

  it('report-schema prints the JSON Schema', async () => {
    const r = await runCliProcess(['report-schema']);
    const schema = JSON.parse(r.stdout) as { title: string; type: string; required: string[]; properties: Record<string, unknown> };
    expect(schema.title).toBe('cni-migration run report');
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(expect.arrayContaining(['ok', 'steps', 'connectivity']));
    expect(Object.keys(schema.properties)).toContain('podRecreations');
  });
});
