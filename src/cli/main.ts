#!/usr/bin/env node
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ManifestError } from '../kube/manifestParser.js';
import { addSimCommand } from './commands/simServe.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './errors.js';

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('cni-migration')
    .description('Migrate a live Kubernetes cluster from Canal to Cilium node by node, with no pod-to-pod connectivity loss.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  addSimCommand(program);
  return program;
}

/** Runs the CLI and returns the exit code; the only place errors become exit codes and messages. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError || err instanceof ManifestError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
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
