import { ConfigSchema, type MigrationConfig } from './configSchema.js';

/**
 * Probing and polling tuned for the in-process simulated cluster. Everything there takes
 * milliseconds, so small clusters probe every 250 ms; but every probe agent of every node runs
 * in the simulator's one process (a round costs it about 1.5 ms per agent: see
 * simProbeIntervalMs), so the interval grows with the node count to keep the API server
 * responsive: 3 ms per node (two agents each), 3 s at a thousand nodes.
 */
export function simulationTunedConfig(base: MigrationConfig, nodes: number): MigrationConfig {
  const interval = Math.max(0.25, Number((nodes * 0.003).toFixed(2)));
  return ConfigSchema.parse({
    ...base,
    connectivity: {
      ...base.connectivity,
      intervalSeconds: interval,
      timeoutSeconds: Math.min(1, Math.max(0.2, interval / 2)),
      failureThresholdSeconds: Math.max(1, interval * 4),
      // The background monitor between checkpoints: once a second is quick enough to stop a step
      // soon after a loss, and keeps its requests small beside the migration's own.
      collectIntervalSeconds: Math.max(1, interval),
      // The simulator takes an agent's datapath down 1 s after its last pod is gone (a DaemonSet's replacement gap).
      settleSeconds: Math.min(base.connectivity.settleSeconds, 1.5),
    },
    drain: { ...base.drain, evictionRetrySeconds: 0.5 },
    // Small simulations settle in well under a second: a checkpoint that stays red for half a
    // minute stays red. A thousand nodes moving fifty at a time keep the simulator's one core busy
    // re-creating their pods (probe pods come up last), so the wait grows with the node count.
    timeouts: { ...base.timeouts, drainSeconds: Math.min(base.timeouts.drainSeconds, 120), connectivitySeconds: Math.min(base.timeouts.connectivitySeconds, Math.max(30, Math.ceil(interval * 6), Math.ceil(nodes * 0.1))) },
  });
}
