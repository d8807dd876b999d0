import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killWhen, ROOT, runCliProcess } from '../support/cliProcess.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import { writeCount } from '../support/writeCount.js';

// A dual-overlay run is interrupted and resumed from what the cluster records (node labels,
// taints, cordons, the CiliumNodeConfig), and nodes are rolled back by hand.

const SOURCE_POOL = /^10\.244\./;

describe('dual-overlay: interrupted and resumed, rolled back by hand', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function start() {
    sim = await startSimWithKubeconfig({ scenarioFile: join(ROOT, 'scenarios', 'canal.yaml') });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    return { kubeconfig: sim.kubeconfig, cfg };
  }

  const nodePods = (node: string) =>
    sim!.cluster.store
      .list('pods')
      .items.filter((p) => p.spec?.nodeName === node && !p.spec?.hostNetwork && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
      .map((p) => ({ name: `${p.metadata.namespace}/${p.metadata.name}`, ip: String(p.status?.podIP ?? '') }));
  const labels = (node: string) => sim!.cluster.store.get('nodes', undefined, node)!.metadata.labels ?? {};
  const taints = (node: string) => ((sim!.cluster.store.get('nodes', undefined, node)!.spec?.taints ?? []) as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`);

  it('killed (SIGKILL) during every per-node action of migrate and finalize, each re-run resumes; the last finishes with zero loss', { timeout: 600_000 }, async () => {
    const { kubeconfig, cfg } = await start();
    const args = ['run', '--strategy', 'dual-overlay', '--steps', 'all', '--no-dry-run', '--kubeconfig', kubeconfig, '-c', cfg, '--log-level', 'debug'];
    // Per-node actions of one node: migrate has 10, finalize 5 (the plan's order).
    const positions = [...Array.from({ length: 10 }, (_, i) => ({ step: 2, name: 'migrate', i })), ...Array.from({ length: 5 }, (_, i) => ({ step: 3, name: 'finalize', i }))];
    const killedAt: string[] = [];
    for (const pos of positions) {
      const actionLine = new RegExp(`step ${pos.step} ${pos.name} node (\\S+): (.+)`, 'g');
      const { found: seen } = await killWhen(args, `action ${pos.i} of step ${pos.step} on some node`, (stderr) => [...stderr.matchAll(actionLine)][pos.i], { intervalMs: 25 });
      killedAt.push(`${pos.step}/${pos.i} ${seen[1]}: ${seen[2]!.slice(0, 40)}`);
    }
    // Every kill landed on the action it aimed at, each on a node still at that point.
    expect(killedAt).toHaveLength(15);
    expect(killedAt[1]).toMatch(/^2\/1 node-\d: drain/);
    expect(killedAt[3]).toMatch(/^2\/3 node-\d: restart/);
    expect(killedAt[11]).toMatch(/^3\/1 node-\d: restart/);
    const last = await runCliProcess(args);
    expect(last.code, last.stderr.slice(-3000)).toBe(0);
    expect(sim!.cluster.model.groundTruth.violations()).toEqual([]);
    for (const n of ['node-1', 'node-2', 'node-3', 'node-4']) {
      expect(labels(n)['cni-migration.io/finalized']).toBe('true');
      expect(sim!.cluster.store.get('nodes', undefined, n)!.spec?.unschedulable).toBeFalsy();
      expect(taints(n)).toEqual([]);
    }
    expect(sim!.cluster.store.get('apps/daemonsets', 'kube-system', 'canal')).toBeUndefined();
  });

  it('rollback --nodes puts a migrated node back on the source CNI; past finalize it is refused and changes nothing', { timeout: 300_000 }, async () => {
    const { kubeconfig, cfg } = await start();
    const base = ['--kubeconfig', kubeconfig, '-c', cfg];
    const partial = await runCliProcess(['run', '--strategy', 'dual-overlay', '--steps', '0-2', '--nodes', 'node-1,node-2', '--no-dry-run', ...base]);
    expect(partial.code, partial.stderr.slice(-2000)).toBe(0);
    expect(labels('node-2')['cni-migration.io/migrated']).toBe('true');
    expect(nodePods('node-2').every((p) => p.ip.startsWith('172.29.'))).toBe(true);

    const dry = await runCliProcess(['rollback', '--nodes', 'node-2', ...base]);
    expect(dry.code).toBe(0);
    expect(labels('node-2')['cni-migration.io/migrated']).toBe('true');

    const back = await runCliProcess(['rollback', '--nodes', 'node-2', '--no-dry-run', ...base]);
    expect(back.code, back.stderr.slice(-2000)).toBe(0);
    expect(labels('node-2')['cni-migration.io/migrated']).toBeUndefined();
    expect(labels('node-2')['io.cilium.migration/cilium-default']).toBeUndefined();
    expect(taints('node-2')).toContain('cni-migration.io/not-migrated:PreferNoSchedule');
    const pods = nodePods('node-2');
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.filter((p) => !SOURCE_POOL.test(p.ip))).toEqual([]);
    expect(sim!.cluster.model.groundTruth.violations()).toEqual([]);
    // The rollback is on the ledger, as a run of its own that finished.
    const status = await runCliProcess(['status', '-o', 'json', ...base]);
    const ledger = (JSON.parse(status.stdout) as { ledger: { what: string; result: string; node?: string; detail?: string }[] }).ledger;
    expect(ledger.filter((e) => e.what === 'run').map((e) => `${e.result} ${e.detail ?? ''}`).slice(-2)).toEqual(['started rollback of node-2 to canal', 'finished ']);
    const from = ledger.findIndex((e) => e.what === 'run' && e.detail === 'rollback of node-2 to canal');
    expect(ledger.slice(from).filter((e) => e.node === 'node-2' && e.result === 'ok').length).toBeGreaterThan(2);

    const rest = await runCliProcess(['run', '--steps', 'all', '--no-dry-run', ...base]);
    expect(rest.code, rest.stderr.slice(-2000)).toBe(0);
    // The strategy comes from the cluster record: no --strategy needed to resume.
    expect(rest.stderr).toMatch(/with the dual-overlay strategy/);
    const before = writeCount(sim!.cluster.server.requestCounts);
    const refused = await runCliProcess(['rollback', '--nodes', 'node-1', '--no-dry-run', ...base]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('past its point of no return');
    expect(writeCount(sim!.cluster.server.requestCounts)).toBe(before);
    expect(sim!.cluster.model.groundTruth.violations()).toEqual([]);
  });
});
