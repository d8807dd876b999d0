import { createInterface } from 'node:readline/promises';
import type { MigrationConfig } from '../config/configSchema.js';
import { UsageError } from './errors.js';

/** A yes/no question on the terminal (stdin and stderr both a TTY), or undefined where there is none. */
export function terminalConfirm(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

/** A canary that would wait for an answer nobody can give is refused before anything is written. */
export function assertCanaryAnswerable(config: MigrationConfig, confirm: ((q: string) => Promise<boolean>) | undefined): void {
  if (config.batches.canary && config.batches.canaryWaitSeconds === undefined && !confirm) {
    throw new UsageError('--canary (batches.canary) asks for confirmation on a terminal, and this run has none: add --canary-wait 5m (batches.canaryWaitSeconds) to watch the canary node that long and go on when connectivity holds');
  }
}
