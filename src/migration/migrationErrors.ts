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
