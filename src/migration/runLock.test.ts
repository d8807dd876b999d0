import { describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/waitFor.js';
import { FakeCluster } from '../ops/testing/fakeCluster.js';
import { hostname } from 'node:os';
import { acquireRunLock, judgeLease, localHolderGone, RunLockHeldError } from './runLock.js';

const T0 = Date.parse('2026-12-02T03:00:00.000Z');
const lease = (fake: FakeCluster) => fake.peek<{ metadata: { resourceVersion?: string }; spec: Record<string, unknown> }>('coordination.k8s.io/v1', 'Lease', 'cni-migration', 'kube-system');

describe('judgeLease', () => {
  it('free when absent or released, mine when ours, held until its duration has passed since the last renewal, then expired', () => {
    expect(judgeLease(undefined, 'me', T0)).toEqual({ verdict: 'free' });
    expect(judgeLease({ holderIdentity: '' }, 'me', T0)).toEqual({ verdict: 'free' });
    expect(judgeLease({ holderIdentity: 'me' }, 'me', T0)).toEqual({ verdict: 'mine' });
    const spec = { holderIdentity: 'alice@ops pid 7', leaseDurationSeconds: 30, acquireTime: '2026-12-02T02:50:00.000000Z', renewTime: '2026-12-02T02:59:50.000000Z' };
    expect(judgeLease(spec, 'me', T0)).toEqual({ verdict: 'held', holder: 'alice@ops pid 7', since: '2026-12-02T02:50:00.000000Z', renewedAgoSeconds: 10, expiresInSeconds: 20 });
    expect(judgeLease(spec, 'me', T0 + 20_000)).toEqual({ verdict: 'expired', holder: 'alice@ops pid 7', renewedAgoSeconds: 30 });
  });
});

describe('acquireRunLock', () => {
  it('creates the lease; a second run is refused naming the holder and writes nothing; release frees it', async () => {
    const fake = new FakeCluster();
    const first = await acquireRunLock(fake, { identity: 'alice@ops pid 7', now: () => T0 });
    expect(lease(fake)!.spec).toMatchObject({ holderIdentity: 'alice@ops pid 7', leaseDurationSeconds: 30, acquireTime: '2026-12-02T03:00:00.000000Z' });
    const writes = fake.calls.filter((c) => c.method === 'createObject' || c.method === 'patchObject').length;
    const second = await acquireRunLock(fake, { identity: 'bob@ci pid 9', now: () => T0 + 3000 }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(RunLockHeldError);
    expect((second as Error).message).toBe(
      'another cni-migration run holds the migration lock (Lease kube-system/cni-migration): alice@ops pid 7, since 2026-12-02T03:00:00.000000Z, renewed 3s ago. Nothing was changed. Wait for that run to finish; if it is dead, its lease expires in 27s, or re-run with --force-unlock to take it now.',
    );
    expect(fake.calls.filter((c) => c.method === 'createObject' || c.method === 'patchObject').length).toBe(writes);
    await first.release();
    expect(lease(fake)!.spec.holderIdentity).toBeUndefined();
    const third = await acquireRunLock(fake, { identity: 'bob@ci pid 9', now: () => T0 + 4000 });
    expect(third.tookOverFrom).toBeUndefined();
    await third.release();
  });

  it('takes over an expired lease, or a live one with force, saying from whom', async () => {
    const fake = new FakeCluster();
    const dead = await acquireRunLock(fake, { identity: 'alice@ops pid 7', now: () => T0 });
    const late = await acquireRunLock(fake, { identity: 'bob@ci pid 9', now: () => T0 + 31_000 });
    expect([late.tookOverFrom, late.tookOverBecause]).toEqual(['alice@ops pid 7', 'its lease had expired']);
    expect(lease(fake)!.spec.holderIdentity).toBe('bob@ci pid 9');
    const forced = await acquireRunLock(fake, { identity: 'carol@desk pid 3', now: () => T0 + 32_000, force: true });
    expect([forced.tookOverFrom, forced.tookOverBecause]).toEqual(['bob@ci pid 9', '--force-unlock']);
    for (const l of [dead, late, forced]) await l.release();
  });

  it('takes over at once from a holder on this machine whose process is gone (a killed run), not from a live one', async () => {
    const fake = new FakeCluster();
    // Above Linux's largest pid: no such process.
    const killed = await acquireRunLock(fake, { identity: `alice@${hostname()} pid 4194305`, now: () => T0 });
    const next = await acquireRunLock(fake, { identity: 'bob@ci pid 9', now: () => T0 + 1000 });
    expect([next.tookOverFrom, next.tookOverBecause]).toEqual([`alice@${hostname()} pid 4194305`, 'its process on this machine is gone']);
    expect(localHolderGone(`x@${hostname()} pid ${process.pid}`)).toBe(false);
    expect(localHolderGone(`x@${hostname()} pid ${process.ppid}`)).toBe(false);
    expect(localHolderGone('x@another-host pid 4194305')).toBe(false);
    for (const l of [killed, next]) await l.release();
  });

  it('aborts `lost` when another run takes the lease from under it (its renewal conflicts)', async () => {
    const fake = new FakeCluster();
    const mine = await acquireRunLock(fake, { identity: 'alice@ops pid 7', durationSeconds: 3 });
    expect(mine.lost.aborted).toBe(false);
    fake.mutate('coordination.k8s.io/v1', 'Lease', 'cni-migration', 'kube-system', (l) => {
      (l as unknown as { spec: Record<string, unknown> }).spec.holderIdentity = 'mallory@elsewhere pid 1';
    });
    await waitFor('the lock to be lost', () => mine.lost.aborted, 5000);
    expect((mine.lost.reason as Error).message).toMatch(/^lost the migration lock \(Lease kube-system\/cni-migration\): Operation cannot be fulfilled on leases "cni-migration"/);
    await mine.release();
    // Released after losing: the other run's lease is left alone.
    expect(lease(fake)!.spec.holderIdentity).toBe('mallory@elsewhere pid 1');
  });

  it('keeps the lock when a renewal conflicts only with itself (its first try applied, its answer lost)', async () => {
    const fake = new FakeCluster();
    const mine = await acquireRunLock(fake, { identity: 'alice@ops pid 7', durationSeconds: 3 });
    const before = lease(fake)!.metadata.resourceVersion;
    // Our own holder written again with a new version, as a retried renewal leaves it.
    fake.mutate('coordination.k8s.io/v1', 'Lease', 'cni-migration', 'kube-system', (l) => {
      (l as unknown as { spec: Record<string, unknown> }).spec.renewTime = '2026-12-02T03:00:01.000000Z';
    });
    expect(lease(fake)!.metadata.resourceVersion).not.toBe(before);
    // Two renewals later (one conflicts and re-reads, the next succeeds on the version read back).
    const renewed = (): number => fake.calls.filter((c) => c.method === 'patchObject').length;
    await waitFor('two renewals', () => renewed() >= 2, 5000);
    expect(mine.lost.aborted).toBe(false);
    expect(lease(fake)!.spec.holderIdentity).toBe('alice@ops pid 7');
    await mine.release();
  });
});
