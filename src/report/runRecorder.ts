import type { ConnectivityFailure } from '../migration/connectivityGate.js';
import type { MigrationEvent } from '../migration/migrationEvents.js';
import type { StepPlan } from '../migration/plan.js';
import type { PreflightCheck } from '../migration/preflightChecks.js';

/** Per step and node timings, connectivity checks and failures: the final report of a run. */
export interface RunReport {
  ok: boolean;
  strategy?: string | undefined;
  source?: string | undefined;
  error?: string | undefined;
  startedAt: string;
  finishedAt?: string | undefined;
  durationMs: number;
  steps: { step: number; name: string; alreadyDone: boolean; durationMs?: number | undefined; nodes: { node: string; startedAt?: string | undefined; batch?: number | undefined; durationMs?: number | undefined }[]; skippedNodes: string[] }[];
  connectivity: { checkpoints: number; probesSeen: number; pairChecks: number; failedPairs: ConnectivityFailure[] };
  warnings: string[];
  /** Transient API failures retried, by why (e.g. "the API server failed the request (500)"). */
  apiRetries: Record<string, number>;
  /** The plan of each step as it ran. */
  plans: StepPlan[];
  /** The strategy's preflight checks. */
  preflight: PreflightCheck[];
  /** Pods the run evicted or deleted (so their controllers re-created them), by workload. */
  podRecreations: Record<string, number>;
  /** Nodes rolled back after a failed switch. */
  rollbacks: { node: string; step: number; reason: string; ok: boolean; error?: string | undefined }[];
  /** Extra sections (the simulator's ground truth in a demo). */
  extra: Record<string, unknown>;
}

/** Builds a RunReport from the engine's events. */
export class RunRecorder {
  readonly report: RunReport = {
    ok: false,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    steps: [],
    connectivity: { checkpoints: 0, probesSeen: 0, pairChecks: 0, failedPairs: [] },
    warnings: [],
    apiRetries: {},
    plans: [],
    preflight: [],
    podRecreations: {},
    rollbacks: [],
    extra: {},
  };
  private readonly t0 = Date.now();
  /** The batch each step is in (1-based), while batches run. */
  private readonly batchOfStep = new Map<number, number>();

  /** The event sink to give the engine. */
  readonly sink = (e: MigrationEvent): void => {
    const r = this.report;
    const step = (id: number) => r.steps.find((s) => s.step === id);
    switch (e.type) {
      case 'runStart':
        r.strategy = e.strategy;
        r.source = e.source;
        break;
      case 'plan':
        r.plans.push(e.step);
        break;
      case 'preflight':
        r.preflight.push(...e.checks);
        break;
      case 'ops':
        if ((e.event.type === 'podEvicting' || e.event.type === 'podDeleting') && e.event.workload) r.podRecreations[e.event.workload] = (r.podRecreations[e.event.workload] ?? 0) + 1;
        break;
      case 'rollback':
        r.rollbacks.push({ node: e.node, step: e.step, reason: e.reason, ok: e.ok, error: e.error });
        break;
      case 'stepStart':
        r.steps.push({ step: e.step, name: e.name, alreadyDone: e.alreadyDone, nodes: [], skippedNodes: [] });
        break;
      case 'stepDone':
        step(e.step)!.durationMs = e.ms;
        break;
      case 'batchStart':
        this.batchOfStep.set(e.step, e.index + 1);
        break;
      case 'nodeStart': {
        const batch = this.batchOfStep.get(e.step);
        step(e.step)?.nodes.push({ node: e.node, startedAt: new Date(e.at).toISOString(), ...(batch !== undefined ? { batch } : {}) });
        break;
      }
      case 'nodeDone': {
        const n = step(e.step)?.nodes.find((x) => x.node === e.node);
        if (n) n.durationMs = e.ms;
        break;
      }
      case 'nodeSkipped':
        step(e.step)?.skippedNodes.push(e.node);
        break;
      case 'connectivity':
        r.connectivity.checkpoints++;
        r.connectivity.probesSeen = Math.max(r.connectivity.probesSeen, e.verdict.probes);
        r.connectivity.pairChecks += e.verdict.pairs;
        r.connectivity.failedPairs.push(...e.verdict.failures);
        break;
      case 'warning':
        r.warnings.push(e.message);
        break;
      case 'apiRetry':
        r.apiRetries[e.notice.why] = (r.apiRetries[e.notice.why] ?? 0) + 1;
        break;
      case 'runDone':
        r.ok = e.ok;
        r.error = e.error;
        r.finishedAt = new Date(e.at).toISOString();
        r.durationMs = e.at - this.t0;
        break;
      default:
        break;
    }
  };
}

/** The report as Markdown. */
export function renderReportMarkdown(r: RunReport): string {
  const out: string[] = [`# cni-migration report`, '', `- Result: **${r.ok ? 'success' : 'FAILED'}**${r.error ? ` — ${r.error}` : ''}`, `- Strategy: ${r.strategy ?? '?'}, from ${r.source ?? '?'}`, `- Started: ${r.startedAt}`, `- Duration: ${(r.durationMs / 1000).toFixed(1)} s`, ''];
  out.push('## Steps', '', '| Step | Duration | Nodes |', '|---|---|---|');
  for (const s of r.steps) {
    const nodes = s.nodes.map((n) => `${n.node} ${n.durationMs !== undefined ? `${(n.durationMs / 1000).toFixed(1)} s` : '(unfinished)'}`).join(', ');
    out.push(`| ${s.step} ${s.name}${s.alreadyDone ? ' (already done)' : ''} | ${s.durationMs !== undefined ? `${(s.durationMs / 1000).toFixed(1)} s` : 'unfinished'} | ${nodes || '—'}${s.skippedNodes.length ? `; skipped ${s.skippedNodes.join(', ')}` : ''} |`);
  }
  out.push('', '## Connectivity', '', `- Checkpoints: ${r.connectivity.checkpoints}`, `- Probe pods (max seen): ${r.connectivity.probesSeen}`, `- Pair checks: ${r.connectivity.pairChecks}`, `- Failed pairs: ${r.connectivity.failedPairs.length}`);
  for (const f of r.connectivity.failedPairs.slice(0, 50)) out.push(`  - ${f.from} → ${f.to}${f.network ? ` (${f.network})` : ''}: ${f.reason} (${f.firstSeen} … ${f.lastSeen})`);
  const recreated = Object.entries(r.podRecreations).sort(([a], [b]) => (a < b ? -1 : 1));
  if (recreated.length) out.push('', '## Pods re-created', '', '| Workload | Pods evicted or deleted |', '|---|---|', ...recreated.map(([w, n]) => `| ${w} | ${n} |`));
  if (r.preflight.length) out.push('', '## Preflight', '', ...r.preflight.map((c) => `- ${c.verdict.toUpperCase()} ${c.name}: ${c.detail}${c.fix && c.verdict !== 'pass' ? ` — fix: ${c.fix}` : ''}`));
  if (r.rollbacks.length) out.push('', '## Rollbacks', '', ...r.rollbacks.map((b) => `- ${b.node} (step ${b.step}): ${b.ok ? 'rolled back' : `rollback failed: ${b.error ?? '?'}`} after: ${b.reason}`));
  const retries = Object.entries(r.apiRetries);
  if (retries.length) out.push('', '## API requests retried', '', ...retries.map(([why, n]) => `- ${n} × ${why}`));
  if (r.warnings.length) out.push('', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`));
  for (const [k, v] of Object.entries(r.extra)) out.push('', `## ${k}`, '', '```json', JSON.stringify(v, null, 2), '```');
  return `${out.join('\n')}\n`;
}
