/** A step failed: carries where (step, node, action) and why, plus how to resume. Exit code 1. */
export class MigrationStepError extends Error {
  constructor(
    readonly step: number,
    readonly stepName: string,
    readonly node: string | undefined,
    readonly action: string,
    override readonly cause: unknown,
    readonly resumeHint: string,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`step ${step} (${stepName})${node ? ` on node ${node}` : ''} failed while trying to ${action}: ${why}`);
    this.name = 'MigrationStepError';
  }
}

/** The run was interrupted (SIGINT, SIGTERM) between actions: nothing failed; re-running resumes. */
export class InterruptedError extends Error {
  constructor(
    readonly step: number,
    readonly stepName: string,
    readonly when: string,
    readonly resumeCommand: string | undefined,
  ) {
    super(`interrupted ${when} of step ${step} (${stepName}); the step is not counted as done`);
    this.name = 'InterruptedError';
  }

  get resumeHint(): string {
    return `Nothing failed: progress is recorded in the cluster. Re-run the same command${this.resumeCommand ? ` (${this.resumeCommand})` : ''} to resume.`;
  }
}

/** What an aborted signal means: the lock's loss (its own error), else an interruption. */
export function abortReason(signal: AbortSignal, step: number, stepName: string, when: string, resumeCommand: string | undefined): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name !== 'AbortError') return r;
  return new InterruptedError(step, stepName, when, resumeCommand);
}
