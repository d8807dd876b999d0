import type { MigrationConfig } from '../config/configSchema.js';
import type { ObjectRef } from '../kube/kubeTypes.js';
import type { SourceDescription } from '../source/sourceTypes.js';
import type { ClusterFacts } from './clusterFacts.js';
import type { ClusterSnapshot, NodeSnapshot, SnapshotQuery } from './clusterSnapshot.js';
import type { Action } from './plan.js';
import type { PreflightCheck } from './preflightChecks.js';

// A migration strategy is a plug-in of the engine: it names its steps, judges their readiness on a
// snapshot, and plans each step's actions — all pure. The engine (planBuilder, planExecutor) reads
// the cluster, executes the actions, gates every node on connectivity and records progress.

/** One step of a strategy. */
export interface StepDef {
  id: number;
  name: string;
  title: string;
  /** Works node by node (the engine reports per-node progress and honours --nodes). */
  perNode: boolean;
}

/** What a strategy plans from, besides the snapshot. */
export interface StrategyContext {
  config: MigrationConfig;
  source: SourceDescription;
  /** The objects of each manifest bundle the strategy may apply. */
  bundles: Readonly<Record<string, readonly ObjectRef[]>>;
  /** An installed Cilium, node addresses, the Service range. */
  facts: ClusterFacts;
  /** A migration is already recorded in the cluster (a resumed run): checks of the untouched cluster no longer apply. */
  started?: boolean | undefined;
}

/** A step's readiness (done), with the reason when not. */
export interface StepReadiness {
  step: number;
  ready: boolean;
  reason: string;
}

/** The order a strategy wants for a per-node step. */
export interface NodeOrder {
  nodes: NodeSnapshot[];
  /** Why, for plan and progress. */
  note?: string | undefined;
  /** The first this many nodes go one at a time whatever --max-unavailable says (the strategy's reason is in the note). */
  alone?: number | undefined;
  /** Drained pods can only go to nodes already done: how many are (batches grow with them; see nodeBatches.ts). */
  receivers?: number | undefined;
}

/** A migration strategy. */
export interface Strategy {
  readonly name: string;
  /** One line for --help and status. */
  readonly summary: string;
  readonly steps: readonly StepDef[];
  /** The step after which a node can no longer be rolled back to the source CNI (for plan and status). */
  readonly pointOfNoReturn?: { step: number; why: string } | undefined;
  /** What the planner must read besides the nodes. */
  snapshotQuery(ctx: StrategyContext): SnapshotQuery;
  /** Whether a step is done on this snapshot (the seed's Ready()). */
  readiness(step: number, s: ClusterSnapshot, ctx: StrategyContext): StepReadiness;
  /** The step-wide actions (for a per-node step, those before its nodes). */
  stepActions(step: number, s: ClusterSnapshot, ctx: StrategyContext): Action[];
  /** The order a per-node step takes the nodes in when the user names none (default: by name). */
  nodeOrder?(step: number, nodes: readonly NodeSnapshot[], ctx: StrategyContext): NodeOrder;
  /** A node's actions in a per-node step; empty when the node is already past it. */
  nodeActions(step: number, node: NodeSnapshot, s: ClusterSnapshot, ctx: StrategyContext): Action[];
  /** Where a node stands, in the strategy's words. */
  nodePhase(node: NodeSnapshot, ctx: StrategyContext): string;
  /** The phase every node is in once the migration is complete. */
  readonly finalPhase: string;
  /** Actions that undo a node's part of a per-node step when it fails there (rollback: auto). */
  nodeRollback?(step: number, node: NodeSnapshot, s: ClusterSnapshot, ctx: StrategyContext): Action[] | undefined;
  /** The ranges Cilium gives pods (every pod is in one at the end). */
  ciliumPool(ctx: StrategyContext): string[];
  /** Taint keys the strategy puts on nodes (none may be left at the end). */
  taintKeys(ctx: StrategyContext): string[];
  /** Checks judged before anything is written; a failing one refuses the run. */
  preflight?(ctx: StrategyContext): PreflightCheck[];
  /** The manifest bundles it applies, by name (rendered by the I/O side for the source). */
  readonly bundleNames: readonly string[];
  /** The actions that put one node back on the source CNI (empty when the strategy cannot). */
  rollbackActions?(node: NodeSnapshot, s: ClusterSnapshot, ctx: StrategyContext): Action[];
  /** Why rolling nodes back is no longer possible here, if it is not. */
  rollbackRefusal?(s: ClusterSnapshot, ctx: StrategyContext): string | undefined;
}
