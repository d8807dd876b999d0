/**
 * What the engine e2e files share: faster probing than the defaults, with room for the real
 * controllers' and scheduler's reaction times, and harness logging behind E2E_VERBOSE=1.
 */
import { ConfigSchema } from '../../src/config/configSchema.js';

export const E2E_ENGINE_CONFIG = ConfigSchema.parse({
  connectivity: { intervalSeconds: 0.25, timeoutSeconds: 0.2, failureThresholdSeconds: 2, collectIntervalSeconds: 0.25, settleSeconds: 1.5 },
  drain: { evictionRetrySeconds: 0.5 },
  timeouts: { connectivitySeconds: 60, drainSeconds: 120 },
});

/** Harness progress on stderr with E2E_VERBOSE=1. */
export function e2eLog(line: string): void {
  if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[e2e] ${line}\n`);
}
