/**
 * One migration run at a time: a coordination.k8s.io/v1 Lease held and renewed for the whole run,
 * as controllers elect a leader. A second run finds it held and stops before writing anything,
 * naming the holder; a run that died leaves a lease that expires after its duration and is then
 * taken over; `--force-unlock` takes it at once. Taking and renewing use the lease's
 * resourceVersion, so two runs racing for it cannot both win.
 */
import { hostname } from 'node:os';
import type { ClusterClient } from '../kube/clusterClient.js';
import { isConflict, isNotFound } from '../kube/kubeErrors.js';
import type { KubeObject } from '../kube/kubeTypes.js';

/** The Lease's place. */
export const RUN_LOCK = { namespace: 'kube-system', name: 'cni-migration' } as const;
/** Seconds without renewal after which a lease is free. */
export const RUN_LOCK_SECONDS = 30;

/** The fields of a Lease the lock uses. */
export interface LeaseSpec {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: string | undefined;
  renewTime?: string | undefined;
}

/** What a lease found in the cluster means for a run. */
export type LeaseVerdict =
  | { verdict: 'free' }
  | { verdict: 'mine' }
  | { verdict: 'expired'; holder: string; renewedAgoSeconds: number }
  | { verdict: 'held'; holder: string; since: string; renewedAgoSeconds: number; expiresInSeconds: number };

/** Judges a lease (pure): absent or released is free, past its duration expired, else held by its holder. */
export function judgeLease(spec: LeaseSpec | undefined, me: string, now: number): LeaseVerdict {
  if (!spec?.holderIdentity) return { verdict: 'free' };
  if (spec.holderIdentity === me) return { verdict: 'mine' };
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '') || 0;
  const ago = Math.max(0, Math.round((now - renewed) / 1000));
  const duration = spec.leaseDurationSeconds ?? RUN_LOCK_SECONDS;
  if (ago >= duration) return { verdict: 'expired', holder: spec.holderIdentity, renewedAgoSeconds: ago };
  return { verdict: 'held', holder: spec.holderIdentity, since: spec.acquireTime ?? spec.renewTime ?? '?', renewedAgoSeconds: ago, expiresInSeconds: duration - ago };
}

/** Another run holds the lock. Exit code 1, nothing written. */
export class RunLockHeldError extends Error {
  constructor(
    readonly holder: string,
    readonly since: string,
    renewedAgoSeconds: number,
    expiresInSeconds: number,
  ) {
    super(
      `another cni-migration run holds the migration lock (Lease ${RUN_LOCK.namespace}/${RUN_LOCK.name}): ${holder}, since ${since}, renewed ${renewedAgoSeconds}s ago. Nothing was changed. Wait for that run to finish; if it is dead, its lease expires in ${expiresInSeconds}s, or re-run with --force-unlock to take it now.`,
    );
    this.name = 'RunLockHeldError';
  }
}

/** Who this run is, for the lease and the messages (kubeconfig user, host, process). */
export function runIdentity(user: string): string {
  return `${user || 'unknown-user'}@${hostname()} pid ${process.pid}`;
}

/** A held lock: renewed in the background until released; `lost` aborts when a renewal fails for good. */
export interface RunLock {
  identity: string;
  /** Taken over from an expired, dead or force-unlocked holder, if any, and why. */
  tookOverFrom?: string | undefined;
  tookOverBecause?: string | undefined;
  lost: AbortSignal;
  release(): Promise<void>;
}

/** Options of acquireRunLock. */
export interface RunLockOptions {
  identity: string;
  /** Take the lock from a live holder (--force-unlock). */
  force?: boolean | undefined;
  durationSeconds?: number | undefined;
  now?: () => number;
}

const leaseRef = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: RUN_LOCK.namespace, name: RUN_LOCK.name };

/** Takes the lock or throws RunLockHeldError; a lost race for it is reported as held by the winner. */
export async function acquireRunLock(client: Pick<ClusterClient, 'getObject' | 'createObject' | 'patchObject'>, opts: RunLockOptions): Promise<RunLock> {
  const now = opts.now ?? Date.now;
  const duration = opts.durationSeconds ?? RUN_LOCK_SECONDS;
  const spec = (at: number): LeaseSpec => ({ holderIdentity: opts.identity, leaseDurationSeconds: duration, acquireTime: micro(at), renewTime: micro(at) });
  let tookOverFrom: string | undefined;
  let tookOverBecause: string | undefined;
  let current: KubeObject | undefined;
  try {
    current = await client.getObject(leaseRef);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  let held: KubeObject;
  if (!current) {
    try {
      held = await client.createObject({ apiVersion: leaseRef.apiVersion, kind: leaseRef.kind, metadata: { name: leaseRef.name, namespace: leaseRef.namespace, labels: { 'app.kubernetes.io/managed-by': 'cni-migration' } }, spec: spec(now()) });
    } catch (e) {
      if (!isConflict(e)) throw e;
      return acquireRunLock(client, opts);
    }
  } else {
    const v = judgeLease((current as { spec?: LeaseSpec }).spec, opts.identity, now());
    // A holder on this machine whose process is gone (killed) is dead: no need to wait for expiry.
    const dead = v.verdict === 'held' && localHolderGone(v.holder);
    if (v.verdict === 'held' && !opts.force && !dead) throw new RunLockHeldError(v.holder, v.since, v.renewedAgoSeconds, v.expiresInSeconds);
    if (v.verdict === 'held' || v.verdict === 'expired') {
      tookOverFrom = v.holder;
      tookOverBecause = v.verdict === 'expired' ? 'its lease had expired' : dead ? 'its process on this machine is gone' : '--force-unlock';
    }
    try {
      held = await client.patchObject(leaseRef, { type: 'merge', body: { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: spec(now()) } });
    } catch (e) {
      // Someone else took or renewed it in between: judge again.
      if (!isConflict(e)) throw e;
      return acquireRunLock(client, { ...opts, force: false });
    }
  }
  const lostController = new AbortController();
  let version = held.metadata.resourceVersion;
  let lastRenewed = now();
  let stopped = false;
  let renewing = false;
  const renew = async () => {
    // A renewal still retrying a busy API server is not doubled by the next tick.
    if (stopped || renewing) return;
    renewing = true;
    try {
      const r = await client.patchObject(leaseRef, { type: 'merge', body: { metadata: { resourceVersion: version }, spec: { holderIdentity: opts.identity, renewTime: micro(now()) } } });
      version = r.metadata.resourceVersion;
      lastRenewed = now();
    } catch (e) {
      // A retried renewal whose first try was applied (its answer lost) conflicts with itself: still ours.
      if (isConflict(e)) {
        const mine = await client.getObject(leaseRef).catch(() => undefined);
        if (mine && (mine as { spec?: LeaseSpec }).spec?.holderIdentity === opts.identity) {
          version = mine.metadata.resourceVersion;
          lastRenewed = now();
          return;
        }
      }
      // Taken by another run (conflict), or not renewed within the lease's duration: this run must stop.
      if (isConflict(e) || isNotFound(e) || now() - lastRenewed >= duration * 1000) {
        stopped = true;
        clearInterval(timer);
        lostController.abort(new Error(`lost the migration lock (Lease ${RUN_LOCK.namespace}/${RUN_LOCK.name}): ${e instanceof Error ? e.message : String(e)}`));
      }
    } finally {
      renewing = false;
    }
  };
  const timer = setInterval(() => void renew(), Math.max(1000, (duration * 1000) / 3));
  timer.unref();
  return {
    identity: opts.identity,
    tookOverFrom,
    tookOverBecause,
    lost: lostController.signal,
    async release() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      try {
        await client.patchObject(leaseRef, { type: 'merge', body: { metadata: { resourceVersion: version }, spec: { holderIdentity: null, renewTime: micro(now()) } } });
      } catch {
        // Already taken over, or gone: nothing of ours to release.
      }
    },
  };
}

/** Whether an identity names a process of this machine that no longer exists. */
export function localHolderGone(identity: string): boolean {
  const m = /@(\S+) pid (\d+)$/.exec(identity);
  if (!m || m[1] !== hostname() || Number(m[2]) === process.pid) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** metav1.MicroTime. */
function micro(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}
