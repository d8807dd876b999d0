import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runCliProcess } from '../support/cliProcess.js';
import { kubectl } from '../support/kubectl.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import { writeCount } from '../support/writeCount.js';

// The dual-overlay strategy (Cilium's per-node procedure) as a new user runs it: `demo
// --strategy dual-overlay` on the shipped stock-install scenarios at 8 nodes, and `run` against
// a simulated cluster for the refusals, which must change nothing.

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-dual-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Recreation {
  workload: string;
  pods: number;
  recreated: number;
  perPod: number;
}

interface Report {
  ok: boolean;
  strategy: string;
  source: string;
  durationMs: number;
  steps: { name: string; nodes: { node: string }[] }[];
  rollbacks: { node: string; ok: boolean }[];
  connectivity: { pairChecks: number; failedPairs: unknown[] };
  extra: {
    'Outcome checks': { name: string; ok: boolean; detail: string }[];
    'Ground truth (simulator)': { violations: unknown[] };
    'Pod re-creations per workload': Recreation[];
  };
}

const readReport = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Report;
const scenario = (name: string) => join(ROOT, 'scenarios', `${name}.yaml`);

const SOURCES = [
  { scenario: 'canal', source: 'canal (DaemonSet kube-system/canal)', flags: [] },
  { scenario: 'calico', source: 'calico (DaemonSet kube-system/calico-node)', flags: ['--fix-calico-autodetection'] },
  { scenario: 'calico-vxlan', source: 'calico (DaemonSet kube-system/calico-node)', flags: ['--fix-calico-autodetection'] },
  { scenario: 'flannel', source: 'flannel (DaemonSet kube-flannel/kube-flannel-ds)', flags: [] },
];

/** Re-creations per workload pod, over the shop application's two workloads. */
function shopPerPod(rep: Report): Record<string, number> {
  const per = rep.extra['Pod re-creations per workload'];
  return Object.fromEntries(per.filter((w) => w.workload.includes(' shop/')).map((w) => [w.workload, w.perPod]));
}

describe('the dual-overlay strategy from each stock install (8 nodes, PodDisruptionBudgets)', () => {
  for (const s of SOURCES) {
    it(`migrates scenarios/${s.scenario}.yaml with zero loss, every pod rolled about once`, { timeout: 240_000 }, async () => {
      const report = join(dir, `${s.scenario}.json`);
      const r = await runCliProcess(['demo', '--strategy', 'dual-overlay', '--nodes', '8', '--scenario', scenario(s.scenario), '--report', report, ...s.flags]);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout).toContain('Migration verified');
      const rep = readReport(report);
      expect(rep.strategy).toBe('dual-overlay');
      expect(rep.source).toBe(s.source);
      expect(rep.extra['Outcome checks'].filter((c) => !c.ok)).toEqual([]);
      expect(rep.extra['Ground truth (simulator)'].violations).toEqual([]);
      expect(rep.connectivity.failedPairs).toEqual([]);
      expect(rep.steps.find((x) => x.name === 'migrate')!.nodes).toHaveLength(8);
      // Each node's switch was read back (migrate) and again after its agent's final restart (finalize).
      expect(r.stderr.match(/verify every pod-network pod on node-\d has its IP on cilium \(172\.29\.0\.0\/16\) and no other network/g)?.length).toBe(16);
      // Once per pod, but for the pods of the first node (drained before any node is on Cilium).
      const per = rep.extra['Pod re-creations per workload'];
      const pods = per.reduce((n, w) => n + w.pods, 0);
      const recreated = per.reduce((n, w) => n + w.recreated, 0);
      expect(pods).toBeGreaterThanOrEqual(7);
      expect(recreated).toBeGreaterThanOrEqual(pods);
      expect(recreated / pods).toBeLessThanOrEqual(1.25);
      expect(Math.max(...per.map((w) => w.perPod))).toBeLessThanOrEqual(2);
    });
  }

  it('re-creates each shop pod about once where multus re-creates it at least three times, on the same scenario', { timeout: 300_000 }, async () => {
    const runs: Record<string, Report> = {};
    for (const strategy of ['multus', 'dual-overlay']) {
      // The dual-overlay run on this scenario, when the test above made it.
      if (strategy === 'dual-overlay' && existsSync(join(dir, 'canal.json'))) {
        runs[strategy] = readReport(join(dir, 'canal.json'));
        continue;
      }
      const report = join(dir, `compare-${strategy}.json`);
      const r = await runCliProcess(['demo', '--strategy', strategy, '--nodes', '8', '--scenario', scenario('canal'), '--report', report]);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Pods re-created \\(${strategy}, \\d+\\.\\d s\\): `));
      runs[strategy] = readReport(report);
    }
    const multus = shopPerPod(runs.multus!);
    const dual = shopPerPod(runs['dual-overlay']!);
    expect(Object.keys(multus).sort()).toEqual(['Deployment shop/web', 'StatefulSet shop/db']);
    for (const w of Object.keys(multus)) {
      expect(multus[w]).toBeGreaterThanOrEqual(3);
      expect(dual[w]).toBeLessThanOrEqual(1.34);
    }
  });
});

describe('dual-overlay negative controls', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("Cilium's tunnel port firewalled: the preflight's tunnel check refuses the run before any node moves, naming the node pairs", { timeout: 180_000 }, async () => {
    const report = join(dir, 'refused.json');
    const r = await runCliProcess(['demo', '--strategy', 'dual-overlay', '--scenario', join(ROOT, 'test', 'fixtures', 'canal-cilium-port-blocked.yaml'), '--report', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/preflight FAIL Cilium's tunnel port open between every pair of nodes: UDP 8473 \(VXLAN\) does not get through: node-1 → node-2 \(no answer on UDP 8473 within 1000 ms\)/);
    expect(r.stderr).toContain('preflight refused the migration (nothing was changed)');
    expect(r.stderr).not.toMatch(/step 2 migrate/);
  });

  it("Cilium's tunnel port firewalled, the tunnel check off: the first node's gate fails, it is rolled back, and the loss is reported", { timeout: 180_000 }, async () => {
    const report = join(dir, 'blocked.json');
    const cfg = join(dir, 'no-tunnel-check.yaml');
    writeFileSync(cfg, 'connectivity:\n  tunnelCheck:\n    enabled: false\n');
    const r = await runCliProcess(['-c', cfg, 'demo', '--strategy', 'dual-overlay', '--scenario', join(ROOT, 'test', 'fixtures', 'canal-cilium-port-blocked.yaml'), '--report', report]);
    expect(r.code).toBe(1);
    const first = /step 2 migrate \[0\/4 nodes done\] node (node-\d): start/.exec(r.stderr)?.[1];
    expect(first).toBeDefined();
    expect(r.stderr).toMatch(/udp\/8473/);
    expect(r.stderr).toContain(`node ${first}: rolled back to the source CNI after: step 2 (migrate) on node ${first} failed`);
    expect(r.stderr).toContain(`${first} was rolled back to the source CNI (rollback: auto)`);
    // No second node was touched.
    expect(r.stderr).not.toMatch(/\[1\/4 nodes done\]/);
    const rep = readReport(report);
    expect(rep.ok).toBe(false);
    expect(rep.rollbacks).toEqual([expect.objectContaining({ node: first, ok: true })]);
    // Not hidden: the probes and the simulator both saw pods lose each other while the node was on Cilium.
    expect(rep.connectivity.failedPairs.length).toBeGreaterThan(0);
    expect(rep.extra['Ground truth (simulator)'].violations.length).toBeGreaterThan(0);
  });

  /** Mutating API requests the CLI made (the simulator's controllers do not go through HTTP). */
  function writes(): number {
    return writeCount(sim!.cluster.server.requestCounts);
  }

  async function refusedRun(scenarioFile: string, config: string, flags: string[] = []) {
    sim = await startSimWithKubeconfig({ scenarioFile });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, `${FAST_CONFIG}${config}`);
    const before = writes();
    const r = await runCliProcess(['run', '--strategy', 'dual-overlay', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg, ...flags]);
    return { ...r, wrote: writes() - before };
  }

  it('Cilium on VXLAN 8472 over Flannel is refused before any write', { timeout: 60_000 }, async () => {
    const r = await refusedRun(scenario('flannel'), 'cilium:\n  tunnelProtocol: vxlan\n  tunnelPort: 8472\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('preflight refused the migration (nothing was changed)');
    expect(r.stderr).toMatch(/Cilium's tunnel port differs from the source overlay's: .*8472/);
    expect(r.stderr).toMatch(/fix: .*cilium\.tunnelPort/);
    expect(r.wrote).toBe(0);
    expect(sim!.cluster.store.get('configmaps', 'kube-system', 'cni-migration')).toBeUndefined();
  });

  it("a Cilium pool overlapping the source's pod CIDR is refused before any write", { timeout: 60_000 }, async () => {
    const r = await refusedRun(scenario('canal'), 'cilium:\n  podCIDR: 10.244.128.0/17\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cilium's pool is a range of its own: cilium\.podCIDR: .*10\.244\.128\.0\/17.*10\.244\.0\.0\/16/);
    expect(r.wrote).toBe(0);
  });

  it("Calico's first-found autodetection without --fix-calico-autodetection is refused before any write; with it the run goes on", { timeout: 240_000 }, async () => {
    const r = await refusedRun(scenario('calico'), '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/IP_AUTODETECTION_METHOD/);
    expect(r.stderr).toContain('--fix-calico-autodetection');
    expect(r.wrote).toBe(0);
    const cfg = join(sim!.dir, 'config.yaml');
    const ok = await runCliProcess(['run', '--strategy', 'dual-overlay', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim!.kubeconfig, '-c', cfg, '--fix-calico-autodetection']);
    expect(ok.code, ok.stderr.slice(-2000)).toBe(0);
    expect(sim!.cluster.model.groundTruth.violations()).toEqual([]);
  });
});

describe('Cilium installed from its Helm chart (1.18 chart output)', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('with the documented migration values it is recognised as latent and the migration uses it', { timeout: 240_000 }, async () => {
    const report = join(dir, 'helm.json');
    const r = await runCliProcess(['demo', '--strategy', 'dual-overlay', '--scenario', scenario('flannel-cilium-chart'), '--report', report]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(/preflight PASS the installed Cilium is latent: ConfigMap kube-system\/cilium-config/);
    // Helm owns it: the tool applies no Cilium manifest of its own, and prints the final values instead of patching.
    expect(r.stderr).not.toMatch(/apply cilium manifests/);
    const rep = readReport(report);
    expect(rep.extra['Outcome checks'].find((c) => c.name.startsWith('every pod IP'))?.name).toContain('10.245.0.0/16');
    expect(rep.extra['Ground truth (simulator)'].violations).toEqual([]);
  });

  it('installed with helm (Helm owns cilium-config): the run stops at finalize asking for `helm upgrade`, and resumes once it is done', { timeout: 240_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: scenario('flannel-cilium-chart') });
    sim.cluster.store.mutate('configmaps', 'kube-system', 'cilium-config', (cm) => {
      cm.metadata.labels = { ...(cm.metadata.labels ?? {}), 'app.kubernetes.io/managed-by': 'Helm' };
      cm.metadata.annotations = { ...(cm.metadata.annotations ?? {}), 'meta.helm.sh/release-name': 'cilium', 'meta.helm.sh/release-namespace': 'kube-system' };
    });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const args = ['run', '--strategy', 'dual-overlay', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg];
    const stopped = await runCliProcess(args);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/step 3 \(finalize\).*ConfigMap kube-system\/cilium-config is not in its final shape/);
    expect(stopped.stderr).toContain('helm upgrade cilium cilium/cilium -n kube-system --reuse-values -f values-final.yaml');
    expect(sim.cluster.store.get('configmaps', 'kube-system', 'cilium-config')!.data['enable-policy']).toBe('never');
    // What the chart renders for the final values (cni.customConf=false, cni.exclusive=true, policyEnforcementMode=default, …), applied as helm upgrade would.
    const final = { 'custom-cni-conf': 'false', 'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist', 'cni-exclusive': 'true', 'cni-log-file': '/var/run/cilium/cilium-cni.log', 'enable-policy': 'default', 'unmanaged-pod-watcher-interval': '15' };
    const patched = await kubectl(sim.kubeconfig, ['-n', 'kube-system', 'patch', 'configmap', 'cilium-config', '--type', 'merge', '-p', JSON.stringify({ data: final })]);
    expect(patched.code, patched.stderr).toBe(0);
    const resumed = await runCliProcess(args);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(sim.cluster.model.groundTruth.violations()).toEqual([]);
  });

  it('with the chart defaults it is refused before any write: overlapping pool, colliding port, not latent', { timeout: 60_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: join(ROOT, 'test', 'fixtures', 'flannel-cilium-chart-default.yaml') });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const before = writeCount(sim.cluster.server.requestCounts);
    const r = await runCliProcess(['run', '--strategy', 'dual-overlay', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cilium's pool is a range of its own: .*10\.0\.0\.0\/8/);
    expect(r.stderr).toMatch(/Cilium's tunnel port differs from the source overlay's: .*8472/);
    expect(r.stderr).toMatch(/the installed Cilium is latent: /);
    expect(writeCount(sim.cluster.server.requestCounts)).toBe(before);
  });
});

describe('cilium-values', () => {
  it("prints the guide's migration values with the configured pool, and the final ones", async () => {
    const cfg = join(dir, 'values.yaml');
    writeFileSync(cfg, 'cilium:\n  podCIDR: 10.245.0.0/16\n');
    const mig = await runCliProcess(['-c', cfg, 'cilium-values', '--phase', 'migration']);
    expect(mig.code).toBe(0);
    const values = parse(mig.stdout) as Record<string, unknown>;
    // Every value of the guide's values-migration.yaml (the fixture the chart output was rendered from).
    const guide = parse(readFileSync(join(ROOT, 'scenarios', 'cilium', 'values-migration.yaml'), 'utf8')) as Record<string, unknown>;
    expect(values).toMatchObject(guide);
    const fin = parse((await runCliProcess(['-c', cfg, 'cilium-values', '--phase', 'final'])).stdout) as { cni: Record<string, unknown>; policyEnforcementMode: string; operator: { unmanagedPodWatcher: { restart: boolean } } };
    expect(fin.cni).toMatchObject({ customConf: false, exclusive: true });
    expect(fin.policyEnforcementMode).toBe('default');
    expect(fin.operator.unmanagedPodWatcher.restart).toBe(true);
    const bad = await runCliProcess(['cilium-values', '--phase', 'later']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--phase/);
  });
});
