import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCliProcess } from '../support/cliProcess.js';

// NetworkPolicy continuity as a user rehearses it (scenarios/*-policies.yaml): the preflight's
// inventory, and the simulator's ground truth judging every pair against the user's policies at
// every moment. The dual-overlay strategy bridges the policies across the two CNIs (felix
// GlobalNetworkPolicies, a Cilium clusterwide policy, Cilium enforcing on switched nodes); without
// the bridge (--no-policy-bridge, Cilium's documented enable-policy never) denied flows to migrated
// pods open. The multus strategy has no bridge yet: its primary swap cuts selector-allowed flows
// felix cannot tie to a pod.

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-policies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Violation {
  unreachableCount: number;
  openedCount: number;
  added: { from: string; to: string; network: string; reason: string; kind?: string }[];
}

const scenario = (name: string) => join(ROOT, 'scenarios', `${name}.yaml`);
const violationsOf = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { extra: { 'Ground truth (simulator)': { violations: Violation[] } } }).extra['Ground truth (simulator)'].violations;

describe('NetworkPolicy continuity rehearsed', () => {
  it('from Flannel: the preflight names the policies that start to take effect, and no allowed pair is cut', { timeout: 180_000 }, async () => {
    const report = join(dir, 'flannel.json');
    const r = await runCliProcess(['demo', '--nodes', '3', '--scenario', scenario('flannel-policies'), '--report', report]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain('preflight WARN NetworkPolicies: 4 in 2 namespace(s) (shop, storefront) isolate 9 pod(s): shop/db-from-web (3 ingress), shop/default-deny (7 ingress), shop/web-from-clients (4 ingress), storefront/client-egress (2 egress). flannel enforces none of them today: they take effect for the first time as pods move to Cilium');
    expect(violationsOf(report)).toEqual([]);
  });

  for (const [source, extra] of [
    ['canal', []],
    ['calico', ['--fix-calico-autodetection']],
  ] as const) {
    it(`from ${source}, dual-overlay: the bridge keeps every allowed pair allowed and every denied pair denied, and goes at clean-up`, { timeout: 180_000 }, async () => {
      const report = join(dir, `${source}-dual.json`);
      const r = await runCliProcess(['demo', '--strategy', 'dual-overlay', '--nodes', '3', '--scenario', scenario(`${source}-policies`), '--report', report, ...extra]);
      expect(r.code, r.stdout.slice(-3000)).toBe(0);
      expect(r.stderr).toMatch(/preflight PASS NetworkPolicies: 4 in 2 namespace\(s\) \(shop, storefront\) isolate 9 pod\(s\): .*\. Bridged while nodes are mixed/);
      expect(r.stderr).toContain('step 1: policy bridge for 4 NetworkPolicies: CiliumClusterwideNetworkPolicy cni-migration-bridge, GlobalNetworkPolicy default.cni-migration-bridge-egress-open, GlobalNetworkPolicy default.cni-migration-bridge-ingress-open, GlobalNetworkPolicy default.cni-migration-bridge-to-cilium, GlobalNetworkPolicy default.cni-migration-bridge-from-cilium');
      expect(r.stdout).toContain('ok   no NetworkPolicy bridge left (none)');
      // Nothing cut, nothing opened, at any moment — and at the end Cilium alone enforces the denials.
      expect(violationsOf(report)).toEqual([]);
    });
  }

  it('from Canal, dual-overlay with --no-policy-bridge (negative control): the ground truth catches denied flows opened to migrated pods', { timeout: 180_000 }, async () => {
    const report = join(dir, 'canal-dual-nobridge.json');
    const r = await runCliProcess(['demo', '--strategy', 'dual-overlay', '--no-policy-bridge', '--nodes', '3', '--scenario', scenario('canal-policies'), '--report', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('without the policy bridge (a Cilium Helm manages, or --no-policy-bridge) Cilium runs with enable-policy never until finalize');
    // The outcome line names how bad it got and the pairs, not just a count.
    expect(r.stdout).toMatch(/FAIL simulator saw no pod pair lose connectivity \(nor a denied pair open\) \(\d+ moment\(s\) from \S+; at worst \d+ denied pair\(s\) open; e\.g\. \S+ -> \S+ \(cilium, denied but open: policy-not-enforced\)/);
    const opened = violationsOf(report).flatMap((v) => v.added).filter((p) => p.kind === 'opened');
    // Traffic into the shop's isolated pods once they are on Cilium, which enforces nothing until finalize.
    expect(opened).toContainEqual(expect.objectContaining({ to: expect.stringMatching(/^shop\//) as string, network: 'cilium', reason: 'policy-not-enforced' }));
  });

  it('from Canal, multus without a bridge: the primary swap cuts flows felix cannot tie to a pod', { timeout: 180_000 }, async () => {
    const report = join(dir, 'canal-multus.json');
    const r = await runCliProcess(['demo', '--nodes', '3', '--scenario', scenario('canal-policies'), '--report', report]);
    expect(r.code).toBe(1);
    const cut = violationsOf(report).flatMap((v) => v.added).filter((p) => p.reason === 'denied-by-policy');
    expect(cut).toContainEqual(expect.objectContaining({ to: expect.stringMatching(/^shop\/web-/) as string, network: 'flannel' }));
  });
});
