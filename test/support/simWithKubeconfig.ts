import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster, type SimClusterOptions } from '../../src/sim/simCluster.js';

/** A simulated cluster plus a kubeconfig file for CLI processes, cleaned up by stop(). */
export async function startSimWithKubeconfig(opts: SimClusterOptions = {}): Promise<{ cluster: SimCluster; kubeconfig: string; dir: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cni-mig-test-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cluster = await SimCluster.start({ ...opts, kubeconfigOut: kubeconfig });
  await cluster.waitUntilSettled();
  return {
    cluster,
    kubeconfig,
    dir,
    stop: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A config for CLI runs against the simulator: fast probing and polling. */
export const FAST_CONFIG = `connectivity:
  intervalSeconds: 0.25
  timeoutSeconds: 0.2
  failureThresholdSeconds: 1
  collectIntervalSeconds: 0.25
  settleSeconds: 1.5
drain:
  evictionRetrySeconds: 0.5
`;
