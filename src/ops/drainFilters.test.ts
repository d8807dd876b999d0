import { describe, expect, it } from 'vitest';
import {
  classifyPod,
  daemonSetFilter,
  DRAIN_FILTERS,
  localStorageFilter,
  mirrorPodFilter,
  planDrain,
  skipDeletedFilter,
  unreplicatedFilter,
  type DaemonSetLookup,
  type FilterContext,
} from './drainFilters.js';
import { makePod } from './testing/builders.js';

const NOW = Date.parse('2025-01-01T00:10:00Z');

function ctx(options: Partial<FilterContext['options']> = {}, ds: DaemonSetLookup = 'exists'): FilterContext {
  return {
    options: { ignoreDaemonSets: false, deleteEmptyDirData: false, force: false, skipWaitForDeleteTimeoutSeconds: 0, ...options },
    now: NOW,
    daemonSet: () => ds,
  };
}

const rsOwner = { kind: 'ReplicaSet', name: 'web-123' };
const dsOwner = { kind: 'DaemonSet', name: 'canal' };

describe('drain filters (kubectl pkg/drain/filters.go)', () => {
  it('run in kubectl order', () => {
    expect(DRAIN_FILTERS.map((f) => f.name)).toEqual(['skipDeleted', 'daemonSet', 'mirrorPod', 'localStorage', 'unreplicated']);
  });

  it('skipDeleted skips pods terminating longer than the skip timeout, only when it is set', () => {
    const old = makePod('a', { owner: rsOwner, deletionTimestamp: '2025-01-01T00:00:00Z' });
    expect(skipDeletedFilter.filter(old, ctx({ skipWaitForDeleteTimeoutSeconds: 60 }))).toEqual({ verdict: 'skip' });
    expect(skipDeletedFilter.filter(old, ctx({ skipWaitForDeleteTimeoutSeconds: 0 }))).toEqual({ verdict: 'delete' });
    expect(skipDeletedFilter.filter(old, ctx({ skipWaitForDeleteTimeoutSeconds: 3600 }))).toEqual({ verdict: 'delete' });
  });

  it('daemonSet refuses without --ignore-daemonsets and skips with a warning with it', () => {
    const pod = makePod('canal-x', { owner: dsOwner });
    expect(daemonSetFilter.filter(pod, ctx())).toEqual({ verdict: 'error', error: 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)' });
    expect(daemonSetFilter.filter(pod, ctx({ ignoreDaemonSets: true }))).toEqual({ verdict: 'skip', warning: 'ignoring DaemonSet-managed Pods' });
  });

  it('daemonSet deletes finished pods and orphans with --force, and reports a lookup error', () => {
    expect(daemonSetFilter.filter(makePod('a', { owner: dsOwner, phase: 'Succeeded' }), ctx())).toEqual({ verdict: 'delete' });
    const orphan = makePod('b', { owner: dsOwner });
    expect(daemonSetFilter.filter(orphan, ctx({ force: true }, 'notFound'))).toEqual({ verdict: 'deleteWithWarning', warning: 'daemonsets.apps "canal" not found' });
    expect(daemonSetFilter.filter(orphan, ctx({}, 'notFound'))).toEqual({ verdict: 'error', error: 'daemonsets.apps "canal" not found' });
    expect(daemonSetFilter.filter(orphan, ctx({ force: true }, { error: 'forbidden' }))).toEqual({ verdict: 'error', error: 'forbidden' });
  });

  it('mirrorPod skips static pods silently', () => {
    const pod = makePod('etcd-n1', { annotations: { 'kubernetes.io/config.mirror': 'abc' } });
    expect(mirrorPodFilter.filter(pod, ctx())).toEqual({ verdict: 'skip' });
  });

  it('localStorage refuses emptyDir pods unless --delete-emptydir-data, and lets finished pods go', () => {
    const pod = makePod('cache', { owner: rsOwner, emptyDir: true });
    expect(localStorageFilter.filter(pod, ctx())).toEqual({ verdict: 'error', error: 'Pods with local storage (use --delete-emptydir-data to override)' });
    expect(localStorageFilter.filter(pod, ctx({ deleteEmptyDirData: true }))).toEqual({ verdict: 'deleteWithWarning', warning: 'deleting Pods with local storage' });
    expect(localStorageFilter.filter(makePod('done', { emptyDir: true, phase: 'Failed' }), ctx())).toEqual({ verdict: 'delete' });
  });

  it('unreplicated refuses pods without a controller unless --force', () => {
    const pod = makePod('bare');
    expect(unreplicatedFilter.filter(pod, ctx())).toEqual({ verdict: 'error', error: 'Pods declare no controller (use --force to override)' });
    expect(unreplicatedFilter.filter(pod, ctx({ force: true }))).toEqual({ verdict: 'deleteWithWarning', warning: 'deleting Pods that declare no controller' });
    expect(unreplicatedFilter.filter(makePod('job', { phase: 'Succeeded' }), ctx())).toEqual({ verdict: 'delete' });
  });

  it('the first non-delete verdict decides: a mirror pod without controller is skipped, not refused', () => {
    const mirror = makePod('kube-apiserver-n1', { annotations: { 'kubernetes.io/config.mirror': 'x' } });
    expect(classifyPod(mirror, ctx())).toMatchObject({ verdict: { verdict: 'skip' }, decidedBy: 'mirrorPod' });
  });

  it('keeps every warning on the way (kubectl keeps only the last)', () => {
    const pod = makePod('bare-cache', { emptyDir: true });
    const c = classifyPod(pod, ctx({ force: true, deleteEmptyDirData: true }));
    expect(c.verdict.verdict).toBe('deleteWithWarning');
    expect(c.warnings).toEqual(['deleting Pods with local storage', 'deleting Pods that declare no controller']);
  });

  it('planDrain groups refusals by message with every pod named, as kubectl prints them', () => {
    const pods = [
      makePod('web-1', { namespace: 'demo', owner: rsOwner }),
      makePod('bare-1', { namespace: 'demo' }),
      makePod('bare-2', { namespace: 'ops' }),
      makePod('cache', { namespace: 'demo', owner: rsOwner, emptyDir: true }),
      makePod('canal-x', { namespace: 'kube-system', owner: dsOwner }),
    ];
    const plan = planDrain(pods, ctx());
    expect(plan.errors).toEqual([
      'cannot delete Pods declare no controller (use --force to override): demo/bare-1, ops/bare-2',
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): demo/cache',
      'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/canal-x',
    ]);
    expect(plan.toEvict.map((p) => p.metadata.name)).toEqual(['web-1']);
  });

  it('planDrain with the override flags evicts everything but DaemonSet and mirror pods', () => {
    const pods = [
      makePod('web-1', { owner: rsOwner }),
      makePod('bare', {}),
      makePod('cache', { owner: rsOwner, emptyDir: true }),
      makePod('canal-x', { owner: dsOwner }),
      makePod('static', { annotations: { 'kubernetes.io/config.mirror': 'x' } }),
    ];
    const plan = planDrain(pods, ctx({ ignoreDaemonSets: true, deleteEmptyDirData: true, force: true }));
    expect(plan.errors).toEqual([]);
    expect(plan.toEvict.map((p) => p.metadata.name)).toEqual(['web-1', 'bare', 'cache']);
    expect(plan.skipped.map((p) => p.metadata.name)).toEqual(['canal-x', 'static']);
    expect([...plan.warnings.keys()]).toEqual(['deleting Pods that declare no controller', 'deleting Pods with local storage', 'ignoring DaemonSet-managed Pods']);
  });
});
