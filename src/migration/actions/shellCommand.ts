import { spawn } from 'node:child_process';

/** The user's command failed (exit status, or the timeout). */
export class HookFailedError extends Error {
  constructor(
    readonly command: string,
    detail: string,
  ) {
    super(`command "${command}" ${detail}`);
    this.name = 'HookFailedError';
  }
}

/**
 * Runs a user-supplied command line through /bin/sh (a hook: the user's reboot tooling, never
 * kubectl), with extra environment, bounded by a timeout and the run's abort signal. Its output
 * goes to our stderr so the operator sees it.
 */
export function runShellCommand(command: string, env: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'], signal });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new HookFailedError(command, `could not run: ${e.message}`));
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new HookFailedError(command, sig ? `was stopped by ${sig}${sig === 'SIGTERM' ? ` after ${Math.round(timeoutMs / 1000)} s` : ''}` : `exited with status ${code ?? '?'}`));
    });
  });
}
