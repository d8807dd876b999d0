import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/configSchema.js';
import { openClusterFromText } from '../../src/kube/cluster.js';
import { loadManifestBundles } from '../../src/migration/manifestBundles.js';
import { verifyMigrationOutcome } from '../../src/migration/outcomeCheck.js';
import { RUN_LOCK } from '../../src/migration/runLock.js';
import { prepareMigration } from '../../src/migration/runMigration.js';
import { TUNNEL_CHECK } from '../../src/preflight/tunnelCheck.js';
import { killWhen, runCliProcess } from '../support/cliProcess.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';

// The multus strategy killed (SIGKILL: no clean-up, the lease left held) at points across all of
// its steps, one sim, each re-run resuming from what the cluster records. The last run must finish
// with zero loss and leave nothing behind: no taint, cordon or migration label of an intermediate
// step, no probe or tunnel-check object beyond the probes' own, the lock free.

const PROBE_NS = 'cni-migration-probe';
const MIGRATION_LABEL = /^node-role\.kubernetes\.io\//;

/**
 * A kill point: the i-th per-node action line of this step in the run's own output, or the first
 * step-wide action line that reads like `stepWide` (a resumed run's step-wide plan leaves out what
 * is already done, so those are aimed at by what they do).
 */
interface KillPoint {
  step: number;
  name: string;
  i: number;
  stepWide?: RegExp;
}

const POINTS: KillPoint[] = [
  { step: 1, name: 'prepare', i: 0, stepWide: /^set nodeSelector/ },
  { step: 1, name: 'prepare', i: 0, stepWide: /^apply multus manifests/ },
  ...[1, 2, 4, 7].map((i) => ({ step: 2, name: 'roll', i })),
  ...[1, 3, 5, 9].map((i) => ({ step: 3, name: 'priority', i })),
  ...[2, 5, 7, 10].map((i) => ({ step: 4, name: 'migrate', i })),
  { step: 5, name: 'clean-up', i: 0, stepWide: /^set nodeSelector/ },
  { step: 5, name: 'clean-up', i: 0, stepWide: /^delete DaemonSet/ },
];

describe('multus: killed at points across every step, resumed from the cluster record', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  const store = () => sim!.cluster.store;

  /** The action lines of one step so far, as [node or '', what]. */
  function actionLines(stderr: string, p: KillPoint): [string, string][] {
    // Lines carry the run's clock first: "[  34.7s] step 4 migrate node node-1: …".
    const lines = stderr.split('\n').map((l) => l.replace(/^\[\s*[\d.]+s\] /, ''));
    const out: [string, string][] = [];
    const perNode = new RegExp(`^step ${p.step} ${p.name} node (\\S+): (.+)$`);
    const wide = new RegExp(`^step ${p.step} ${p.name}: (.+)$`);
    for (const l of lines) {
      if (p.stepWide) {
        const m = wide.exec(l);
        if (m && p.stepWide.test(m[1]!)) out.push(['', m[1]!]);
      } else {
        const m = perNode.exec(l);
        if (m && !m[2]!.startsWith('skipped (')) out.push([m[1]!, m[2]!]);
      }
    }
    return out;
  }

  it('killed at 17 points (the tunnel check, prepare, each per-node step, clean-up), the last re-run finishes with zero loss and nothing stray', { timeout: 600_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const noCheckCfg = join(sim.dir, 'no-tunnel-check.yaml');
    writeFileSync(noCheckCfg, FAST_CONFIG.replace('connectivity:\n', 'connectivity:\n  tunnelCheck:\n    enabled: false\n'));
    const args = (config: string) => ['run', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim!.kubeconfig, '-c', config, '--log-level', 'debug'];
    const killedAt: string[] = [];

    // 1. While the preflight's tunnel check runs: its DaemonSet is left behind.
    await killWhen(args(cfg), 'the tunnel check DaemonSet', () => store().get('apps/daemonsets', PROBE_NS, TUNNEL_CHECK.name), { timeoutMs: 60_000 });
    killedAt.push('0 tunnel check');
    expect(store().get('apps/daemonsets', PROBE_NS, TUNNEL_CHECK.name)).toBeDefined();

    for (const [n, point] of POINTS.entries()) {
      // The run after the tunnel-check kill does not check again: it must still remove what was left.
      const { found: seen, stderr } = await killWhen(args(n === 0 ? noCheckCfg : cfg), `action ${point.i} of step ${point.step}`, (err, exitCode) =>
        actionLines(err, point)[point.i] ?? (exitCode !== null ? (['exited', ''] as [string, string]) : undefined),
      );
      if (seen[0] === 'exited') throw new Error(`the run ended before action ${point.i} of step ${point.step}:\n${stderr.slice(-3000)}`);
      killedAt.push(`${point.step}/${point.i} ${seen[0] || '-'}: ${seen[1].slice(0, 30)}`);
      if (n === 0) {
        expect(stderr).toContain(`removed DaemonSet ${PROBE_NS}/${TUNNEL_CHECK.name}, left by an interrupted run's tunnel check`);
        expect(stderr).toContain('took the migration lock over from');
        expect(store().get('apps/daemonsets', PROBE_NS, TUNNEL_CHECK.name)).toBeUndefined();
      }
    }
    // Every kill landed where it aimed: on the action named, at a node still at that point.
    expect(killedAt).toHaveLength(17);
    expect(killedAt[2]).toMatch(/^1\/0 -: apply multus manifests/);
    expect(killedAt[3]).toMatch(/^2\/1 node-\d: drain/);
    expect(killedAt[8]).toMatch(/^3\/3 node-\d: drain/);
    expect(killedAt[11]).toMatch(/^4\/2 node-\d: taint node/);
    expect(killedAt[13]).toMatch(/^4\/7 node-\d: remove taint/);
    expect(killedAt[16]).toMatch(/^5\/0 -: delete DaemonSet/);

    // Status reads the record a killed run left: the lock's holder and the ledger's last run.
    const status = await runCliProcess(['status', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/node-1\s+\S+/);
    expect(status.stdout).toMatch(/lock/i);

    const last = await runCliProcess(args(cfg));
    expect(last.code, last.stderr.slice(-3000)).toBe(0);
    expect(sim.cluster.model.groundTruth.violations()).toEqual([]);
    const { client } = openClusterFromText(sim.cluster.kubeconfig());
    const config = ConfigSchema.parse({});
    const prepared = await prepareMigration(client, config, { render: (source) => loadManifestBundles(config, undefined, source, () => {}) });
    const outcome = await verifyMigrationOutcome(client, prepared, sim.cluster.model.groundTruth.violations());
    expect(outcome.ok, outcome.summary).toBe(true);

    // Nothing stray on the nodes: the end state's labels only, no taint, no cordon.
    for (const node of store().list('nodes').items) {
      const labels = Object.keys(node.metadata.labels ?? {}).filter((k) => MIGRATION_LABEL.test(k) && k !== 'node-role.kubernetes.io/control-plane');
      expect(labels.sort(), node.metadata.name).toEqual(['node-role.kubernetes.io/cilium', 'node-role.kubernetes.io/migrated']);
      expect(node.spec?.taints ?? [], node.metadata.name).toEqual([]);
      expect(node.spec?.unschedulable, node.metadata.name).toBeFalsy();
    }
    // Nothing stray in the probes' namespace: their two DaemonSets, one pod each per node.
    const probeDs = store().list('apps/daemonsets').items.filter((d) => d.metadata.namespace === PROBE_NS).map((d) => d.metadata.name);
    expect(probeDs.sort()).toEqual(['probe-a', 'probe-b']);
    const probePods = store().list('pods').items.filter((p) => p.metadata.namespace === PROBE_NS);
    expect(probePods.filter((p) => p.metadata.deletionTimestamp)).toEqual([]);
    expect(probePods.map((p) => `${p.metadata.labels?.app ?? p.metadata.generateName ?? '?'}@${p.spec?.nodeName}`).sort()).toHaveLength(6);
    expect(new Set(probePods.map((p) => `${p.metadata.ownerReferences?.[0]?.name}@${p.spec?.nodeName}`)).size).toBe(6);
    // No pod anywhere left terminating or pending by an interrupted drain.
    expect(store().list('pods').items.filter((p) => p.metadata.deletionTimestamp || p.status?.phase === 'Pending').map((p) => p.metadata.name)).toEqual([]);
    // The lock is free again.
    const lease = store().get('coordination.k8s.io/leases', RUN_LOCK.namespace, RUN_LOCK.name) as { spec?: { holderIdentity?: string | null } } | undefined;
    expect(lease?.spec?.holderIdentity ?? null).toBeNull();
  });
});
