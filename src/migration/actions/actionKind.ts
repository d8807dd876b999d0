import type { MigrationConfig } from '../../config/configSchema.js';
import type { DaemonSetLookup } from '../../ops/drainFilters.js';
import type { SharedWaits } from '../sharedWaits.js';
import type { ClusterClient } from '../../kube/clusterClient.js';
import type { KubeObject } from '../../kube/kubeTypes.js';
import type { Clock } from '../../ops/clock.js';
import type { EventSink } from '../../ops/opsEvents.js';
import type { ClusterSnapshot } from '../clusterSnapshot.js';
import type { ConnectivityGate } from '../connectivityGate.js';
import type { MigrationEventSink } from '../migrationEvents.js';
import type { Action, ActionKindName } from '../plan.js';

/** The rendered manifest bundles a plan may apply, by bundle name ("probe", "cilium", "multus"…). */
export type ManifestBundles = Readonly<Record<string, readonly KubeObject[]>>;

/** What executing an action needs. */
export interface ActionRuntime {
  client: ClusterClient;
  config: MigrationConfig;
  manifests: ManifestBundles;
  gate: ConnectivityGate;
  events: MigrationEventSink;
  /** The step the action belongs to (for events). */
  step: number;
  /** Sink for the primitives' own events (drain progress, retries…). */
  ops: EventSink;
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  /** Poll interval of the waits (small on the simulated cluster). */
  pollIntervalMs?: number | undefined;
  /** DaemonSets the step's drains found (see DrainOptions.daemonSetLookups). */
  daemonSetLookups?: Map<string, Promise<DaemonSetLookup>> | undefined;
  /** Waits the nodes of a batch share (one per step). */
  sharedWaits?: SharedWaits | undefined;
}

/**
 * One kind of action, whole: how a plan describes it, what it does to the planned state (so a
 * dry run plans later steps on the state earlier ones leave) and how it runs.
 */
export interface ActionKind<A extends Action> {
  /** One line, kubectl-style where there is an equivalent. */
  describe(a: A): string;
  /** Mutates `s` (a copy) into the state the action leaves when it succeeds. */
  plan(a: A, s: ClusterSnapshot): void;
  /** Does it; throws on failure (the executor adds step, node and resume hint). */
  run(a: A, rt: ActionRuntime): Promise<void>;
}

/** An action kind whose run leaves the planned state as it is (waits, checks). */
export const noPlannedEffect = (): void => {};

/** The registry's shape: every action kind has exactly one handler. */
export type ActionKinds = { [K in ActionKindName]: ActionKind<Extract<Action, { kind: K }>> };
