import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliProcess, startCli } from '../support/cliProcess.js';
import { kubectl } from '../support/kubectl.js';
import { FAST_CONFIG, startSimWithKubeconfig } from '../support/simWithKubeconfig.js';
import { waitFor } from '../support/waitFor.js';
import { writeCount } from '../support/writeCount.js';

// One run at a time, as operators meet it: a second `run --no-dry-run` while one is going stops
// before writing anything and names the first; a dead run's lease is taken over once expired.
describe('the migration lock (Lease kube-system/cni-migration)', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>> | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  const holder = () => (sim!.cluster.store.get('coordination.k8s.io/leases', 'kube-system', 'cni-migration')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  const writes = () => writeCount(sim!.cluster.server.requestCounts);

  it('a second run started while one runs exits 1 naming the holder and changes nothing; the first finishes and releases the lock', { timeout: 180_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 3 });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const args = ['run', '--steps', '0-2', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg];
    const first = startCli(args);
    const identity = await waitFor('the first run to hold the lock', () => holder(), 60_000);
    expect(identity).toMatch(/^\S+@\S+ pid \d+$/);
    // The real kubectl sees the same lease.
    const seen = await kubectl(sim.kubeconfig, ['get', 'lease', '-n', 'kube-system', 'cni-migration', '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(seen.stdout).toBe(identity);
    const before = writes();
    const second = await runCliProcess(args);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`error: another cni-migration run holds the migration lock (Lease kube-system/cni-migration): ${identity}, since `);
    expect(second.stderr).toContain('or re-run with --force-unlock to take it now');
    // It stopped before its first step (every write of a run is in a step, or after the lock):
    // it only read the lease, never created or took it.
    expect(second.stderr).not.toMatch(/step \d+ [\w-]+: start/);
    expect(sim.cluster.server.requestCounts.get('create leases') ?? 0).toBe(1);
    expect(holder()).toBe(identity);
    expect(writes()).toBeGreaterThanOrEqual(before);
    expect(await first.exited, first.output().stderr.slice(-2000)).toBe(0);
    expect(holder()).toBeUndefined();
  });

  it("takes over a dead run's expired lease with a warning, and refuses a live one unless --force-unlock", { timeout: 120_000 }, async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const cfg = join(sim.dir, 'config.yaml');
    writeFileSync(cfg, FAST_CONFIG);
    const leaseFile = join(sim.dir, 'lease.yaml');
    const writeLease = (renewTime: string) =>
      writeFileSync(
        leaseFile,
        `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: cni-migration, namespace: kube-system}\nspec: {holderIdentity: "ghost@gone pid 1", leaseDurationSeconds: 30, acquireTime: "${renewTime}", renewTime: "${renewTime}"}\n`,
      );
    writeLease('2020-01-01T00:00:00.000000Z');
    expect((await kubectl(sim.kubeconfig, ['apply', '-f', leaseFile])).code).toBe(0);
    const args = ['run', '--steps', '0', '--no-dry-run', '--kubeconfig', sim.kubeconfig, '-c', cfg];
    const took = await runCliProcess(args);
    expect(took.code, took.stderr).toBe(0);
    expect(took.stderr).toContain('warning: took the migration lock over from ghost@gone pid 1 (its lease had expired)');
    // A live holder: refused, then taken with --force-unlock.
    writeLease(new Date().toISOString().replace('Z', '000Z'));
    expect((await kubectl(sim.kubeconfig, ['apply', '-f', leaseFile])).code).toBe(0);
    const refused = await runCliProcess(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('holds the migration lock (Lease kube-system/cni-migration): ghost@gone pid 1');
    const forced = await runCliProcess([...args, '--force-unlock']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('warning: took the migration lock over from ghost@gone pid 1 (--force-unlock)');
  });
});

describe('status and the lock', () => {
  it('reports a run in progress for a live holder, and none for a holder on this machine whose process is gone', { timeout: 60_000 }, async () => {
    const sim = await startSimWithKubeconfig({ nodes: 2 });
    try {
      const lease = async (holderIdentity: string) => {
        const now = new Date().toISOString().replace('Z', '000Z');
        const file = join(sim.dir, 'lease.yaml');
        writeFileSync(file, `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: cni-migration, namespace: kube-system}\nspec: {holderIdentity: "${holderIdentity}", leaseDurationSeconds: 30, acquireTime: "${now}", renewTime: "${now}"}\n`);
        const r = await kubectl(sim.kubeconfig, ['apply', '-f', file]);
        expect(r.code, r.stderr).toBe(0);
      };
      await lease('alice@elsewhere.example pid 7');
      const live = await runCliProcess(['status', '--kubeconfig', sim.kubeconfig]);
      expect(live.stdout).toContain('A run is in progress: alice@elsewhere.example pid 7');
      expect(live.stdout).toContain('Next: wait for that run');
      // A pid no process has on this machine: the holder was killed.
      await lease(`bob@${hostname()} pid 4194303`);
      const dead = await runCliProcess(['status', '--kubeconfig', sim.kubeconfig]);
      expect(dead.stdout).not.toContain('A run is in progress');
      expect(dead.stdout).toContain(`No run is in progress: the migration lock's holder, bob@${hostname()} pid 4194303, is a process of this machine that is gone (killed); the next run takes the lock over.`);
      expect(dead.stdout).toContain('Next: cni-migration run');
    } finally {
      await sim.stop();
    }
  });
});
