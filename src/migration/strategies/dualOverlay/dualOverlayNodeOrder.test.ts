import { describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '../../clusterSnapshot.js';
import type { StrategyContext } from '../../strategy.js';
import { dualOverlayStrategy } from './dualOverlayStrategy.js';

const node = (name: string, movablePods: number, labels: Record<string, string> = {}): NodeSnapshot => ({ name, labels, taints: [], unschedulable: false, movablePods });
// The order depends on the nodes only.
const order = (step: number, nodes: NodeSnapshot[]) => dualOverlayStrategy.nodeOrder!(step, nodes, {} as StrategyContext);

describe('dual-overlay node order', () => {
  it('starts migrate with the node running the fewest movable pods, the rest by name, and says why', () => {
    const o = order(2, [node('a', 2), node('b', 0), node('c', 1)]);
    expect(o.nodes.map((n) => n.name)).toEqual(['b', 'a', 'c']);
    expect(o.note).toBe("b first and alone: it runs the fewest pods a drain moves (0), the only pods to roll twice; later nodes' pods land on switched nodes and roll once (--nodes sets another order)");
    // Ties keep the name order.
    expect(order(2, [node('a', 1), node('b', 1)]).nodes.map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('takes a node caught mid-switch first, and keeps the name order once a node is migrated', () => {
    const mid = order(2, [node('a', 0), node('b', 3, { 'io.cilium.migration/cilium-default': 'true' })]);
    expect(mid.nodes.map((n) => n.name)).toEqual(['b', 'a']);
    expect(mid.note).toContain('caught mid-switch');
    const later = order(2, [node('a', 5, { 'cni-migration.io/migrated': 'true' }), node('b', 4), node('c', 0)]);
    expect(later.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(later.note).toBeUndefined();
    expect(order(3, [node('a', 5), node('b', 0)]).nodes.map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('never starts with a control-plane node while a worker is left, and sends the first node alone', () => {
    const cp = node('cp', 0, { 'node-role.kubernetes.io/control-plane': '' });
    const o = order(2, [cp, node('w1', 3), node('w2', 2)]);
    expect(o.nodes.map((n) => n.name)).toEqual(['w2', 'cp', 'w1']);
    expect(o.alone).toBe(1);
    // Only control-plane nodes: the fewest pods still goes first.
    expect(order(2, [node('m1', 2, { 'node-role.kubernetes.io/master': '' }), node('m2', 1, { 'node-role.kubernetes.io/master': '' })]).nodes[0]!.name).toBe('m2');
  });

  it('counts the nodes already switched, which alone take drained pods (batches grow with them), on a fresh and a resumed run', () => {
    expect(order(2, [node('a', 2), node('b', 0)]).receivers).toBe(0);
    const migrated = { 'cni-migration.io/migrated': 'true' };
    expect(order(2, [node('a', 5, migrated), node('b', 4, migrated), node('c', 0)]).receivers).toBe(2);
    expect(order(2, [node('a', 5, migrated), node('b', 3, { 'io.cilium.migration/cilium-default': 'true' })]).receivers).toBe(1);
    // Other steps move no pods onto switched nodes only.
    expect(order(3, [node('a', 5, migrated)]).receivers).toBeUndefined();
  });
});

