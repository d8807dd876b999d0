import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../src/config/configSchema.js';
import { E2E_ENGINE_CONFIG, e2eLog } from './harness/engineSettings.js';
import { openCluster, type KubeCluster } from '../src/kube/cluster.js';
import { loadManifestBundles } from '../src/migration/manifestBundles.js';
import type { MigrationEvent } from '../src/migration/migrationEvents.js';
import { MigrationStepError } from '../src/migration/migrationErrors.js';
import { verifyMigrationOutcome } from '../src/migration/outcomeCheck.js';
import { executePlan } from '../src/migration/planExecutor.js';
import { createProbeGate } from '../src/migration/probeConnectivityGate.js';
import { prepareMigration, runMigration } from '../src/migration/runMigration.js';
import { backendsToRun, startRealUnderTest, startSimUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';
import { removeSourceTooEarlyPlan } from '../test/support/wrongOrderPlan.js';

// The migration engine (steps 0–5, the probe gate, the outcome check) against a real control plane
// whose nodes and probe agents the model simulates — test/migration/fullMigration.test.ts's
// engine tests, driven through the product's own ClusterClient on the admin kubeconfig (client
// certificates). Faster probing than the defaults, but with room for the real controllers' and
// scheduler's reaction times. E2E_BACKEND=sim|both runs the same against the simulator.

const BACKENDS = backendsToRun();

const log = e2eLog;
const config = E2E_ENGINE_CONFIG;

describe.each(BACKENDS)('the migration engine on the %s control plane', (backend) => {
  let cluster: ClusterUnderTest | undefined;
  let client: KubeCluster | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  const start = async (nodes = 3, strategy?: string) => {
    cluster = backend === 'real' ? await startRealUnderTest({ nodes, log }) : await startSimUnderTest({ nodes });
    client = openCluster({ kubeconfig: cluster.kubeconfigPath }).client;
    const prepared = await prepareMigration(client, config, { strategy, render: (source, s) => loadManifestBundles(config, undefined, source, (w) => log(`manifests: ${w}`), s.name) });
    const events = (e: MigrationEvent) => log(`engine: ${JSON.stringify(e)}`);
    return { client, prepared, base: { client, config, prepared, manifests: prepared.manifests, dryRun: false, events, pollIntervalMs: 100, resumeCommand: 'test' } };
  };

  it('migrates 3 nodes through steps 0–5 with zero loss', async () => {
    const { client, base, prepared } = await start(3);
    const t = performance.now();
    await runMigration({ ...base, selection: { steps: [0, 1, 2, 3, 4, 5] }, gate: () => createProbeGate(client, config) });
    log(`steps 0–5: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const outcome = await verifyMigrationOutcome(client, prepared, cluster!.model.groundTruth.violations());
    expect(outcome.ok, outcome.summary).toBe(true);
    expect(cluster!.model.groundTruth.violations()).toEqual([]);
    const pods = (await cluster!.list('pods')).filter((p) => !p.spec?.hostNetwork);
    for (const p of pods) expect(p.status?.podIP, `${p.metadata.namespace}/${p.metadata.name}`).toMatch(/^172\.29\./);
  });

  it('migrates 3 nodes with the dual-overlay strategy (latent Cilium, CiliumNodeConfig, per-node switch) with zero loss', async () => {
    const { client, base, prepared } = await start(3, 'dual-overlay');
    const t = performance.now();
    await runMigration({ ...base, selection: { steps: [0, 1, 2, 3, 4] }, gate: () => createProbeGate(client, config) });
    log(`dual-overlay steps 0–4: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const outcome = await verifyMigrationOutcome(client, prepared, cluster!.model.groundTruth.violations());
    expect(outcome.ok, outcome.summary).toBe(true);
    expect(cluster!.model.groundTruth.violations()).toEqual([]);
    // The CiliumNodeConfig was served by the CRD the operator registered, then deleted at clean-up.
    const nodes = await cluster!.list('nodes');
    for (const n of nodes) expect(n.metadata.labels?.['cni-migration.io/finalized'], n.metadata.name).toBe('true');
    const pods = (await cluster!.list('pods')).filter((p) => !p.spec?.hostNetwork);
    for (const p of pods) expect(p.status?.podIP, `${p.metadata.namespace}/${p.metadata.name}`).toMatch(/^172\.29\./);
  });

  it("negative control: the engine's own primitives in a wrong order (the source CNI removed before any node is migrated) lose connectivity", async () => {
    const { client, base } = await start(3);
    await runMigration({ ...base, selection: { steps: [0, 1, 2] }, gate: () => createProbeGate(client, config) });
    expect(cluster!.model.groundTruth.violations()).toEqual([]);
    // The loss is permanent (the primary addresses' datapath is gone from every node), so the checkpoint
    // need not wait the full minute for a green collection that cannot come.
    const quick = ConfigSchema.parse({ ...config, timeouts: { ...config.timeouts, connectivitySeconds: 10 } });
    const gate = createProbeGate(client, quick);
    const wrong = executePlan(
      removeSourceTooEarlyPlan(),
      { ...base, config: quick, gate },
    );
    await expect(wrong).rejects.toThrow(MigrationStepError);
    await expect(wrong).rejects.toThrow(/connectivity lost/);
    await gate.stop();
    expect(cluster!.model.groundTruth.violations().length).toBeGreaterThan(0);
  });
});
