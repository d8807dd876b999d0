import { baseName } from './podSpec.js';

// Install containers usually put a CNI config in place with one shell line. Rather than run a
// shell, the model recognises the shapes that matter — `cat SRC > DST`, `cp [-f] SRC DST` and
// flannel's `install-conf SRC DST` (v0.28.6+: write to a temporary file, then rename) — in a
// container's argv or in the script of `sh -c` / `bash -c`, and ignores everything else
// (including globs and variables it cannot resolve, such as `cp /opt/cni/bin/* /host/opt/cni/bin`).

/** One file copy a container performs: source path to destination path (inside the container). */
export interface FileCopy {
  src: string;
  /** Destination path; when it ends in "/" it names a directory and the file keeps its base name. */
  dst: string;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'busybox']);
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}', 'exec', 'time']);

/** The file copies a container's argv performs, in order. */
export function parseFileCopies(argv: readonly string[]): FileCopy[] {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) return [];
  if (SHELLS.has(baseName(cmd))) {
    const cIndex = rest.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a));
    const script = cIndex >= 0 ? rest[cIndex + 1] : undefined;
    return script === undefined ? [] : parseScriptCopies(script);
  }
  const copy = copyOf([...argv]);
  return copy ? [copy] : [];
}

/** The file copies a shell script performs, in order. */
export function parseScriptCopies(script: string): FileCopy[] {
  const out: FileCopy[] = [];
  for (const words of splitSimpleCommands(script)) {
    // Leading keywords and variable assignments (FOO=bar cmd ...) do not change what runs.
    while (words.length && (KEYWORDS.has(words[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))) words.shift();
    const copy = copyOf(words);
    if (copy) out.push(copy);
  }
  return out;
}

function copyOf(words: string[]): FileCopy | undefined {
  const [cmd, ...args] = words;
  if (cmd === undefined) return undefined;
  const name = baseName(cmd);
  let copy: FileCopy | undefined;
  if (name === 'cat') {
    const redirect = args.indexOf('>');
    const sources = args.slice(0, Math.max(0, redirect)).filter((a) => !a.startsWith('-'));
    const dst = redirect >= 0 ? args[redirect + 1] : undefined;
    if (sources.length === 1 && dst !== undefined && args.length === redirect + 2) copy = { src: sources[0]!, dst };
  } else if (name === 'cp' || name === 'install' || name === 'install-conf') {
    if (args.includes('>') || args.includes('>>')) return undefined;
    const operands = args.filter((a) => !a.startsWith('-'));
    if (operands.length === 2) copy = { src: operands[0]!, dst: operands[1]! };
  }
  if (!copy || !resolvable(copy.src) || !resolvable(copy.dst)) return undefined;
  return copy;
}

// Globs, variables and command substitutions make the path unknowable without running the shell.
function resolvable(path: string): boolean {
  return path.startsWith('/') && !/[*?[\]$`]/.test(path);
}

/**
 * Splits a script into simple commands (at top-level ;, &&, ||, |, & and newlines) and each into
 * words, honouring quotes and $(...) so that separators inside them do not split. Redirections
 * become their own ">" word.
 */
export function splitSimpleCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let depth = 0;
  let quote: '"' | "'" | undefined;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < script.length) word += script[++i];
      else word += ch;
      continue;
    }
    if (depth > 0) {
      word += ch;
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '$' && script[i + 1] === '(') {
      word += '$(';
      inWord = true;
      depth = 1;
      i++;
    } else if (ch === '\\' && i + 1 < script.length) {
      word += script[++i];
      inWord = true;
    } else if (ch === ';' || ch === '\n' || ch === '|' || ch === '&') {
      if ((ch === '|' || ch === '&') && script[i + 1] === ch) i++;
      endCommand();
    } else if (ch === '>') {
      // An append (>>) is kept distinct: appending to a config does not produce a copy of SRC.
      endWord();
      if (script[i + 1] === '>') {
        i++;
        words.push('>>');
      } else words.push('>');
    } else if (ch === ' ' || ch === '\t') {
      endWord();
    } else {
      word += ch;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}
