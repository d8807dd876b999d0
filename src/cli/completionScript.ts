// Shell completion scripts generated from the command tree, so they never drift from the
// commands and flags that exist. Pure: the tree in, the script text out.

/** What completion needs of a command: its name, flags and subcommands. */
export interface CompletionNode {
  name: string;
  description: string;
  /** Long and short spellings, and whether the flag takes a value ("file" when that is a path). */
  options: { flags: string[]; value?: 'file' | 'other' | undefined; choices?: readonly string[] | undefined; description: string }[];
  commands: CompletionNode[];
  /** Words its positional argument takes, if it has a fixed set. */
  args?: readonly string[] | undefined;
}

export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

/** Every command path below the root ("" for the root), with its node. */
function paths(root: CompletionNode): [string, CompletionNode][] {
  const out: [string, CompletionNode][] = [];
  const walk = (n: CompletionNode, path: string) => {
    out.push([path, n]);
    for (const c of n.commands) walk(c, path ? `${path} ${c.name}` : c.name);
  };
  walk(root, '');
  return out;
}

const fnName = (prog: string) => `_${prog.replace(/[^A-Za-z0-9]/g, '_')}`;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(root: CompletionNode): string {
  const all = paths(root);
  const words = (n: CompletionNode) => [...n.commands.map((c) => c.name), ...(n.args ?? []), ...n.options.flatMap((o) => o.flags)].join(' ');
  const fileFlags = [...new Set(all.flatMap(([, n]) => n.options.filter((o) => o.value === 'file').flatMap((o) => o.flags)))];
  const choices = new Map<string, readonly string[]>();
  for (const [, n] of all) for (const o of n.options) if (o.choices) for (const f of o.flags) choices.set(f, o.choices);
  const valueFlags = [...new Set(all.flatMap(([, n]) => n.options.filter((o) => o.value === 'other').flatMap((o) => o.flags)))].filter((f) => !choices.has(f));
  const fn = fnName(root.name);
  return `# ${root.name} completion for bash. Load it with:
#   source <(${root.name} completion bash)
# or write it to a file bash-completion loads (e.g. /etc/bash_completion.d/${root.name}).
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" w i
  # The command path typed so far: words that name a subcommand of the path before them.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case "\${path:+$path }$w" in
${all
  .filter(([p]) => p)
  .map(([p]) => `      ${quote(p)}) path="\${path:+$path }$w" ;;`)
  .join('\n')}
    esac
  done
  case "$prev" in
${fileFlags.length ? `    ${fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;\n` : ''}${[...choices].map(([f, c]) => `    ${f}) COMPREPLY=($(compgen -W ${quote(c.join(' '))} -- "$cur")); return ;;\n`).join('')}${valueFlags.length ? `    ${valueFlags.join('|')}) COMPREPLY=(); return ;;\n` : ''}  esac
  local words
  case "$path" in
${all.map(([p, n]) => `    ${quote(p)}) words=${quote(words(n))} ;;`).join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${root.name}
`;
}

function zsh(root: CompletionNode): string {
  // zsh runs bash completion functions through bashcompinit: one generator, one behaviour.
  return `#compdef ${root.name}
# ${root.name} completion for zsh. Load it with:
#   source <(${root.name} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(root).replace(/^# .*\n(# .*\n)*/, '')}`;
}

function fish(root: CompletionNode): string {
  const c = root.name;
  const lines = [`# ${c} completion for fish. Load it with:`, `#   ${c} completion fish | source`, `complete -c ${c} -f`];
  const desc = (s: string) => quote(s.split('\n')[0]!.slice(0, 80));
  for (const [path, n] of paths(root)) {
    const words = path ? path.split(' ') : [];
    // The path is typed and no subcommand of it yet.
    const cond = words.length ? `__fish_seen_subcommand_from ${words[words.length - 1]}${n.commands.length ? `; and not __fish_seen_subcommand_from ${n.commands.map((x) => x.name).join(' ')}` : ''}` : '__fish_use_subcommand';
    for (const sub of n.commands) lines.push(`complete -c ${c} -n ${quote(cond)} -a ${sub.name} -d ${desc(sub.description)}`);
    if (n.args?.length) lines.push(`complete -c ${c} -n ${quote(cond)} -a ${quote(n.args.join(' '))}`);
    for (const o of n.options) {
      const spell = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      const value = o.value === 'file' ? ' -r -F' : o.choices ? ` -r -a ${quote(o.choices.join(' '))}` : o.value === 'other' ? ' -r' : '';
      lines.push(`complete -c ${c} -n ${quote(words.length ? cond.split(';')[0]! : 'true')} ${spell}${value} -d ${desc(o.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for a shell. */
export function completionScript(shell: Shell, root: CompletionNode): string {
  return shell === 'bash' ? bash(root) : shell === 'zsh' ? zsh(root) : fish(root);
}
