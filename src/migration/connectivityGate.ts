/** A pair of probe pods that could not reach each other, as the gate reports it. */
export interface ConnectivityFailure {
  from: string;
  to: string;
  fromNode?: string | undefined;
  toNode?: string | undefined;
  network?: string | undefined;
  reason: string;
  firstSeen: string;
  lastSeen: string;
}

/** The result of one connectivity checkpoint. */
export interface ConnectivityVerdict {
  ok: boolean;
  /** Probe pods whose status was collected. */
  probes: number;
  /** Pairs checked. */
  pairs: number;
  failures: ConnectivityFailure[];
}

/**
 * How the engine proves pod-to-pod connectivity: checkpoints between actions, and a monitor that
 * keeps collecting while a step runs so a blip between checkpoints is caught.
 */
export interface ConnectivityGate {
  /** Waits (up to the configured timeout) for every probe pair to be ok; returns the last verdict. */
  checkpoint(signal?: AbortSignal): Promise<ConnectivityVerdict>;
  /** Watches the probes for connectivity.settleSeconds + failureThresholdSeconds, so a failure a step's last action causes comes to count before the step is done. */
  settle(signal?: AbortSignal): Promise<void>;
  /** Starts background monitoring (idempotent). */
  startMonitor(): void;
  /** Failures the monitor saw since the last call that count as lost connectivity. */
  takeMonitorFailures(): ConnectivityFailure[];
  /** Stops monitoring. */
  stop(): Promise<void>;
  /** Counters for the report: probe collections made, pairs checked, failures seen. */
  stats(): { collections: number; pairChecks: number; failedPairChecks: number };
}

/** Connectivity was lost or never established: stops the run (exit 1) with the cluster resumable. */
export class ConnectivityLostError extends Error {
  constructor(
    readonly when: string,
    readonly failures: ConnectivityFailure[],
  ) {
    const shown = failures
      .slice(0, 5)
      .map((f) => `${f.from} -> ${f.to}${f.network ? ` (${f.network})` : ''}: ${f.reason}`)
      .join('; ');
    super(`connectivity lost ${when}: ${failures.length} failing pair${failures.length === 1 ? '' : 's'}: ${shown}${failures.length > 5 ? '; …' : ''}`);
    this.name = 'ConnectivityLostError';
  }
}
