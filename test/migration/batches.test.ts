import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ROOT, runCliProcess } from '../support/cliProcess.js';
import { kubectl } from '../support/kubectl.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import { writeCount } from '../support/writeCount.js';

// Nodes in batches (--max-unavailable), as a user runs it on the shipped zoned scenario: ten
// nodes in three zones with a control-plane node and the shop application behind budgets.

const ZONES = join(ROOT, 'scenarios', 'canal-zones.yaml');
const ZONE = 'topology.kubernetes.io/zone';
const dir = mkdtempSync(join(tmpdir(), 'cni-migration-batches-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfg = join(dir, 'fast.yaml');
writeFileSync(cfg, FAST_CONFIG);

interface Batch {
  nodes: string[];
  zone: string;
  controlPlane: boolean;
  cut?: string;
}
interface PlanJson {
  steps: { step: number; name: string; batchLimit?: number; batches?: Batch[]; nodes: { node: string; actions: { kind: string }[] }[] }[];
}
interface KubeList<T> {
  items: T[];
}
interface PodItem {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: { nodeName?: string };
}
interface PdbItem {
  metadata: { name: string; namespace: string };
  spec: { selector: { matchLabels: Record<string, string> } };
  status: { disruptionsAllowed: number };
}

describe('nodes in batches (--max-unavailable)', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('plan lists batches that keep to one zone, never share a budget between drains, and take the control-plane node last — checked with kubectl', { timeout: 120_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: ZONES });
    const text = await runCliProcess(['plan', '--strategy', 'dual-overlay', '--steps', 'all', '--max-unavailable', '30%', '--kubeconfig', sim.kubeconfig]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('  batches (at most 3 nodes at once; one zone at a time; control-plane nodes last):');
    expect(text.stdout).toMatch(/batch 1\/\d+ \(zone eu-west-1.\): worker-\w+\n/);
    const json = await runCliProcess(['plan', '--strategy', 'dual-overlay', '--steps', 'all', '--max-unavailable', '30%', '--kubeconfig', sim.kubeconfig, '-o', 'json']);
    const plan = JSON.parse(json.stdout) as PlanJson;

    // The facts, read with the real kubectl: zones, roles, pods and budgets.
    const nodes = JSON.parse((await kubectl(sim.kubeconfig, ['get', 'nodes', '-o', 'json'])).stdout) as KubeList<{ metadata: { name: string; labels: Record<string, string> } }>;
    const zoneOf = new Map(nodes.items.map((n) => [n.metadata.name, n.metadata.labels[ZONE] ?? '']));
    const cp = nodes.items.filter((n) => 'node-role.kubernetes.io/control-plane' in n.metadata.labels).map((n) => n.metadata.name);
    const pods = (JSON.parse((await kubectl(sim.kubeconfig, ['get', 'pods', '-A', '-o', 'json'])).stdout) as KubeList<PodItem>).items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind !== 'DaemonSet'));
    const pdbs = (JSON.parse((await kubectl(sim.kubeconfig, ['get', 'pdb', '-A', '-o', 'json'])).stdout) as KubeList<PdbItem>).items;
    expect(cp).toEqual(['cp-1']);
    expect(pdbs.length).toBeGreaterThan(0);

    const migrate = plan.steps.find((s) => s.name === 'migrate')!;
    const batches = migrate.batches!;
    expect(migrate.batchLimit).toBe(3);
    expect(batches.flatMap((b) => b.nodes).sort()).toEqual([...zoneOf.keys()].sort());
    // dual-overlay's first node goes alone; the budgets hold the drains to pairs here (and say so),
    // while finalize, which drains nothing, takes whole zones of three.
    expect(batches[0]!.nodes).toHaveLength(1);
    expect(Math.max(...batches.map((b) => b.nodes.length))).toBe(2);
    expect(batches.some((b) => /run \d+ pods of PodDisruptionBudget shop\/\w+, which allows 1 disruption now/.test(b.cut ?? ''))).toBe(true);
    expect(text.stdout).toMatch(/ — not more: worker-\w+ and worker-\w+ run 2 pods of PodDisruptionBudget shop\/\w+, which allows 1 disruption now/);
    const finalize = plan.steps.find((s) => s.name === 'finalize')!.batches!;
    expect(finalize.map((b) => b.nodes.length)).toEqual([3, 3, 3, 1]);
    for (const b of batches) {
      expect(b.nodes.length).toBeLessThanOrEqual(3);
      expect(new Set(b.nodes.map((n) => zoneOf.get(n))).size).toBe(1);
      // The drains of one batch together stay within every budget they share.
      for (const pdb of pdbs) {
        const covered = pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => p.metadata.labels?.[k] === v));
        const onBatch = b.nodes.map((n) => covered.filter((p) => p.spec.nodeName === n).length).filter((c) => c > 0);
        if (onBatch.length > 1) expect(onBatch.reduce((x, y) => x + y, 0), `${b.nodes.join(',')} share ${pdb.metadata.name}`).toBeLessThanOrEqual(pdb.status.disruptionsAllowed);
      }
    }
    // Zones one after another: once a zone is left, it does not come back (the control-plane node aside).
    const zoneSequence = batches.filter((b) => !b.controlPlane).map((b) => b.zone);
    expect(zoneSequence.filter((z, i) => i === 0 || z !== zoneSequence[i - 1])).toEqual([...new Set(zoneSequence)]);
    expect(batches.at(-1)!.nodes).toEqual(['cp-1']);
    expect(batches.filter((b) => b.controlPlane).flatMap((b) => b.nodes)).toEqual(['cp-1']);
    // Nodes run in batch order.
    expect(migrate.nodes.map((n) => n.node)).toEqual(batches.flatMap((b) => b.nodes));

    // Negative control: one at a time, every batch has one node.
    const single = JSON.parse((await runCliProcess(['plan', '--strategy', 'dual-overlay', '--steps', 'all', '--kubeconfig', sim.kubeconfig, '-o', 'json'])).stdout) as PlanJson;
    expect(single.steps.find((s) => s.name === 'migrate')!.batches!.every((b) => b.nodes.length === 1)).toBe(true);
  });

  it('demo migrates the zoned cluster in batches after a watched canary with zero loss, the nodes of a batch worked on at once', { timeout: 240_000 }, async () => {
    const report = join(dir, 'zones.json');
    const r = await runCliProcess(['-c', cfg, 'demo', '--strategy', 'dual-overlay', '--scenario', ZONES, '--max-unavailable', '3', '--canary-wait', '2s', '--report', report]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(/step 2 migrate \[\d+\/10 nodes done\] batch \d+\/\d+ zone eu-west-1.: worker-\w+, worker-\w+\n/);
    expect(r.stderr).toMatch(/step 3 finalize \[\d+\/10 nodes done\] batch \d+\/\d+ zone eu-west-1.: worker-\w+, worker-\w+, worker-\w+\n/);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as {
      ok: boolean;
      steps: { name: string; nodes: { node: string; batch?: number; startedAt: string; durationMs: number }[] }[];
      extra: { 'Ground truth (simulator)': { violations: unknown[] } };
    };
    expect(rep.ok).toBe(true);
    expect(rep.extra['Ground truth (simulator)'].violations).toEqual([]);
    const finalize = rep.steps.find((s) => s.name === 'finalize')!;
    expect(finalize.nodes).toHaveLength(10);
    // Within a batch, every node started before any of them finished: they overlapped.
    const byBatch = new Map<number, typeof finalize.nodes>();
    for (const n of finalize.nodes) byBatch.set(n.batch!, [...(byBatch.get(n.batch!) ?? []), n]);
    const wide = [...byBatch.values()].filter((b) => b.length > 1);
    expect(wide.length).toBeGreaterThan(0);
    for (const b of wide) {
      const lastStart = Math.max(...b.map((n) => Date.parse(n.startedAt)));
      const firstEnd = Math.min(...b.map((n) => Date.parse(n.startedAt) + n.durationMs));
      expect(lastStart).toBeLessThan(firstEnd);
    }
    expect(finalize.nodes.at(-1)!.node).toBe('cp-1');
    // The canary went first and alone in each per-node step, watched before the rest.
    expect(r.stderr).toMatch(/step 2 migrate: canary node worker-\w+ done; watching connectivity for 2s before the other 9 nodes/);
    expect(r.stderr).toMatch(/step 3 finalize: canary node worker-\w+ done; watching connectivity for 2s before the other 9 nodes/);
  });

  it('refuses a bad --max-unavailable, and a canary nobody can answer, before any write', { timeout: 60_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: ZONES });
    const bad = await runCliProcess(['plan', '--max-unavailable', '0', '--kubeconfig', sim.kubeconfig]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --max-unavailable: maxUnavailable "0": use a whole number of nodes (1 or more) or a percentage such as 10%');
    const config = join(sim.dir, 'bad.yaml');
    writeFileSync(config, 'batches:\n  maxUnavailable: 120%\n');
    const badConfig = await runCliProcess(['plan', '-c', config, '--kubeconfig', sim.kubeconfig]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/batches\.maxUnavailable.*at most 100%/);
    const writes = () => writeCount(sim!.cluster.server.requestCounts);
    const before = writes();
    const canary = await runCliProcess(['run', '--strategy', 'dual-overlay', '--steps', 'all', '--no-dry-run', '--canary', '--kubeconfig', sim.kubeconfig]);
    expect(canary.code).toBe(2);
    expect(canary.stderr).toContain('error: --canary (batches.canary) asks for confirmation on a terminal, and this run has none: add --canary-wait 5m');
    expect(writes() - before).toBe(0);
  });
});
