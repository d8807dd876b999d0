import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ROOT, runCliProcess } from '../support/cliProcess.js';
import { kubectl } from '../support/kubectl.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import type { RunReport } from '../../src/report/runRecorder.js';

// A migration against an API server that misbehaves as real ones do: writes answered 500 or 429,
// connections dropped, slow answers, watches cut, and a restart in the middle of the run.

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SOURCES = join(ROOT, 'scenarios', 'sources');
const WORKLOADS = join(ROOT, 'scenarios', 'workloads');

function scenario(dir: string, faults: string): string {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(
    file,
    ['apiVersion: sim.cni-migration.dev/v1alpha1', 'kind: Simulation', 'nodes: 4', 'defaultCluster: false', 'include:', `- ${join(SOURCES, 'canal-v3.31.yaml')}`, `- ${join(WORKLOADS, 'shop.yaml')}`, 'faults:', faults, ''].join('\n'),
  );
  return file;
}

// The shipped scenario: watches cut every 2 s, 3% of requests dropped, 5% slow, 30% of patches
// with a resourceVersion answered 409, 10% of patches and deletes 500, 10% of creates 429, 5% of reads 503.
const WEATHER = join(ROOT, 'scenarios', 'canal-api-faults.yaml');

describe('a migration under API faults', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('writes answered 500/429, dropped connections, slow answers, cut watches and an API server restart mid-run: it completes with zero loss, every retry reported', { timeout: 300_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: WEATHER });
    const cfg = join(sim.dir, 'fast.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    // The API server goes away for 1.5 s when the first node is rolled, as behind a restart.
    let restarted = false;
    const cluster = sim.cluster;
    const unwatch = cluster.store.watch({ resource: 'nodes' }, (ev) => {
      if (restarted || !('node-role.kubernetes.io/rolled' in (ev.object.metadata.labels ?? {}))) return;
      restarted = true;
      void cluster.restartApiServer(1500);
    });
    const report = join(sim.dir, 'report.json');
    const r = await runCliProcess(['run', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg, '--report', report]);
    unwatch();
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(restarted).toBe(true);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as RunReport;
    expect(rep.ok).toBe(true);
    expect(rep.connectivity.failedPairs).toEqual([]);
    // Each kind of fault bit and was retried (were the faults not applied, these would be absent).
    const why = Object.keys(rep.apiRetries);
    expect(why).toContain('the API server failed the request (500)');
    expect(why).toContain('the connection broke (ECONNRESET)');
    expect(why).toContain('the API server refused the connection (restarting?)');
    expect(r.stderr).toMatch(/api: PATCH \/api\/v1\/nodes\/node-\d: the API server failed the request \(500\); retry 1\/7 in \d+\.\ds/);
    // Conflicts hit the writes that carry a resourceVersion (taints, the run lock) and were re-read and redone.
    const injected = [...cluster.server.faultCounts.keys()];
    expect(injected.filter((k) => k.startsWith('409 patch '))).not.toEqual([]);
    expect(injected.filter((k) => k.startsWith('reset '))).not.toEqual([]);
    expect(injected.filter((k) => k.startsWith('cut watch '))).not.toEqual([]);
    expect(cluster.model.groundTruth.violations()).toEqual([]);
    // The end state, read with kubectl: every node migrated, none cordoned or tainted by the run.
    const nodes = JSON.parse((await kubectl(sim.kubeconfig, ['get', 'nodes', '-o', 'json'])).stdout) as { items: { metadata: { name: string; labels: Record<string, string> }; spec: { unschedulable?: boolean; taints?: { key: string }[] } }[] };
    expect(nodes.items).toHaveLength(4);
    for (const n of nodes.items) {
      expect(n.metadata.labels['node-role.kubernetes.io/migrated'], n.metadata.name).toBe('true');
      expect(n.spec.unschedulable ?? false, n.metadata.name).toBe(false);
      expect((n.spec.taints ?? []).map((t) => t.key).filter((k) => k.startsWith('node-role.kubernetes.io/'))).toEqual([]);
    }
    const ds = (await kubectl(sim.kubeconfig, ['get', 'daemonsets', '-n', 'kube-system', '-o', 'name'])).stdout;
    expect(ds).not.toContain('daemonset.apps/canal');
  });

  it('a failure that persists stops the run after its attempts, resumably; once the API server heals (kubectl) the same command finishes', { timeout: 300_000 }, async () => {
    sim = await startSimWithKubeconfig({ scenarioFile: scenario(dir, '- {resource: nodes, verb: patch, share: 1, code: 500}') });
    const cfg = join(sim.dir, 'fast.yaml');
    writeFileSync(cfg, `${FAST_CONFIG}api:\n  retryAttempts: 3\n`);
    const stopped = await runCliProcess(['run', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/error: step \d \(\w+\) (on node node-\d )?failed while trying to label node node-\d .*: simulated fault: the server is currently unable to handle the request \(tried 3 times over \d+\.\d s\)/);
    expect(stopped.stderr).toContain('re-run the same command');
    expect(stopped.stderr.match(/^.*api: PATCH \/api\/v1\/nodes\/.*$/gm)?.length).toBeGreaterThanOrEqual(2);
    // The ledger in the cluster says where it stopped: status shows it, the resumed run starts with it.
    const status = await runCliProcess(['status', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(status.stdout).toMatch(/Ledger \(ConfigMap kube-system\/cni-migration-ledger: \d+ entries; the last 5\):/);
    expect(status.stdout).toMatch(/ {2}Note: the last run \(.+ pid \d+\) stopped at \S+ in labelNode of step \d: step \d \(\w+\) (on node node-\d )?failed while trying to label node/);
    // The API server heals: the live settings cleared with kubectl, the second client.
    const live = join(sim.dir, 'live.yaml');
    writeFileSync(live, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni-migration-sim\n  namespace: kube-system\ndata:\n  settings.yaml: |\n    faults: []\n');
    const applied = await kubectl(sim.kubeconfig, ['apply', '-f', live]);
    expect(applied.code, applied.stderr).toBe(0);
    const resumed = await runCliProcess(['run', '--steps', 'all', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg]);
    expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
    expect(resumed.stderr).not.toContain('api: ');
    expect(resumed.stderr).toMatch(/resuming: the last run \(.+\) stopped at \S+ in labelNode of step \d/);
    expect(sim.cluster.model.groundTruth.violations()).toEqual([]);
    const unmigrated = sim.cluster.store.list('nodes').items.filter((n) => n.metadata.labels?.['node-role.kubernetes.io/migrated'] !== 'true');
    expect(unmigrated.map((n) => n.metadata.name)).toEqual([]);
  });
});
