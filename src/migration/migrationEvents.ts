import type { OpsEvent } from '../ops/opsEvents.js';
import type { Action, StepPlan } from './plan.js';
import type { ConnectivityVerdict } from './connectivityGate.js';
import type { PreflightCheck } from './preflightChecks.js';
import type { RetryNotice } from '../kube/requestRetry.js';

/** Everything the engine reports while it runs; reporters (terminal, JSON, report file) consume these. */
export type MigrationEvent =
  | { type: 'runStart'; dryRun: boolean; strategy: string; source: string; steps: number[]; nodes: string[]; at: number }
  /** The strategy's preflight checks, judged before anything is written. */
  | { type: 'preflight'; checks: PreflightCheck[]; at: number }
  /** A node's switch failed and its rollback ran (rollback: auto). */
  | { type: 'rollback'; step: number; node: string; reason: string; ok: boolean; error?: string | undefined; at: number }
  /** The plan of a step, emitted right before it executes (what `run` executes is what it shows). */
  | { type: 'plan'; step: StepPlan; at: number }
  | { type: 'stepStart'; step: number; name: string; nodes: string[]; alreadyDone: boolean; at: number }
  | { type: 'stepDone'; step: number; at: number; ms: number }
  | { type: 'nodeStart'; step: number; node: string; index: number; total: number; at: number }
  /** A batch of a per-node step starts (only when nodes go together or in groups: --max-unavailable, --canary). */
  | { type: 'batchStart'; step: number; index: number; total: number; nodes: string[]; zone: string; controlPlane: boolean; canary: boolean; at: number }
  /** The canary node is done: the run watches it for waitSeconds, or asks before the remaining nodes. */
  | { type: 'canary'; step: number; node: string; remaining: number; waitSeconds?: number | undefined; at: number }
  | { type: 'nodeDone'; step: number; node: string; at: number; ms: number }
  | { type: 'nodeSkipped'; step: number; node: string; reason: string }
  | { type: 'action'; step: number; node?: string | undefined; action: Action; description: string; at: number }
  | { type: 'actionDone'; step: number; node?: string | undefined; action: Action; at: number; ms: number }
  /** The step's actions are done; the probes are watched a while before it counts as done. */
  | { type: 'settle'; step: number; seconds: number; at: number }
  | { type: 'connectivity'; step: number; node?: string | undefined; when: string; verdict: ConnectivityVerdict; at: number }
  | { type: 'warning'; step?: number | undefined; node?: string | undefined; message: string }
  /** Something the operator should know that is not a problem (e.g. where the last run stopped). */
  | { type: 'note'; message: string }
  | { type: 'ops'; step: number; event: OpsEvent }
  /** A transient API failure, about to be retried. */
  | { type: 'apiRetry'; notice: RetryNotice; at: number }
  | { type: 'runDone'; ok: boolean; at: number; error?: string | undefined };

/** Receives migration events; must not throw. */
export type MigrationEventSink = (event: MigrationEvent) => void;
