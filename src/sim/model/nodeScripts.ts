import type { KubeObject } from '../store/kubeObject.js';
import { resolveContainerPath } from './containerPaths.js';
import { baseName, normalizePath, podSpecOf, type Container } from './podSpec.js';
import { splitSimpleCommands } from './shellCopies.js';

// One-shot pods that only move files on their node (a rollback restoring a CNI configuration, a
// clean-up sweeping leftovers): a container running `sh -c` with a script made only of file
// operations finishes, so its pod Succeeds, after its operations took effect on the node. A script
// with anything else in it (a daemon, a loop, an unresolvable path) is an ordinary long-running pod.

/** A file operation on the node's CNI directory (file names in that directory). */
export type NodeFileOp = { op: 'remove'; name: string } | { op: 'move'; from: string; to: string };

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);
/** Words that only shape the script; the command after them is what runs. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', '!', '{', '}']);
/** Commands that change no file and end: guards, output. */
const INERT = new Set(['[', 'test', 'true', ':', 'echo', 'set', 'exit']);

/**
 * The CNI-directory operations of a pod that finishes after running them, or undefined for any
 * other pod. `[ -f X ] && mv X Y` and `if …; then …; fi` guards are read as unconditional: a move
 * of a file that is not there, or the removal of one, changes nothing.
 */
export function oneShotFileOps(pod: KubeObject, cniConfDir: string): NodeFileOp[] | undefined {
  const spec = podSpecOf(pod);
  const policy = (spec as { restartPolicy?: string }).restartPolicy;
  if (policy !== 'Never' && policy !== 'OnFailure') return undefined;
  const ops: NodeFileOp[] = [];
  for (const c of spec.containers ?? []) {
    const script = scriptOf(c);
    if (script === undefined) return undefined;
    const mine = fileOpsOf(script, (p) => inCniDir(spec, c, p, cniConfDir));
    if (!mine) return undefined;
    ops.push(...mine);
  }
  return ops;
}

function scriptOf(c: Container): string | undefined {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const [cmd, flag, script] = argv;
  if (!cmd || !SHELLS.has(baseName(cmd)) || !flag || !/^-[a-z]*c[a-z]*$/.test(flag) || script === undefined || argv.length > 3) return undefined;
  return script;
}

// A container path's file name when it lies directly in the node's CNI directory; null elsewhere
// on the node (not modelled, still a file operation); undefined when unresolvable.
function inCniDir(spec: ReturnType<typeof podSpecOf>, c: Container, path: string, cniConfDir: string): string | null | undefined {
  if (!path.startsWith('/') || /[*?[\]$`]/.test(path)) return undefined;
  const r = resolveContainerPath(spec, c, path);
  if (r.kind !== 'host') return null;
  const dir = r.hostPath.slice(0, r.hostPath.lastIndexOf('/')) || '/';
  return normalizePath(dir) === normalizePath(cniConfDir) ? baseName(r.hostPath) : null;
}

function fileOpsOf(script: string, name: (p: string) => string | null | undefined): NodeFileOp[] | undefined {
  const ops: NodeFileOp[] = [];
  for (const raw of splitSimpleCommands(script)) {
    const words = [...raw];
    while (words.length && KEYWORDS.has(words[0]!)) words.shift();
    const [cmd, ...args] = words;
    if (cmd === undefined || INERT.has(cmd)) continue;
    const operands = args.filter((a) => !a.startsWith('-'));
    const tool = baseName(cmd);
    if (tool === 'rm') {
      for (const p of operands) {
        const n = name(p);
        if (n === undefined) return undefined;
        if (n) ops.push({ op: 'remove', name: n });
      }
    } else if (tool === 'mv' && operands.length === 2) {
      const from = name(operands[0]!);
      const to = name(operands[1]!);
      if (from === undefined || to === undefined) return undefined;
      if (from && to) ops.push({ op: 'move', from, to });
    } else return undefined;
  }
  return ops;
}
