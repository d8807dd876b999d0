import type { Command } from '@commander-js/extra-typings';
import { completionScript, SHELLS, type CompletionNode, type Shell } from '../completionScript.js';
import { strategyNames } from '../../migration/strategies/strategies.js';
import { UsageError } from '../errors.js';

// Values a flag takes from a fixed set, wherever it appears.
const CHOICES: Record<string, readonly string[]> = {
  '--strategy': strategyNames(),
  '--output': ['text', 'json'],
  '--log-level': ['error', 'warn', 'info', 'debug'],
  '--phase': ['migration', 'final'],
  '--rollback': ['auto', 'off'],
};

type AnyCommand = Command<unknown[], Record<string, unknown>, Record<string, unknown>>;

/** The command tree as completion sees it (hidden commands and options left out). */
export function completionTree(cmd: AnyCommand): CompletionNode {
  const options = cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      flags: [o.long, o.short].filter((f): f is string => !!f),
      // A value named <file> completes as a path; other values have nothing to offer.
      value: o.required || o.optional ? (/<file>|\[file\]/.test(o.flags) ? ('file' as const) : ('other' as const)) : undefined,
      ...(o.long && CHOICES[o.long] ? { choices: CHOICES[o.long] } : {}),
      description: o.description,
    }));
  options.push({ flags: ['--help', '-h'], value: undefined, description: 'display help for command' });
  const visible = (cmd.commands as AnyCommand[]).filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  const args = cmd.name() === 'completion' ? SHELLS : undefined;
  return { name: cmd.name(), description: cmd.description(), options, commands: visible.map((c) => completionTree(c)), ...(args ? { args } : {}) };
}

/** `cni-migration completion <shell>`: a completion script generated from the commands. */
export function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish) for every command and flag')
    .argument('<shell>', SHELLS.join(', '))
    .addHelpText(
      'after',
      `
  source <(cni-migration completion bash)      # bash, this shell; add to ~/.bashrc to keep it
  source <(cni-migration completion zsh)       # zsh
  cni-migration completion fish | source       # fish`,
    )
    .action((shell) => {
      if (!SHELLS.includes(shell as Shell)) throw new UsageError(`unknown shell "${shell}": use one of ${SHELLS.join(', ')}`);
      process.stdout.write(completionScript(shell as Shell, completionTree(program)));
    });
}
