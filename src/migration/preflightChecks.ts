// A strategy's preflight: named checks with a verdict, the objects or settings they concern and
// the fix, judged before anything is written. A failing check refuses the run.

/** One check's outcome. */
export interface PreflightCheck {
  /** Short name, e.g. "Cilium pool disjoint from the pod CIDR". */
  name: string;
  verdict: 'pass' | 'warn' | 'fail';
  /** What was found, naming the setting and its value. */
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string | undefined;
}

/** Failing preflight checks: nothing was written. Exit code 1. */
export class PreflightRefusedError extends Error {
  constructor(readonly checks: PreflightCheck[]) {
    const failed = checks.filter((c) => c.verdict === 'fail');
    super(`preflight refused the migration (nothing was changed):\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`).join('\n')}`);
    this.name = 'PreflightRefusedError';
  }
}

/** Throws PreflightRefusedError when any check fails. */
export function assertPreflight(checks: PreflightCheck[]): void {
  if (checks.some((c) => c.verdict === 'fail')) throw new PreflightRefusedError(checks);
}
