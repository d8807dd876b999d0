import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCliProcess } from '../support/cliProcess.js';

// The multus strategy from every stock install, as a new user runs it: `demo --scenario` on the
// shipped scenarios (4 nodes, a Deployment and a StatefulSet each behind a PodDisruptionBudget).
// The source is detected, the manifests rendered from it, every step verified node by node.

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-stock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  ok: boolean;
  strategy: string;
  source: string;
  connectivity: { pairChecks: number; failedPairs: unknown[] };
  extra: { 'Outcome checks': { name: string; ok: boolean; detail: string }[]; 'Ground truth (simulator)': { violations: unknown[] } };
}

// Stock Calico detects its node address first-found: Cilium's cilium_host would capture it, so
// the run needs the user's consent to switch it to the InternalIP first.
const SOURCES = [
  { scenario: 'canal', source: 'canal (DaemonSet kube-system/canal)', flags: [] },
  { scenario: 'calico', source: 'calico (DaemonSet kube-system/calico-node)', flags: ['--fix-calico-autodetection'] },
  { scenario: 'calico-vxlan', source: 'calico (DaemonSet kube-system/calico-node)', flags: ['--fix-calico-autodetection'] },
  { scenario: 'calico-operator', source: 'calico (DaemonSet calico-system/calico-node)', flags: ['--fix-calico-autodetection'] },
  { scenario: 'flannel', source: 'flannel (DaemonSet kube-flannel/kube-flannel-ds)', flags: [] },
];

describe('the multus strategy from each stock install', () => {
  for (const s of SOURCES) {
    it(`migrates scenarios/${s.scenario}.yaml with zero loss, every pod ending on Cilium`, { timeout: 120_000 }, async () => {
      const report = join(dir, `${s.scenario}.json`);
      const r = await runCliProcess(['demo', '--scenario', join(ROOT, 'scenarios', `${s.scenario}.yaml`), '--report', report, ...s.flags]);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout).toContain('Migration verified');
      const rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
      expect(rep.strategy).toBe('multus');
      expect(rep.source).toBe(s.source);
      expect(rep.extra['Outcome checks'].filter((c) => !c.ok)).toEqual([]);
      expect(rep.extra['Outcome checks'].find((c) => c.name.startsWith('every pod IP'))?.detail).toMatch(/^\d+ pods$/);
      expect(rep.extra['Ground truth (simulator)'].violations).toEqual([]);
      expect(rep.connectivity.failedPairs).toEqual([]);
      expect(rep.connectivity.pairChecks).toBeGreaterThan(500);
      // Each node's promise was read back in every per-node step.
      expect(r.stderr.match(/verify every pod-network pod on node-\d has/g)?.length).toBe(12);
    });
  }

  it('runs a seven-node scenario of named, zoned Node objects with a tainted control-plane node (and ignores --nodes)', { timeout: 120_000 }, async () => {
    const report = join(dir, 'seven.json');
    const r = await runCliProcess(['demo', '--nodes', '3', '--scenario', join(ROOT, 'test', 'fixtures', 'seven-nodes.yaml'), '--report', report]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toContain('note: --nodes 3 ignored');
    expect(r.stderr).toMatch(/simulated cluster: 7 nodes/);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as Report & { steps: { name: string; nodes: { node: string }[] }[] };
    // Zone by zone, the control-plane node last.
    expect(rep.steps.find((s) => s.name === 'migrate')!.nodes.map((n) => n.node)).toEqual(['worker-a1', 'worker-a2', 'worker-b1', 'worker-b2', 'worker-c1', 'worker-c2', 'cp-1']);
    expect(rep.extra['Outcome checks'].filter((c) => !c.ok)).toEqual([]);
  });

  it('negative control: told the wrong CNI directory (cni.confDir), it stops at the first node naming the pods, before any pod loses its network', { timeout: 120_000 }, async () => {
    const cfg = join(dir, 'wrong-dir.yaml');
    writeFileSync(cfg, 'cni:\n  confDir: /etc/kubernetes/cni/net.d\n');
    const report = join(dir, 'wrong-dir.json');
    const r = await runCliProcess(['-c', cfg, 'demo', '--scenario', join(ROOT, 'scenarios', 'canal.yaml'), '--report', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('warning: cni.confDir "/etc/kubernetes/cni/net.d" overrides what the cluster says: "/etc/cni/net.d"');
    // node-2 is the first worker (node-1, the control-plane node, goes last).
    expect(r.stderr).toMatch(/error: step 2 \(roll\) on node node-2 failed while trying to verify every pod-network pod on node-2 has an interface on both k8s-pod-network and cilium: \d+ pods? on node-2 lacks? what step 2 \(roll\) promised: cni-migration-probe\/probe-[ab]-\w+ \(no network-status annotation: Multus did not wire this pod\)/);
    expect(r.stderr).not.toMatch(/node node-3: start/);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
    // No pod pair ever lost connectivity: the run stopped while every pod still had its Canal network.
    expect(rep.extra['Ground truth (simulator)'].violations).toEqual([]);
    expect(rep.connectivity.failedPairs).toEqual([]);
  });
});
