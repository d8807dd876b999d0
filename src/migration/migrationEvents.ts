import type { OpsEvent } from '../ops/opsEvents.js';
import type { Action } from './actions.js';
import type { ConnectivityVerdict } from './connectivityGate.js';
import type { StepId } from './steps.js';

/** Everything the engine reports while it runs; reporters (terminal, JSON, report file) consume these. */
export type MigrationEvent =
  | { type: 'runStart'; dryRun: boolean; steps: StepId[]; nodes: string[]; at: number }
  | { type: 'stepStart'; step: StepId; name: string; nodes: string[]; alreadyDone: boolean; at: number }
  | { type: 'stepDone'; step: StepId; at: number; ms: number }
  | { type: 'nodeStart'; step: StepId; node: string; index: number; total: number; at: number }
  | { type: 'nodeDone'; step: StepId; node: string; at: number; ms: number }
  | { type: 'nodeSkipped'; step: StepId; node: string; reason: string }
  | { type: 'action'; step: StepId; action: Action; description: string; at: number }
  | { type: 'actionDone'; step: StepId; action: Action; at: number; ms: number }
  | { type: 'connectivity'; step: StepId; node?: string | undefined; when: string; verdict: ConnectivityVerdict; at: number }
  | { type: 'warning'; step?: StepId | undefined; node?: string | undefined; message: string }
  | { type: 'ops'; step: StepId; event: OpsEvent }
  | { type: 'runDone'; ok: boolean; at: number; error?: string | undefined };

/** Receives migration events; must not throw. */
export type MigrationEventSink = (event: MigrationEvent) => void;
