/**
 * Typed errors of the primitives. Each names what it was doing to which object and what to do
 * next; the engine adds the step, and only the CLI entry maps errors to exit codes.
 */

/** The caller's AbortSignal fired; the primitive stopped where it was. */
export class OperationAbortedError extends Error {
  override readonly name = 'OperationAbortedError';
  constructor(readonly reason?: unknown) {
    super(`aborted${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`);
  }
}

/** A condition did not become true before its deadline. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(
    /** What was awaited, e.g. `daemon set kube-system/cilium rollout`. */
    readonly what: string,
    /** The budget, e.g. "5m0s". */
    readonly budget: string,
    /** The last status seen, e.g. "2 of 3 updated pods are available". */
    readonly lastStatus: string,
  ) {
    super(`timed out after ${budget} waiting for ${what}: ${lastStatus}`);
  }
}

/** A pod a drain could not finish with, and why. */
export interface PendingPod {
  /** namespace/name */
  pod: string;
  /** e.g. "eviction blocked by PodDisruptionBudget demo/web: …" or "evicted, waiting for it to terminate". */
  reason: string;
  /** PodDisruptionBudgets (namespace/name) that blocked its eviction, if any. */
  pdbs: string[];
}

/** Why a drain stopped. */
export type DrainFailure =
  /** kubectl's pod filters refused some pods; nothing was evicted. */
  | 'podFilters'
  /** The deadline passed with pods still pending. */
  | 'timeout'
  /** Evicting or deleting some pod failed with an error that is not retried. */
  | 'evictionFailed'
  /** The caller aborted. */
  | 'aborted';

/** A drain did not complete. The node stays cordoned. */
export class DrainError extends Error {
  override readonly name = 'DrainError';
  constructor(
    readonly node: string,
    readonly failure: DrainFailure,
    /** Pods still on the node that the drain wanted gone. */
    readonly pending: PendingPod[],
    /** Individual errors (filters, evictions), each naming its pods. */
    readonly errors: string[],
    message: string,
  ) {
    super(message);
  }
}

/** An optimistic-locking update kept conflicting with other writers. */
export class ConflictRetriesExhaustedError extends Error {
  override readonly name = 'ConflictRetriesExhaustedError';
  constructor(
    /** e.g. `node n1` */
    readonly object: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`${object} kept changing under us: ${attempts} updates in a row hit a resourceVersion conflict; re-run to try again`, options);
  }
}

/** A rollout can never finish as is (wrong strategy, progress deadline exceeded). */
export class RolloutFailedError extends Error {
  override readonly name = 'RolloutFailedError';
  constructor(
    /** e.g. `DaemonSet kube-system/cilium` */
    readonly object: string,
    message: string,
  ) {
    super(`${object}: ${message}`);
  }
}

/** Applying one manifest object failed. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    /** e.g. `DaemonSet kube-system/cilium` */
    readonly object: string,
    cause: unknown,
  ) {
    super(`applying ${object}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
