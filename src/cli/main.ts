#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ConfigError } from '../config/loadConfig.js';
import { KubeconfigError } from '../kube/kubeErrors.js';
import { ManifestError } from '../kube/manifestParser.js';
import { InterruptedError, MigrationStepError } from '../migration/migrationErrors.js';
import { StrategyMismatchError } from '../migration/migrationRecord.js';
import { UnknownNodesError } from '../migration/planBuilder.js';
import { UnknownStrategyError } from '../migration/runMigration.js';
import { PreflightRefusedError } from '../migration/preflightChecks.js';
import { SourceDetectionError, SourceOverrideError } from '../source/discoverSource.js';
import { addCiliumValuesCommand } from './commands/ciliumValues.js';
import { addDetectCommand } from './commands/detect.js';
import { addRollbackCommand } from './commands/rollback.js';
import { addDemoCommand } from './commands/demo.js';
import { addMigrationCommands, addStepFlags, runAction } from './commands/migrationCommands.js';
import { addCheckCommand } from './commands/check.js';
import { addCompletionCommand } from './commands/completion.js';
import { addTwinCommand } from './commands/twin.js';
import { addReportSchemaCommand } from './commands/reportSchema.js';
import { addProbeAgentCommand } from './commands/probeAgent.js';
import { addTunnelCheckAgentCommand } from './commands/tunnelCheckAgent.js';
import { addSimCommand } from './commands/simServe.js';
import { EXIT_FAILED, EXIT_USAGE, FailedResultError, UsageError } from './errors.js';
import type { GlobalOptions } from './cliContext.js';
import { hasSeedStepFlags, type StepFlags } from './stepSelection.js';

/** The version in the package.json next to dist/ (or src/), as published. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('cni-migration')
    .description('Migrate a live Kubernetes cluster from Canal, Calico or Flannel to Cilium node by node, with no pod-to-pod connectivity loss.')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride()
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-c, --config <file>', "migration config file (the seed's config.yaml format); built-in defaults when absent", undefined)
    .option('-v, --log-level <level>', 'error, warn, info or debug', 'info')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('-q, --quiet', 'progress: only warnings, failures, rollbacks and the end (no live block, no per-step lines)')
    .option('--no-dry-run', "act on the cluster (the seed's flag; the default is a dry run)")
    .addHelpText(
      'after',
      `
Strategies (--strategy on plan, run, status, demo, rollback):
  multus (default)  the original tool's steps: 0 preflight, 1 prepare, 2 roll, 3 priority, 4 migrate, 5 clean-up;
                    Cilium beside the source through Multus, pods roll three times
  dual-overlay      Cilium's own per-node procedure: 0 preflight, 1 install (latent), 2 migrate (per node),
                    3 finalize (the point of no return), 4 clean-up; pods roll once, failed nodes roll back
The source CNI (Canal, Calico, Flannel) is read from the cluster: see \`cni-migration detect\`.
A step runs only when every earlier step is ready; finished work is skipped, so re-running resumes.

Examples:
  cni-migration demo --nodes 5 --report report.md     rehearse on a simulated cluster
  cni-migration detect                                which CNI the cluster runs, and how that was read
  cni-migration plan --steps all                      what a full migration would do
  cni-migration run --steps 0-1 --no-dry-run          preflight and prepare
  cni-migration status                                where every node stands
  cni-migration --step-migrate-nodes node-1 --no-dry-run -c config.yaml   (the seed's flags)

Exit codes: 0 done, 1 migration failed or unsafe, 2 bad usage or bad config.`,
    );
  addStepFlags(program, true);
  program.action(async (opts) => {
    const flags = opts as StepFlags & { dryRun?: boolean };
    if (!hasSeedStepFlags(flags)) {
      program.outputHelp();
      return;
    }
    await runAction(program.opts() as GlobalOptions, flags, `cni-migration ${process.argv.slice(2).join(' ')}`);
  });
  addMigrationCommands(program);
  addDetectCommand(program);
  addRollbackCommand(program);
  addCiliumValuesCommand(program);
  addDemoCommand(program);
  addSimCommand(program);
  addCheckCommand(program);
  addProbeAgentCommand(program);
  addTunnelCheckAgentCommand(program);
  addTwinCommand(program);
  addReportSchemaCommand(program);
  addCompletionCommand(program);
  return program;
}

/** Runs the CLI and returns the exit code; the only place errors become exit codes and messages. */
export async function runCli(argv: string[]): Promise<number> {
  // `cni-migration run … | head`: a reader that closed its end must not kill a migration half-way;
  // output is dropped and the work goes on (the ledger and the report still record it).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (
      err instanceof UsageError ||
      err instanceof ManifestError ||
      err instanceof ConfigError ||
      err instanceof KubeconfigError ||
      err instanceof UnknownNodesError ||
      err instanceof UnknownStrategyError ||
      err instanceof StrategyMismatchError ||
      err instanceof SourceOverrideError
    ) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof SourceDetectionError || err instanceof FailedResultError || err instanceof PreflightRefusedError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_FAILED;
    }
    if (err instanceof InterruptedError) {
      process.stderr.write(`${err.message}\n${err.resumeHint}\n`);
      return EXIT_FAILED;
    }
    if (err instanceof MigrationStepError) {
      process.stderr.write(`error: ${err.message}\n${err.resumeHint}\n`);
      return EXIT_FAILED;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  }
}

const isMain = !!process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
