import type { Command } from '@commander-js/extra-typings';
import { readClusterSnapshot } from '../../migration/clusterSnapshot.js';
import { executePlan } from '../../migration/planExecutor.js';
import type { MigrationPlan } from '../../migration/plan.js';
import { UnknownNodesError } from '../../migration/planBuilder.js';
import { createProbeGate } from '../../migration/probeConnectivityGate.js';
import { acquireRunLock, runIdentity } from '../../migration/runLock.js';
import { planJson, renderPlanText } from '../../report/planText.js';
import { createProgress } from '../../report/terminalProgress.js';
import { clusterFrom, configFrom, outputFormat, prepareFrom, type GlobalOptions } from '../cliContext.js';
import { FailedResultError, UsageError } from '../errors.js';
import { logLevel, STRATEGY_HELP } from './migrationCommands.js';
import { LedgerRecorder, LedgerWriter } from '../../migration/runLedger.js';
import type { MigrationEvent } from '../../migration/migrationEvents.js';

/** `cni-migration rollback --nodes a,b`: puts switched nodes back on the source CNI (dual-overlay). */
export function addRollbackCommand(program: Command): void {
  program
    .command('rollback')
    .description('put nodes back on the source CNI: unlabel, restart their Cilium agent, restore the CNI files, re-create their pods, check connectivity; refused past the point of no return')
    .requiredOption('--nodes <a,b>', 'the nodes to roll back, in this order')
    .option('--strategy <name>', STRATEGY_HELP)
    .option('--no-dry-run', 'act on the cluster (the default is a dry run)')
    .action(async (opts) => {
      const g = program.opts() as GlobalOptions & { dryRun?: boolean };
      const loaded = configFrom(g);
      const format = outputFormat(g);
      const client = clusterFrom(g, loaded.config.api);
      const progress = createProgress(process.stderr, { level: logLevel(g), quiet: (g as { quiet?: boolean }).quiet });
      const prepared = await prepareFrom(client, loaded, opts.strategy, (w) => progress({ type: 'warning', message: w }));
      const { strategy, ctx } = prepared;
      if (!strategy.rollbackActions) throw new UsageError(`the ${strategy.name} strategy has no per-node rollback (its nodes go back by running its steps backwards by hand; see the README)`);
      const wanted = opts.nodes.split(',').map((n) => n.trim()).filter(Boolean);
      if (!wanted.length) throw new UsageError('--nodes needs a comma-separated list of node names');
      const snapshot = await readClusterSnapshot(client, strategy.snapshotQuery(ctx));
      const unknown = wanted.filter((n) => !snapshot.nodes.some((x) => x.name === n));
      if (unknown.length) throw new UnknownNodesError(unknown, snapshot.nodes.map((n) => n.name));
      const refusal = strategy.rollbackRefusal?.(snapshot, ctx);
      // Unsafe, not bad usage: exit 1.
      if (refusal) throw new FailedResultError(`rollback refused (nothing was changed): ${refusal}`);
      const nodes = wanted.map((name) => snapshot.nodes.find((n) => n.name === name)!);
      const onSource = nodes.filter((n) => strategy.nodePhase(n, ctx) === ctx.source.kind).map((n) => n.name);
      const migrateStep = strategy.steps.find((s) => s.perNode)!;
      const plan: MigrationPlan = {
        strategy: strategy.name,
        steps: [
          {
            step: migrateStep.id,
            name: 'rollback',
            title: `Rollback: ${wanted.join(', ')} back on ${ctx.source.kind}`,
            alreadyDone: false,
            actions: [],
            skippedNodes: onSource,
            nodes: nodes.filter((n) => !onSource.includes(n.name)).map((n) => ({ node: n.name, actions: strategy.rollbackActions!(n, snapshot, ctx) })),
          },
        ],
      };
      const dryRun = opts.dryRun !== false && g.dryRun !== false;
      if (dryRun) {
        const text = { dryRun: true, source: `${ctx.source.kind} (DaemonSet ${ctx.source.daemonSet.namespace}/${ctx.source.daemonSet.name})` };
        process.stdout.write(format === 'json' ? `${JSON.stringify(planJson(plan, text), null, 2)}\n` : renderPlanText(plan, text));
        return;
      }
      // A rollback is a run too: never alongside another one.
      const lock = await acquireRunLock(client, { identity: runIdentity(client.target.user) });
      const gate = createProbeGate(client, loaded.config);
      // On the ledger like any run: who put which node back, when, and how it went.
      const started = Date.now();
      const ledger = new LedgerWriter(client, started, 5000, (message) => progress({ type: 'warning', message }));
      const recorder = new LedgerRecorder(lock.identity);
      await ledger.open().catch(() => undefined);
      ledger.add([{ who: lock.identity, at: new Date(started).toISOString(), what: 'run', result: 'started', detail: `rollback of ${wanted.join(', ')} to ${ctx.source.kind}` }]);
      const events = (e: MigrationEvent) => {
        progress(e);
        ledger.add(recorder.entriesOf(e));
        if (e.type === 'nodeDone') void ledger.flush();
      };
      try {
        await executePlan(plan, { client, config: loaded.config, manifests: prepared.manifests, gate, events, signal: lock.lost, resumeCommand: `cni-migration ${process.argv.slice(2).join(' ')}` });
        ledger.add(recorder.entriesOf({ type: 'runDone', ok: true, at: Date.now() }));
      } catch (e) {
        ledger.add(recorder.entriesOf({ type: 'runDone', ok: false, at: Date.now(), error: e instanceof Error ? e.message : String(e) }));
        throw e;
      } finally {
        await gate.stop();
        await ledger.close();
        await lock.release();
      }
      process.stdout.write(`rolled back: ${plan.steps[0]!.nodes.map((n) => n.node).join(', ') || '(none)'}${onSource.length ? `; already on ${ctx.source.kind}: ${onSource.join(', ')}` : ''}\n`);
    });
}
