import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import type { MigrationPlan } from './actions.js';
import { readClusterSnapshot, type ClusterSnapshot } from './clusterSnapshot.js';
import type { ConnectivityGate } from './connectivityGate.js';
import type { MigrationEventSink } from './migrationEvents.js';
import { buildMigrationPlan } from './planBuilder.js';
import { executePlan, inventoryOf, type ManifestBundles } from './planExecutor.js';
import type { StepSelection } from './steps.js';

/** Reads the cluster and plans the selected steps (no changes). */
export async function planMigration(client: ClusterClient, config: MigrationConfig, selection: StepSelection, manifests: ManifestBundles): Promise<{ plan: MigrationPlan; snapshot: ClusterSnapshot }> {
  const snapshot = await readClusterSnapshot(client, config);
  const inventory = { probe: inventoryOf(manifests.probe), cilium: inventoryOf(manifests.cilium), multus: inventoryOf(manifests.multus) };
  return { plan: buildMigrationPlan(snapshot, config, selection, inventory), snapshot };
}

/** What a run needs besides the plan. */
export interface RunMigrationOptions {
  client: ClusterClient;
  config: MigrationConfig;
  selection: StepSelection;
  manifests: ManifestBundles;
  /** Default true: print the plan, change nothing. */
  dryRun: boolean;
  /** Builds the connectivity gate (only for real runs). */
  gate: () => ConnectivityGate;
  events: MigrationEventSink;
  signal?: AbortSignal | undefined;
  pollIntervalMs?: number;
  resumeCommand: string;
}

/**
 * Plans, then (unless dry run) executes step by step. Each step is re-planned from the live
 * cluster right before it runs, so a run resumes exactly where labels say it stopped.
 */
export async function runMigration(opts: RunMigrationOptions): Promise<{ plan: MigrationPlan }> {
  const { plan, snapshot } = await planMigration(opts.client, opts.config, opts.selection, opts.manifests);
  opts.events({ type: 'runStart', dryRun: opts.dryRun, steps: opts.selection.steps, nodes: snapshot.nodes.map((n) => n.name), at: Date.now() });
  if (opts.dryRun) {
    opts.events({ type: 'runDone', ok: true, at: Date.now() });
    return { plan };
  }
  const gate = opts.gate();
  try {
    for (const step of opts.selection.steps) {
      const fresh = await planMigration(opts.client, opts.config, { ...opts.selection, steps: [step] }, opts.manifests);
      await executePlan(fresh.plan, { ...opts, gate, resumeCommand: opts.resumeCommand });
    }
    opts.events({ type: 'runDone', ok: true, at: Date.now() });
  } catch (e) {
    opts.events({ type: 'runDone', ok: false, at: Date.now(), error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    await gate.stop();
  }
  return { plan };
}
