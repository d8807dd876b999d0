import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliProcess } from '../support/cliProcess.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';

// The migration CLI as a user runs it: a separate process talking HTTPS to a simulated cluster.
describe('cni-migration plan/run/status against the simulated cluster', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  const nodeLabels = () => sim!.cluster.store.list('nodes').items.map((n) => n.metadata.labels ?? {});

  it('plan --steps all on an untouched cluster shows the whole migration node by node, and changes nothing', async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    const before = JSON.stringify(nodeLabels());
    const r = await runCliProcess(['plan', '--steps', 'all', '--kubeconfig', sim.kubeconfig]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const s of ['Step 0 (preflight)', 'Step 1 (prepare)', 'Step 2 (roll)', 'Step 3 (priority)', 'Step 4 (migrate)', 'Step 5 (clean-up)']) expect(r.stdout).toContain(s);
    // node-1 is the control-plane node: it goes last.
    expect(r.stdout).toMatch(/node node-2 \(1\/3\):\n\s+- check pod-to-pod connectivity \(before node-2\)\n\s+- drain node-2/);
    expect(r.stdout).toMatch(/node node-1 \(3\/3\):\n\s+- check pod-to-pod connectivity \(before node-1\)\n\s+- drain node-1/);
    expect(r.stdout).toContain('    batch 3/3 (control plane): node-1');
    expect(r.stdout).toContain('taint node node-2 node-role.kubernetes.io/cilium=cilium:NoExecute');
    const json = await runCliProcess(['plan', '--steps', '0-1', '-o', 'json', '--kubeconfig', sim.kubeconfig]);
    expect(JSON.parse(json.stdout).steps.map((s: { name: string }) => s.name)).toEqual(['preflight', 'prepare']);
    expect(JSON.stringify(nodeLabels())).toBe(before);
  });

  it("gives the seed's node-list flags one meaning on the root command, run and plan", async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    const kc = ['--kubeconfig', sim.kubeconfig];
    const nodesOf = (stdout: string) => [...stdout.matchAll(/^ {2}node (\S+) \(\d+\/\d+\):$/gm)].map((m) => m[1]);
    for (const args of [['--step-roll-nodes', 'node-2'], ['run', '--step-roll-nodes', 'node-2'], ['plan', '--step-roll-nodes', 'node-2'], ['--step-roll-nodes', 'node-2', 'plan']]) {
      // Step 2 needs steps 0 and 1 first: the refusal names step 0, which shows step 2 was selected.
      const r = await runCliProcess([...args, ...kc]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/step 0 not ready \(preflight: .*\); run step 0 first \(e\.g\. --steps 0-2\)/);
      expect(r.stderr, args.join(' ')).not.toContain('no step selected');
    }
    const plan = await runCliProcess(['plan', '--steps', '0-2', '--nodes', 'node-3,node-1', ...kc]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(nodesOf(plan.stdout)).toEqual(['node-3', 'node-1']);
    const migrate = await runCliProcess(['plan', '--step-preflight', '--step-prepare', '--step-roll-nodes', 'node-2', ...kc]);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(nodesOf(migrate.stdout)).toEqual(['node-2']);
  });

  it('run is a dry run unless --no-dry-run', async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const r = await runCliProcess(['run', '--steps', '0-1', '--kubeconfig', sim.kubeconfig]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('DRY RUN: nothing will be changed');
    expect(sim.cluster.store.get('apps/daemonsets', 'kube-system', 'cilium')).toBeUndefined();
    expect(nodeLabels().every((l) => !('node-role.kubernetes.io/canal-cilium' in l))).toBe(true);
  });

  it('writes the report to a ConfigMap with --report-configmap (for runs inside the cluster), and refuses a malformed reference before acting', async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const bad = await runCliProcess(['run', '--steps', '0', '--no-dry-run', '--report-configmap', 'Reports', '--kubeconfig', sim.kubeconfig]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--report-configmap must be namespace/name (lower-case DNS names), got "Reports"');
    expect(sim.cluster.store.list('pods', 'cni-migration-probe').items).toEqual([]);
    const r = await runCliProcess(['run', '--steps', '0', '--no-dry-run', '--report-configmap', 'default/cni-migration-report', '--kubeconfig', sim.kubeconfig]);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stderr).toContain('report written to ConfigMap default/cni-migration-report (report.json, report.md, junit.xml)');
    const cm = sim.cluster.store.get('configmaps', 'default', 'cni-migration-report') as { data: Record<string, string> } | undefined;
    expect(JSON.parse(cm!.data['report.json']!)).toMatchObject({ ok: true, steps: [{ step: 0, name: 'preflight' }] });
    expect(cm!.data['report.md']).toContain('- Result: **success**');
    expect(cm!.data['junit.xml']).toContain('<testsuite name="step 0 preflight"');
  });

  it("refuses a step whose predecessors are not ready with the seed's message and exit 1", async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const r = await runCliProcess(['run', '--steps', '2', '--no-dry-run', '--kubeconfig', sim.kubeconfig]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 0 not ready/);
  });

  it('refuses bad input with exit 2 and a one-line reason, changing nothing', async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const before = JSON.stringify(nodeLabels());
    const badConfig = join(sim.dir, 'bad.yaml');
    writeFileSync(badConfig, 'labels:\n  rolld: x\n');
    const cases: [string[], RegExp][] = [
      [['run', '--steps', 'all', '--no-dry-run', '-c', badConfig], /bad\.yaml: labels\.rolld: unknown key/],
      [['run', '--steps', 'all', '-c', join(sim.dir, 'missing.yaml')], /missing\.yaml: no such file/],
      [['run', '--steps', '0-2', '--nodes', 'node-9', '--no-dry-run'], /unknown node: node-9/],
      [['--step-roll-all-nodes', '--step-roll-nodes', 'node-1'], /conflict/],
      [['run', '--steps', '7'], /out of range/],
      [['status', '-o', 'yaml'], /-o\/--output must be text or json/],
    ];
    for (const [args, message] of cases) {
      const r = await runCliProcess([...args, '--kubeconfig', sim.kubeconfig]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error')).length, args.join(' ')).toBeLessThanOrEqual(1);
    }
    expect(JSON.stringify(nodeLabels())).toBe(before);
  });

  it('reports an unreachable API server and a missing kubeconfig clearly', async () => {
    const kc = join((sim = await startSimWithKubeconfig({ nodes: 1 })).dir, 'dead.kubeconfig');
    writeFileSync(kc, sim.cluster.kubeconfig().replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
    const dead = await runCliProcess(['status', '--kubeconfig', kc]);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(dead.stderr).not.toContain(sim.cluster.token);
    const none = await runCliProcess(['status'], { KUBECONFIG: join(sim.dir, 'nope'), HOME: sim.dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/kubeconfig/i);
  });

  it('status shows phases and step readiness', async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const r = await runCliProcess(['status', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/node-1\s+canal/);
    expect(r.stdout).toMatch(/0\s+preflight\s+no/);
    expect(r.stdout).toMatch(/node-1\s+canal\s+1 pod: 1 source/);
    expect(r.stdout).toContain('Next: cni-migration run --strategy multus --steps 0');
  });
});
