import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../src/config/configSchema.js';
import { openCluster, type KubeCluster } from '../src/kube/cluster.js';
import { loadManifestBundles } from '../src/migration/manifestBundles.js';
import { verifyMigrationOutcome } from '../src/migration/outcomeCheck.js';
import { createProbeGate } from '../src/migration/probeConnectivityGate.js';
import { runMigration } from '../src/migration/runMigration.js';
import { runCliProcess, startCli } from '../test/support/cliProcess.js';
import { waitFor } from '../test/support/waitFor.js';
import { RealCluster } from './harness/realCluster.js';

const log = (line: string) => {
  if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[e2e] ${line}\n`);
};
const config = ConfigSchema.parse({
  connectivity: { intervalSeconds: 0.25, timeoutSeconds: 0.2, failureThresholdSeconds: 2, collectIntervalSeconds: 0.25 },
  drain: { evictionRetrySeconds: 0.5 },
  timeouts: { connectivitySeconds: 60, drainSeconds: 120 },
});
const CFG = `connectivity:\n  intervalSeconds: 0.25\n  timeoutSeconds: 0.2\n  failureThresholdSeconds: 2\n  collectIntervalSeconds: 0.25\ndrain:\n  evictionRetrySeconds: 0.5\ntimeouts:\n  connectivitySeconds: 60\n`;

describe('adhoc', () => {
  let cluster: RealCluster | undefined;
  let client: KubeCluster | undefined;
  afterEach(async () => {
    client?.close();
    await cluster?.stop();
    cluster = undefined;
  });

  it('8 nodes', async () => {
    cluster = await RealCluster.start({ nodes: 8, log });
    client = openCluster({ kubeconfig: cluster.kubeconfigPath }).client;
    const t = performance.now();
    const c = client;
    await runMigration({ client: c, config, manifests: loadManifestBundles(config, undefined, () => {}), dryRun: false, events: (e) => log(JSON.stringify(e).slice(0, 300)), pollIntervalMs: 100, resumeCommand: 'test', selection: { steps: [0, 1, 2, 3, 4, 5] }, gate: () => createProbeGate(c, config) });
    process.stderr.write(`8 nodes: ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    const outcome = await verifyMigrationOutcome(client, config, cluster.model.groundTruth.violations());
    expect(outcome.ok, outcome.summary).toBe(true);
  });

  it('pdb', async () => {
    cluster = await RealCluster.start({ nodes: 3, log });
    const dir = mkdtempSync(join(tmpdir(), 'adhoc-'));
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `${CFG}  drainSeconds: 3\n`);
    await cluster.http.mergePatch('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web', { spec: { maxUnavailable: 0 } });
    const args = ['run', '--steps', '0-2', '--no-dry-run', '--kubeconfig', cluster.kubeconfigPath, '-c', cfg];
    const t = performance.now();
    const blocked = await runCliProcess(args);
    process.stderr.write(`blocked after ${((performance.now() - t) / 1000).toFixed(1)} s: ${blocked.code}\n${blocked.stderr}\n`);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/step 2 \(roll\) on node node-1 failed/);
    expect(blocked.stderr).toMatch(/demo\/web-/);
    expect(blocked.stderr).toMatch(/PodDisruptionBudget|disruption budget/);
    expect((await cluster.backend.get('nodes', undefined, 'node-1'))!.spec.unschedulable).toBe(true);
    await cluster.http.mergePatch('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web', { spec: { maxUnavailable: 1 } });
    const resumed = await runCliProcess(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(cluster.model.groundTruth.violations()).toEqual([]);
  });

  for (const point of ['roll', 'priority', 'migrate'] as const) {
    it(`kill ${point}`, async () => {
      cluster = await RealCluster.start({ nodes: 3, log });
      const dir = mkdtempSync(join(tmpdir(), 'adhoc-'));
      const cfg = join(dir, 'config.yaml');
      writeFileSync(cfg, CFG);
      const args = ['run', '--steps', 'all', '--no-dry-run', '--kubeconfig', cluster.kubeconfigPath, '-c', cfg];
      const child = startCli(args);
      let node2: any;
      const poll = setInterval(() => {
        void cluster!.backend.get('nodes', undefined, 'node-2').then((n) => (node2 = n));
      }, 5);
      const reached = {
        roll: () => node2?.spec.unschedulable === true && !node2.metadata.labels?.['node-role.kubernetes.io/rolled'],
        priority: () => node2?.metadata.labels?.['node-role.kubernetes.io/priority-cilium'] === 'true' && !node2.metadata.labels?.['node-role.kubernetes.io/priority-rolled'],
        migrate: () => (node2?.spec.taints ?? []).some((t: { key: string }) => t.key === 'node-role.kubernetes.io/cilium'),
      }[point];
      await waitFor(`reach ${point}`, reached, 120_000, 5);
      clearInterval(poll);
      child.child.kill('SIGKILL');
      await child.exited;
      const t = performance.now();
      process.stderr.write(`killed; first run said:\n${child.output().stderr}\n`);
      const resumed = await runCliProcess(args);
      process.stderr.write(`resume ${point}: ${((performance.now() - t) / 1000).toFixed(1)} s\n${resumed.stderr}\n`);
      expect(resumed.code, resumed.stderr).toBe(0);
      client = openCluster({ kubeconfig: cluster.kubeconfigPath }).client;
      const outcome = await verifyMigrationOutcome(client, config, cluster.model.groundTruth.violations());
      expect(outcome.ok, outcome.summary).toBe(true);
    });
  }
});
