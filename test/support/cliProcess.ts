import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './waitFor.js';

/** Repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** Starts the CLI as installed (node bin/cni-migration.js, built by the test run's global setup) with captured output. */
export function startCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<number> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cni-migration.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs the CLI to completion. */
export async function runCliProcess(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = startCli(args, env);
  const code = await p.exited;
  return { code, ...p.output() };
}

/**
 * Starts the CLI and SIGKILLs it the moment `seen` finds what it waits for in its stderr (or the
 * deadline passes, which fails with the tail of stderr). Returns what `seen` found and the output.
 */
export async function killWhen<T>(
  args: string[],
  what: string,
  seen: (stderr: string, exitCode: number | null) => T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<{ found: T; stderr: string }> {
  const p = startCli(args);
  try {
    const found = await waitFor(what, () => seen(p.output().stderr, p.child.exitCode), opts.timeoutMs ?? 120_000, opts.intervalMs ?? 5).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${p.output().stderr.slice(-3000)}`);
    });
    return { found, stderr: p.output().stderr };
  } finally {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}
