/** Exit codes (DESIGN §3): 0 done, 1 migration failed or unsafe, 2 bad usage or bad config. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error the CLI reports as bad usage or bad input (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The command ran and printed its result, and the result is a failure (a check that found broken
 * pairs, a rehearsal that was not verified): exit 1 with a one-line reason, no stack.
 */
export class FailedResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailedResultError';
  }
}
