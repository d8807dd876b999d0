import { describe, expect, it } from 'vitest';
import { nodeShouldRunDaemonPod, targetNodeOfPod } from './daemonSetPlacement.js';
import { scaledValue } from './intOrPercent.js';
import { nodeMatchesTerm, podFitsNodeAffinity } from './nodeAffinity.js';
import { reconcileNoScheduleTaints } from './nodeConditionTaints.js';
import { computeTemplateHash } from './templateHash.js';
import { findUntoleratedTaint, toleratesTaint } from './tolerations.js';
import { makeDaemonSet, makeNode } from './testing/clusterFixture.js';

describe('toleratesTaint', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  it.each([
    [{ key: 'k', operator: 'Equal', value: 'v' }, true],
    [{ key: 'k', value: 'v', effect: 'NoSchedule' }, true],
    [{ key: 'k', operator: 'Equal', value: 'w' }, false],
    [{ key: 'k', operator: 'Exists' }, true],
    [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ operator: 'Exists' }, true],
    [{ key: 'other', operator: 'Exists' }, false],
  ])('%j → %s', (toleration, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });

  it('finds the first untolerated taint passing the filter', () => {
    const taints = [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'NoSchedule' }];
    expect(findUntoleratedTaint(taints, [], (t) => t.effect !== 'PreferNoSchedule')).toEqual(taints[1]);
    expect(findUntoleratedTaint(taints, [{ key: 'b', operator: 'Exists' }], (t) => t.effect !== 'PreferNoSchedule')).toBeUndefined();
  });
});

describe('node affinity', () => {
  const node = makeNode('n1', { labels: { zone: 'a', cores: '8' } });
  it('evaluates expressions and metadata.name fields', () => {
    expect(nodeMatchesTerm(node, { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] })).toBe(true);
    expect(nodeMatchesTerm(node, { matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] })).toBe(false);
    expect(nodeMatchesTerm(node, { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }] })).toBe(true);
    expect(nodeMatchesTerm(node, {})).toBe(false);
  });
  it('ANDs nodeSelector with the required terms, which are ORed', () => {
    const spec = (nodeSelector: Record<string, string>) => ({
      nodeSelector,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }, { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }] } } },
    });
    expect(podFitsNodeAffinity(spec({ zone: 'a' }), node)).toBe(true);
    expect(podFitsNodeAffinity(spec({ zone: 'b' }), node)).toBe(false);
  });
});

describe('nodeShouldRunDaemonPod', () => {
  it('ignores cordons, is blocked by untolerated NoSchedule, and evicts on untolerated NoExecute', () => {
    const ds = makeDaemonSet('agent');
    expect(nodeShouldRunDaemonPod(ds, makeNode('n', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }))).toEqual({ shouldRun: true, shouldContinueRunning: true });
    expect(nodeShouldRunDaemonPod(ds, makeNode('n', { taints: [{ key: 'x', effect: 'NoSchedule' }] }))).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(nodeShouldRunDaemonPod(ds, makeNode('n', { taints: [{ key: 'x', effect: 'NoExecute' }] }))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeShouldRunDaemonPod(ds, makeNode('n', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] })).shouldRun).toBe(false);
    const hostNet = makeDaemonSet('agent', {}, { hostNetwork: true });
    expect(nodeShouldRunDaemonPod(hostNet, makeNode('n', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] })).shouldRun).toBe(true);
  });
  it('reads the target node of a pod from nodeName or its pinning affinity', () => {
    expect(targetNodeOfPod({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { nodeName: 'x' } })).toBe('x');
    const pinned = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['y'] }] }] } } } } };
    expect(targetNodeOfPod(pinned)).toBe('y');
  });
});

describe('reconcileNoScheduleTaints', () => {
  it('adds condition and cordon taints, removes stale ones, keeps foreign ones', () => {
    const node = makeNode('n', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'mine', effect: 'NoSchedule' }] });
    node.status.conditions.push({ type: 'DiskPressure', status: 'True' });
    const taints = reconcileNoScheduleTaints(node, '2030-01-01T00:00:00Z')!;
    expect(taints.map((t) => t.key)).toEqual(['mine', 'node.kubernetes.io/disk-pressure', 'node.kubernetes.io/unschedulable']);
    expect(taints[2]!.timeAdded).toBe('2030-01-01T00:00:00Z');
    expect(reconcileNoScheduleTaints({ ...node, spec: { unschedulable: true, taints } })).toBeUndefined();
  });
});

describe('small helpers', () => {
  it('scales ints and percents like intstr', () => {
    expect(scaledValue(2, 10, true)).toBe(2);
    expect(scaledValue('25%', 3, true)).toBe(1);
    expect(scaledValue('25%', 3, false)).toBe(0);
    expect(() => scaledValue('two', 3, false)).toThrow('string is not a percentage');
  });
  it('hashes templates stably, whatever the key order', () => {
    const a = computeTemplateHash({ spec: { x: 1, y: [1, 2] }, metadata: { labels: { a: 'b' } } });
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(computeTemplateHash({ metadata: { labels: { a: 'b' } }, spec: { y: [1, 2], x: 1 } })).toBe(a);
    expect(computeTemplateHash({ spec: { x: 2 } })).not.toBe(a);
    expect(computeTemplateHash({ spec: { x: 1, y: [1, 2] }, metadata: { labels: { a: 'b' } } }, 1)).not.toBe(a);
  });
});
