import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/configSchema.js';
import { openClusterFromText } from '../../src/kube/cluster.js';
import { MigrationStepError } from '../../src/migration/migrationErrors.js';
import { loadManifestBundles } from '../../src/migration/manifestBundles.js';
import { executePlan } from '../../src/migration/planExecutor.js';
import { createProbeGate } from '../../src/migration/probeConnectivityGate.js';
import { prepareMigration, runMigration } from '../../src/migration/runMigration.js';
import { verifyMigrationOutcome } from '../../src/migration/outcomeCheck.js';
import { runCliProcess } from '../support/cliProcess.js';
import { SEED_DIR } from '../support/seedProcedure.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import { removeSourceTooEarlyPlan } from '../support/wrongOrderPlan.js';

const fast = ConfigSchema.parse({
  connectivity: { intervalSeconds: 0.25, timeoutSeconds: 0.2, failureThresholdSeconds: 1, collectIntervalSeconds: 0.25, settleSeconds: 1.5 },
  drain: { evictionRetrySeconds: 0.5 },
  timeouts: { connectivitySeconds: 10 },
});

describe('full migrations on the simulated cluster', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  const prepare = (client: ReturnType<typeof openClusterFromText>['client']) => prepareMigration(client, fast, { render: (source) => loadManifestBundles(fast, undefined, source, () => {}) });
  const verify = async () => {
    const { client } = openClusterFromText(sim!.cluster.kubeconfig());
    return verifyMigrationOutcome(client, await prepare(client), sim!.cluster.model.groundTruth.violations());
  };

  it('demo migrates 3 nodes with zero loss and writes a report', { timeout: 180_000 }, async () => {
    const dir = (sim = await startSimWithKubeconfig({ nodes: 1 })).dir;
    const report = join(dir, 'report.json');
    const junit = join(dir, 'junit.xml');
    const r = await runCliProcess(['demo', '--nodes', '3', '--report', report, '--junit', junit]);
    expect(r.stdout).toContain('Migration verified');
    expect(r.code).toBe(0);
    const rep = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(report, 'utf8')));
    expect(rep.ok).toBe(true);
    expect(rep.steps.map((s: { name: string }) => s.name)).toEqual(['preflight', 'prepare', 'roll', 'priority', 'migrate', 'clean-up']);
    // node-1 is the control-plane node: it goes last.
    expect(rep.steps[4].nodes.map((n: { node: string }) => n.node)).toEqual(['node-2', 'node-3', 'node-1']);
    expect(rep.connectivity.pairChecks).toBeGreaterThan(0);
    expect(rep.connectivity.failedPairs).toEqual([]);
    // The same run for a CI system: a testcase per node of each per-node step, all passing.
    const xml = await import('node:fs').then((fs) => fs.readFileSync(junit, 'utf8'));
    expect(xml).toMatch(/<testsuites name="cni-migration multus" tests="\d+" failures="0" errors="0" skipped="0"/);
    const migrate = /<testsuite name="step 4 migrate"[^>]*>([\s\S]*?)<\/testsuite>/.exec(xml)?.[1] ?? '';
    expect([...migrate.matchAll(/<testcase name="([^"]+)" classname="cni-migration.step4-migrate" time="[\d.]+"/g)].map((m) => m[1])).toEqual(['node-2', 'node-3', 'node-1']);
    expect(xml).toContain('<testcase name="every node migrated" classname="cni-migration.outcome">');
  });

  it('migrates 8 nodes through the engine with zero loss', { timeout: 300_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 8 });
    const { client } = openClusterFromText(sim.cluster.kubeconfig());
    await runMigration({ client, config: fast, prepared: await prepare(client), selection: { steps: [0, 1, 2, 3, 4, 5] }, dryRun: false, gate: () => createProbeGate(client, fast), events: () => {}, pollIntervalMs: 100, resumeCommand: 'test' });
    const outcome = await verify();
    expect(outcome.summary).toContain('verified');
    expect(outcome.ok).toBe(true);
  });

  it("runs step by step with the seed's flags and config.yaml to the same result", { timeout: 400_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    // The seed's file as it is, plus our (optional) fast probing: the seed has no connectivity section.
    const cfg = join(sim.dir, 'seed-config.yaml');
    writeFileSync(cfg, `${readFileSync(join(SEED_DIR, 'config.yaml'), 'utf8')}\n${FAST_CONFIG}`);
    const kc = ['--kubeconfig', sim.kubeconfig, '-c', cfg, '--no-dry-run'];
    for (const flags of [['-0'], ['--step-prepare'], ['--step-roll-nodes', 'node-1'], ['--step-roll-all-nodes'], ['--step-change-cni-all-priority'], ['--step-migrate-nodes', 'node-2,node-1'], ['-4'], ['--step-clean-up']]) {
      const r = await runCliProcess([...flags, ...kc]);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const outcome = await verify();
    expect(outcome.ok, outcome.summary).toBe(true);
    const again = await runCliProcess(['--step-all', ...kc]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/skipped/);
  });

  it('stops when a PodDisruptionBudget blocks a drain, names it, leaves the node cordoned and resumes after the fix', { timeout: 240_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, `${FAST_CONFIG}timeouts:\n  drainSeconds: 3\n`);
    sim.cluster.store.mutate('policy/poddisruptionbudgets', 'demo', 'web', (p) => {
      p.spec = { maxUnavailable: 0, selector: p.spec.selector };
    });
    const args = ['run', '--steps', '0-2', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg];
    const blocked = await runCliProcess(args);
    expect(blocked.code).toBe(1);
    // The first node drained is the first worker (node-1, the control-plane node, goes last).
    expect(blocked.stderr).toMatch(/step 2 \(roll\) on node node-2 failed/);
    expect(blocked.stderr).toMatch(/demo\/web-/);
    expect(blocked.stderr).toMatch(/PodDisruptionBudget|disruption budget/);
    expect(blocked.stderr).toMatch(/re-run the same command/);
    // The preflight had said so before anything was written.
    expect(blocked.stderr).toMatch(/preflight WARN PodDisruptionBudgets allow drains: never allow an eviction: demo\/web \(maxUnavailable 0 of \d pods\)/);
    expect(sim.cluster.store.get('nodes', undefined, 'node-2')!.spec.unschedulable).toBe(true);
    sim.cluster.store.mutate('policy/poddisruptionbudgets', 'demo', 'web', (p) => {
      p.spec = { maxUnavailable: 1, selector: p.spec.selector };
    });
    const resumed = await runCliProcess(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim.cluster.store.get('nodes', undefined, 'node-2')!.spec.unschedulable).toBeFalsy();
    expect(sim.cluster.model.groundTruth.violations()).toEqual([]);
  });

  it("negative control: the engine's own primitives in a wrong order (the source CNI removed before any node is migrated) lose connectivity", { timeout: 240_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    const { client } = openClusterFromText(sim.cluster.kubeconfig());
    const prepared = await prepare(client);
    const base = { client, config: fast, prepared, manifests: prepared.manifests, dryRun: false, events: () => {}, pollIntervalMs: 100, resumeCommand: 'test' };
    await runMigration({ ...base, selection: { steps: [0, 1, 2] }, gate: () => createProbeGate(client, fast) });
    expect(sim.cluster.model.groundTruth.violations()).toEqual([]);
    const gate = createProbeGate(client, fast);
    const wrong = executePlan(
      removeSourceTooEarlyPlan(),
      { ...base, gate },
    );
    await expect(wrong).rejects.toThrow(MigrationStepError);
    await expect(wrong).rejects.toThrow(/connectivity lost/);
    await gate.stop();
    expect(sim.cluster.model.groundTruth.violations().length).toBeGreaterThan(0);
  });
});
