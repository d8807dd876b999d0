import type { MigrationEvent, MigrationEventSink } from '../migration/migrationEvents.js';
import type { OpsEvent } from '../ops/opsEvents.js';
import type { RetryNotice } from '../kube/requestRetry.js';
import { describeAction } from '../migration/actions/actionKinds.js';

/** How much to print. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * Live progress as plain lines (one event per line, safe for CI logs), with the step, the node
 * and nodes done/total on every line, so a person at 3 a.m. sees where the run is.
 */
export function createProgressReporter(out: NodeJS.WritableStream, level: LogLevel = 'info'): MigrationEventSink {
  const debug = level === 'debug';
  const t0 = Date.now();
  let nodesDone = 0;
  let nodesTotal = 0;
  const names = new Map<number, string>();
  const stepLabel = (step: number) => `step ${step} ${names.get(step) ?? ''}`.trimEnd();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
  const write = (s: string) => out.write(`${stamp()} ${s}\n`);
  return (e: MigrationEvent) => {
    switch (e.type) {
      case 'runStart':
        write(`${e.dryRun ? 'DRY RUN ' : ''}migrating ${e.nodes.length} nodes from ${e.source} with the ${e.strategy} strategy, steps ${e.steps.join(', ')}`);
        break;
      case 'plan': {
        names.set(e.step.step, e.step.name);
        const count = e.step.actions.length + e.step.nodes.reduce((n, x) => n + x.actions.length, 0);
        write(`${stepLabel(e.step.step)}: plan: ${count} actions${e.step.nodes.length ? ` on ${nodesText(e.step.nodes.length)}` : ''}${e.step.skippedNodes.length ? `, ${nodesText(e.step.skippedNodes.length)} already past it` : ''}`);
        if (e.step.orderNote) write(`${stepLabel(e.step.step)}: order: ${e.step.orderNote}`);
        if (debug) {
          for (const a of e.step.actions) write(`  - ${describeAction(a)}`);
          for (const n of e.step.nodes) for (const a of n.actions) write(`  - [${n.node}] ${describeAction(a)}`);
        }
        break;
      }
      case 'preflight':
        // Few and decisive (what was found, and judged): shown at every level.
        for (const c of e.checks) write(`preflight ${c.verdict.toUpperCase()} ${c.name}: ${c.detail}${c.fix && c.verdict !== 'pass' ? ` (fix: ${c.fix})` : ''}`);
        if (e.checks.length && e.checks.every((c) => c.verdict === 'pass')) write(`preflight: ${e.checks.length === 1 ? 'the check' : `${e.checks.length} checks`} passed`);
        break;
      case 'rollback':
        write(e.ok ? `${stepLabel(e.step)} node ${e.node}: rolled back to the source CNI after: ${e.reason}` : `${stepLabel(e.step)} node ${e.node}: rollback FAILED (${e.error ?? '?'}) after: ${e.reason}`);
        break;
      case 'stepStart':
        names.set(e.step, e.name);
        nodesDone = 0;
        nodesTotal = e.nodes.length;
        write(`${stepLabel(e.step)}: start${e.alreadyDone ? ' (already done; checking)' : ''}${e.nodes.length ? ` — ${nodesText(e.nodes.length)}` : ''}`);
        break;
      case 'stepDone':
        write(`${stepLabel(e.step)}: done in ${(e.ms / 1000).toFixed(1)}s`);
        break;
      case 'nodeStart':
        write(`${stepLabel(e.step)} [${nodesDone}/${nodesTotal} nodes done] node ${e.node}: start`);
        break;
      case 'nodeDone':
        nodesDone++;
        write(`${stepLabel(e.step)} [${nodesDone}/${nodesTotal} nodes done] node ${e.node}: done in ${(e.ms / 1000).toFixed(1)}s`);
        break;
      case 'batchStart':
        write(`${stepLabel(e.step)} [${nodesDone}/${nodesTotal} nodes done] batch ${e.index + 1}/${e.total}${e.canary ? ' (canary)' : ''}${e.zone ? ` zone ${e.zone}` : ''}${e.controlPlane ? ' (control plane)' : ''}: ${e.nodes.join(', ')}`);
        break;
      case 'canary':
        write(`${stepLabel(e.step)}: canary node ${e.node} done; ${e.waitSeconds !== undefined ? `watching connectivity for ${e.waitSeconds}s before the other ${nodesText(e.remaining)}` : `waiting for confirmation before the other ${nodesText(e.remaining)}`}`);
        break;
      case 'nodeSkipped':
        write(`${stepLabel(e.step)} node ${e.node}: skipped (${e.reason})`);
        break;
      case 'action':
        if (debug || e.action.kind === 'drain' || e.action.kind === 'applyManifests' || e.action.kind === 'verifyNodePods') write(`${stepLabel(e.step)}${e.node ? ` node ${e.node}` : ''}: ${e.description}`);
        break;
      case 'settle':
        write(`${stepLabel(e.step)}: watching connectivity for ${e.seconds.toFixed(1)}s before the step counts as done`);
        break;
      case 'connectivity':
        write(`${stepLabel(e.step)}: connectivity ${e.verdict.ok ? 'OK' : 'FAILED'} ${e.when} — ${e.verdict.probes} probes, ${e.verdict.pairs} pairs${e.verdict.failures.length ? `, ${e.verdict.failures.length} failing` : ''}`);
        break;
      case 'warning':
        write(`warning: ${e.message}`);
        break;
      case 'note':
        write(e.message);
        break;
      case 'ops':
        if (debug || e.event.type === 'evictionRetry' || e.event.type === 'drainWarning') write(`${stepLabel(e.step)}: ${describeOps(e.event)}`);
        break;
      case 'apiRetry':
        write(retryLine(e.notice));
        break;
      case 'runDone':
        write(e.ok ? 'migration run finished' : `migration run stopped: ${e.error ?? 'failed'}`);
        break;
      default:
        break;
    }
  };
}

/** One retry of a transient API failure as a progress line. */
export function retryLine(n: RetryNotice): string {
  return `api: ${n.request}: ${n.why}; retry ${n.attempt}/${n.attempts - 1} in ${(n.delayMs / 1000).toFixed(1)}s`;
}

function describeOps(e: OpsEvent): string {
  switch (e.type) {
    case 'evictionRetry':
      return `eviction of ${e.pod} refused (${e.reason}): ${e.message}; retrying in ${(e.retryInMs / 1000).toFixed(1)}s`;
    case 'drainWarning':
      return `drain ${e.node}: ${e.message}: ${e.pods.join(', ')}`;
    case 'podEvicting':
      return `evicting ${e.pod}`;
    case 'podGone':
      return `${e.pod} gone`;
    case 'waiting':
      return `waiting for ${e.what}: ${e.status}`;
    default:
      return JSON.stringify(e);
  }
}

function nodesText(n: number): string {
  return `${n} node${n === 1 ? '' : 's'}`;
}
