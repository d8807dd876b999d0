import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, runCliProcess } from '../support/cliProcess.js';
import { kubectl } from '../support/kubectl.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import { writeCount } from '../support/writeCount.js';

// `cni-migration preflight` as a user runs it against the simulated cluster, with kubectl making
// the cluster unsafe in the ways the report must name.

interface PreflightJson {
  ok: boolean;
  counts: { pass: number; warn: number; fail: number };
  checks: { name: string; verdict: string; detail: string; fix?: string }[];
  access: { verb: string; resource: string; subresource?: string; namespace?: string; allowed: boolean }[];
}

/** The rules of manifests/rbac/cni-migration.yaml as "group resource verb" triples. */
function roleGrants(): Set<string> {
  const role = parseAllDocuments(readFileSync(join(ROOT, 'manifests', 'rbac', 'cni-migration.yaml'), 'utf8'))[0]!.toJS() as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  const out = new Set<string>();
  for (const r of role.rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g} ${res} ${v}`);
  return out;
}

/** The access entries the role does not grant. */
function notGranted(access: PreflightJson['access'], grants: Set<string>): string[] {
  return access
    .map((a) => {
      const [resource, group = ''] = a.resource.split(/\.(.*)/s);
      return `${group} ${resource}${a.subresource ? `/${a.subresource}` : ''} ${a.verb}`;
    })
    .filter((k) => !grants.has(k));
}

describe('cni-migration preflight', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('on the stock Canal and Flannel installs: every check passes or warns, and manifests/rbac grants every permission each strategy needs', { timeout: 120_000 }, async () => {
    const grants = roleGrants();
    // The check can fail: a permission the role lacks is reported.
    expect(notGranted([{ verb: 'deletecollection', resource: 'nodes', allowed: true }], grants)).toEqual([' nodes deletecollection']);
    for (const source of ['canal', 'flannel']) {
      sim = await startSimWithKubeconfig({ scenarioFile: join(ROOT, 'scenarios', `${source}.yaml`) });
      for (const strategy of ['multus', 'dual-overlay']) {
        const r = await runCliProcess(['preflight', '--strategy', strategy, '--no-tunnel-check', '-o', 'json', '--kubeconfig', sim.kubeconfig]);
        expect(r.code, `${source} ${strategy}: ${r.stderr}`).toBe(0);
        const report = JSON.parse(r.stdout) as PreflightJson;
        expect(report.ok).toBe(true);
        expect(report.checks.filter((c) => c.verdict === 'fail')).toEqual([]);
        expect(report.access.length).toBeGreaterThan(20);
        expect(report.access.every((a) => a.allowed)).toBe(true);
        expect(notGranted(report.access, grants), `${source} ${strategy}`).toEqual([]);
      }
      expect(writeCount(sim.cluster.server.requestCounts)).toBe(0);
      await sim.stop();
      sim = undefined;
    }
  });

  it('names the bare pod, the budget that never allows an eviction, the fail-closed webhook and the missing permission; run is then refused before any write', { timeout: 120_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: join(ROOT, 'scenarios', 'canal.yaml') });
    const unsafe = join(sim.dir, 'unsafe.yaml');
    writeFileSync(
      unsafe,
      `apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: default}
spec:
  nodeName: node-2
  containers: [{name: sh, image: busybox:1.37}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: strict, namespace: shop}
spec:
  minAvailable: 100%
  selector: {matchLabels: {app: web}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy-gate}
webhooks:
- name: pods.policy.example.com
  clientConfig: {service: {namespace: gate, name: gate-svc}}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cni-migration-sim, namespace: kube-system}
data:
  settings.yaml: |
    forbidden: [{resource: pods/eviction, verb: create}]
`,
    );
    const applied = await kubectl(sim.kubeconfig, ['apply', '-f', unsafe]);
    expect(applied.code, applied.stderr).toBe(0);
    const text = await runCliProcess(['preflight', '--kubeconfig', sim.kubeconfig]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('  FAIL drains can move every pod: node node-2: cannot delete Pods declare no controller (use --force to override): default/debug');
    expect(text.stdout).toContain('  FAIL permissions for every action: not allowed: create pods/eviction (evict pods (drain))');
    expect(text.stdout).toMatch(/ {2}WARN PodDisruptionBudgets allow drains: never allow an eviction: shop\/strict \(minAvailable 100% of \d pods\)/);
    expect(text.stdout).toContain('ValidatingWebhookConfiguration policy-gate/pods.policy.example.com (Service gate/gate-svc)');
    expect(text.stdout).toContain('2 checks failed: a run would be refused before it changes anything.');
    expect(text.stderr).toContain('error: preflight: permissions for every action; drains can move every pod');

    const cfg = join(sim.dir, 'fast.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const before = writeCount(sim.cluster.server.requestCounts);
    const run = await runCliProcess(['run', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('preflight refused the migration (nothing was changed)');
    expect(run.stderr).toContain('default/debug');
    expect(writeCount(sim.cluster.server.requestCounts)).toBe(before);
  });

  it("the tunnel check: Cilium's port open passes for every pair; firewalled on one node fails naming its pairs; its DaemonSet is gone either way (kubectl)", { timeout: 120_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: join(ROOT, 'scenarios', 'canal.yaml') });
    const open = await runCliProcess(['preflight', '--strategy', 'dual-overlay', '--kubeconfig', sim.kubeconfig]);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toContain("  PASS Cilium's tunnel port open between every pair of nodes: UDP 8473 (VXLAN): 12 node pairs answered");
    const live = join(sim.dir, 'live.yaml');
    writeFileSync(live, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni-migration-sim\n  namespace: kube-system\ndata:\n  settings.yaml: |\n    firewall: {blocked: [{protocol: udp, port: 8473, nodes: [node-3]}]}\n');
    expect((await kubectl(sim.kubeconfig, ['apply', '-f', live])).code).toBe(0);
    const blocked = await runCliProcess(['preflight', '--strategy', 'dual-overlay', '--kubeconfig', sim.kubeconfig]);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain(
      "  FAIL Cilium's tunnel port open between every pair of nodes: UDP 8473 (VXLAN) does not get through: node-1 → node-3 (no answer on UDP 8473 within 1000 ms), node-2 → node-3 (no answer on UDP 8473 within 1000 ms), node-3 → node-1",
    );
    expect(blocked.stdout).not.toContain('node-1 → node-2');
    // The multus strategy's Cilium (GENEVE 6081) is not blocked by that rule.
    const multus = await runCliProcess(['preflight', '--strategy', 'multus', '--kubeconfig', sim.kubeconfig]);
    expect(multus.stdout).toContain("  PASS Cilium's tunnel port open between every pair of nodes: UDP 6081 (GENEVE)");
    const left = await kubectl(sim.kubeconfig, ['get', 'daemonsets,pods', '-A', '-l', 'app.kubernetes.io/name=cni-migration-tunnel-check', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
    // preflight leaves the cluster as it found it: the namespace it made for the check goes too.
    const ns = await kubectl(sim.kubeconfig, ['get', 'namespace', 'cni-migration-probe', '-o', 'jsonpath={.status.phase}']);
    expect(ns.code === 0 ? ns.stdout : 'gone').toMatch(/^(gone|Terminating)$/);
  });

  it("the multus strategy: Cilium's pool and tunnel port judged beside the source's (a clash in the configuration is refused as bad configuration, exit 2, before any write)", { timeout: 60_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: join(ROOT, 'scenarios', 'canal.yaml') });
    const ok = await runCliProcess(['preflight', '--strategy', 'multus', '--no-tunnel-check', '--kubeconfig', sim.kubeconfig]);
    expect(ok.stdout).toMatch(/ {2}PASS Cilium's pool is a range of its own: 172\.29\.0\.0\/16 .* is disjoint from the canal pod CIDR 10\.244\.0\.0\/16/);
    expect(ok.stdout).toContain("  PASS Cilium's tunnel port differs from the source overlay's: Cilium GENEVE on UDP 6081; the canal overlay: VXLAN, UDP 8472");
    const cfg = join(sim.dir, 'clash.yaml');
    writeFileSync(cfg, 'cilium:\n  podCIDR: 10.244.128.0/17\n');
    const r = await runCliProcess(['preflight', '--strategy', 'multus', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${cfg}: cilium.podCIDR: 10.244.128.0/17 overlaps the canal pod CIDR 10.244.0.0/16`);
    expect(writeCount(sim.cluster.server.requestCounts)).toBe(0);
  });
});
