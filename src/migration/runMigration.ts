import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import type { ObjectRef } from '../kube/kubeTypes.js';
import { discoverSource, SourceDetectionError } from '../source/discoverSource.js';
import type { SourceDescription } from '../source/sourceTypes.js';
import type { ManifestBundles } from './actions/actionKind.js';
import { readClusterFacts } from './clusterFacts.js';
import { readClusterSnapshot, type ClusterSnapshot } from './clusterSnapshot.js';
import type { ConnectivityGate } from './connectivityGate.js';
import type { MigrationEvent, MigrationEventSink } from './migrationEvents.js';
import { MigrationStepError } from './migrationErrors.js';
import { assertPreflight, PreflightRefusedError, type PreflightCheck } from './preflightChecks.js';
import { removeLeftoverTunnelCheck, runTunnelCheck, TUNNEL_CHECK, tunnelToCheck } from '../preflight/tunnelCheck.js';
import { chooseStrategyName, ensureMigrationRecord, readMigrationRecord, type MigrationRecord } from './migrationRecord.js';
import { refOfObject } from './objectRefs.js';
import type { MigrationPlan } from './plan.js';
import { buildMigrationPlan, type StepSelection } from './planBuilder.js';
import { executePlan } from './planExecutor.js';
import { clusterPreflight } from '../preflight/clusterPreflight.js';
import { LedgerRecorder, LedgerWriter, lastRunEnding, readLedger } from './runLedger.js';
import { acquireRunLock, runIdentity, type RunLock } from './runLock.js';
import { DEFAULT_STRATEGY, findStrategy, strategyNames } from './strategies/strategies.js';
import type { Strategy, StrategyContext } from './strategy.js';

/** A strategy name that does not exist. Exit code 2. */
export class UnknownStrategyError extends Error {
  constructor(readonly requested: string) {
    super(`unknown strategy "${requested}": use one of ${strategyNames().join(', ')}`);
    this.name = 'UnknownStrategyError';
  }
}

/** Everything planning needs, read once from the cluster: the source, the strategy, its manifests. */
export interface PreparedMigration {
  source: SourceDescription;
  strategy: Strategy;
  record: MigrationRecord | undefined;
  manifests: ManifestBundles;
  ctx: StrategyContext;
}

/** Renders a strategy's manifest bundles for a source (I/O: reads the bundled or the user's files). */
export type RenderManifests = (source: SourceDescription, strategy: Strategy) => ManifestBundles;

/** The strategy by name, or UnknownStrategyError. */
export function strategyByName(name: string): Strategy {
  const s = findStrategy(name);
  if (!s) throw new UnknownStrategyError(name);
  return s;
}

/** Discovers the source, chooses the strategy (requested, recorded or default) and renders its manifests. */
export async function prepareMigration(client: ClusterClient, config: MigrationConfig, opts: { strategy?: string | undefined; render: RenderManifests }): Promise<PreparedMigration> {
  if (opts.strategy !== undefined) strategyByName(opts.strategy);
  const record = await readMigrationRecord(client);
  const source = await sourceOf(client, config, record);
  const strategy = strategyByName(chooseStrategyName(opts.strategy, record, DEFAULT_STRATEGY));
  const manifests = opts.render(source, strategy);
  const bundles: Record<string, ObjectRef[]> = {};
  for (const [name, objects] of Object.entries(manifests)) bundles[name] = objects.map(refOfObject);
  const facts = await readClusterFacts(client, config.cilium.serviceCIDR);
  return { source, strategy, record, manifests, ctx: { config, source, bundles, facts, started: record !== undefined } };
}

/** The strategy's preflight checks on the prepared facts (pure; nothing is read or written). */
export function preflightChecks(prepared: PreparedMigration): PreflightCheck[] {
  return prepared.strategy.preflight?.(prepared.ctx) ?? [];
}

/**
 * The source as discovered now; once a migration has removed it (clean-up deleted its DaemonSet),
 * the one its record kept, so status, plans and resumed runs still know what they migrate from.
 */
async function sourceOf(client: ClusterClient, config: MigrationConfig, record: MigrationRecord | undefined): Promise<SourceDescription> {
  try {
    const live = await discoverSource(client, config.cni);
    const kept = record?.sourceDescription;
    if (kept && (kept.daemonSet.namespace !== live.daemonSet.namespace || kept.daemonSet.name !== live.daemonSet.name)) {
      live.warnings.push(`the migration started from ${record.source}, but the cluster now runs ${live.kind} (DaemonSet ${live.daemonSet.namespace}/${live.daemonSet.name})`);
    }
    return live;
  } catch (e) {
    if (!(e instanceof SourceDetectionError && e.problem === 'none' && record?.sourceDescription)) throw e;
    return { ...record.sourceDescription, warnings: [`the source CNI is no longer installed; using ${record.source} as recorded when the migration started (${record.startedAt})`] };
  }
}

/** A step ran all its actions but the cluster does not show it done: stop before the next one builds on it. */
async function verifyStepDone(client: ClusterClient, prepared: PreparedMigration, step: number, resumeCommand: string): Promise<void> {
  const snapshot = await readClusterSnapshot(client, prepared.strategy.snapshotQuery(prepared.ctx));
  const r = prepared.strategy.readiness(step, snapshot, prepared.ctx);
  if (r.ready) return;
  const name = prepared.strategy.steps[step]?.name ?? String(step);
  throw new MigrationStepError(step, name, undefined, 'finish the step', new Error(`every action ran, but the cluster does not show the step done: ${r.reason}`), `Re-run the same command (${resumeCommand}) to finish it; \`cni-migration status\` shows what is missing.`);
}

/** Reads the cluster and plans the selected steps (no changes). */
export async function planMigration(client: ClusterClient, prepared: PreparedMigration, selection: StepSelection): Promise<{ plan: MigrationPlan; snapshot: ClusterSnapshot }> {
  // Budgets matter only when nodes can go together.
  const budgets = String(prepared.ctx.config.batches.maxUnavailable) !== '1';
  const snapshot = await readClusterSnapshot(client, { ...prepared.strategy.snapshotQuery(prepared.ctx), budgets });
  return { plan: buildMigrationPlan(prepared.strategy, snapshot, prepared.ctx, selection), snapshot };
}

/** What a run needs besides the plan. */
export interface RunMigrationOptions {
  client: ClusterClient;
  config: MigrationConfig;
  prepared: PreparedMigration;
  selection: StepSelection;
  /** Default true: print the plan, change nothing. */
  dryRun: boolean;
  /** Builds the connectivity gate (only for real runs). */
  gate: () => ConnectivityGate;
  events: MigrationEventSink;
  signal?: AbortSignal | undefined;
  pollIntervalMs?: number;
  resumeCommand: string;
  /** Asks the operator (the canary's question); absent where there is no terminal. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** Take the run lock even from a live holder (--force-unlock). */
  forceUnlock?: boolean | undefined;
}

/**
 * Plans, then (unless dry run) executes step by step. Each step is re-planned from the live
 * cluster right before it runs, so a run resumes exactly where labels say it stopped, and the
 * step's plan is emitted before it executes.
 */
export async function runMigration(opts: RunMigrationOptions): Promise<{ plan: MigrationPlan }> {
  const { prepared } = opts;
  const { plan, snapshot } = await planMigration(opts.client, prepared, opts.selection);
  const sourceText = `${prepared.source.kind} (DaemonSet ${prepared.source.daemonSet.namespace}/${prepared.source.daemonSet.name})`;
  const runStart: MigrationEvent = { type: 'runStart', dryRun: opts.dryRun, strategy: prepared.strategy.name, source: sourceText, steps: opts.selection.steps, nodes: snapshot.nodes.map((n) => n.name), at: Date.now() };
  opts.events(runStart);
  for (const w of prepared.source.warnings) opts.events({ type: 'warning', message: w });
  // Before any write, dry run included: a refused migration shows why instead of a plan.
  const checks = await clusterPreflight(opts.client, prepared, plan);
  opts.events({ type: 'preflight', checks, at: Date.now() });
  try {
    assertPreflight(checks);
  } catch (e) {
    opts.events({ type: 'runDone', ok: false, at: Date.now(), error: `preflight refused the migration: ${checks.filter((c) => c.verdict === 'fail').map((c) => c.name).join('; ')}` });
    throw e;
  }
  if (opts.dryRun) {
    opts.events({ type: 'runDone', ok: true, at: Date.now() });
    return { plan };
  }
  // One run at a time: before anything is written, take the lock (or stop naming its holder).
  let lock: RunLock;
  try {
    lock = await acquireRunLock(opts.client, { identity: runIdentity(opts.client.target.user), force: opts.forceUnlock });
  } catch (e) {
    opts.events({ type: 'runDone', ok: false, at: Date.now(), error: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  if (lock.tookOverFrom) opts.events({ type: 'warning', message: `took the migration lock over from ${lock.tookOverFrom} (${lock.tookOverBecause ?? '?'})` });
  // The one preflight check that writes (a short-lived DaemonSet): under the lock, after every other passed.
  const tunnel = tunnelToCheck(prepared);
  if ('port' in tunnel) {
    let check: PreflightCheck;
    try {
      check = await runTunnelCheck(opts.client, opts.config, tunnel);
    } catch (e) {
      await lock.release();
      throw e;
    }
    opts.events({ type: 'preflight', checks: [check], at: Date.now() });
    if (check.verdict === 'fail') {
      opts.events({ type: 'runDone', ok: false, at: Date.now(), error: `preflight refused the migration: ${check.name}` });
      await lock.release();
      throw new PreflightRefusedError([check]);
    }
  } else {
    try {
      if (await removeLeftoverTunnelCheck(opts.client, opts.config.connectivity.namespace))
        opts.events({ type: 'warning', message: `removed DaemonSet ${opts.config.connectivity.namespace}/${TUNNEL_CHECK.name}, left by an interrupted run's tunnel check (its pods hold Cilium's tunnel port)` });
    } catch (e) {
      await lock.release();
      throw e;
    }
  }
  const signal = opts.signal ? AbortSignal.any([opts.signal, lock.lost]) : lock.lost;
  // Every action goes to the ledger too, flushed at each node's and step's end.
  const ledger = new LedgerWriter(opts.client, runStart.at, 5000, (message) => opts.events({ type: 'warning', message }));
  const recorder = new LedgerRecorder(lock.identity);
  try {
    await ledger.open();
    const ending = lastRunEnding(await readLedger(opts.client));
    if (ending) opts.events({ type: 'note', message: `resuming: ${ending}` });
  } catch (e) {
    opts.events({ type: 'warning', message: `could not read the ledger: ${e instanceof Error ? e.message : String(e)}` });
  }
  ledger.add(recorder.entriesOf(runStart));
  // At once: a run killed in its first seconds is on record too.
  void ledger.flush();
  const outer = opts.events;
  const events = (e: MigrationEvent) => {
    outer(e);
    ledger.add(recorder.entriesOf(e));
    if (e.type === 'nodeDone' || e.type === 'stepDone' || e.type === 'rollback') void ledger.flush();
  };
  const gate = opts.gate();
  try {
    await ensureMigrationRecord(opts.client, prepared.strategy.name, prepared.source);
    for (const step of opts.selection.steps) {
      if (lock.lost.aborted) throw lock.lost.reason as Error;
      const fresh = await planMigration(opts.client, prepared, { ...opts.selection, steps: [step] });
      for (const s of fresh.plan.steps) events({ type: 'plan', step: s, at: Date.now() });
      await executePlan(fresh.plan, { ...opts, events, signal, manifests: prepared.manifests, gate, resumeCommand: opts.resumeCommand });
      if (!opts.selection.nodes?.[step]) await verifyStepDone(opts.client, prepared, step, opts.resumeCommand);
    }
    events({ type: 'runDone', ok: true, at: Date.now() });
  } catch (e) {
    events({ type: 'runDone', ok: false, at: Date.now(), error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    await gate.stop();
    await ledger.close();
    await lock.release();
  }
  return { plan };
}
