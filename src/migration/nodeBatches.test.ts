import { describe, expect, it } from 'vitest';
import { batchOrder, budgetRule, planBatches, resolveMaxUnavailable, type BatchNode, type BatchRules } from './nodeBatches.js';

const ZONE = 'topology.kubernetes.io/zone';
const node = (name: string, zone?: string, extra: Partial<BatchNode> & { cp?: boolean } = {}): BatchNode => ({
  name,
  labels: { ...(zone ? { [ZONE]: zone } : {}), ...(extra.cp ? { 'node-role.kubernetes.io/control-plane': '' } : {}) },
  ...(extra.budgetPods ? { budgetPods: extra.budgetPods } : {}),
});
const rules = (r: Partial<BatchRules> = {}): BatchRules => ({ maxUnavailable: 1, zoneLabel: ZONE, canary: false, ...r });
const names = (nodes: BatchNode[], r: Partial<BatchRules>) => planBatches(nodes, rules(r)).map((b) => b.nodes);

describe('resolveMaxUnavailable', () => {
  it('takes a count or a percentage of the cluster, rounded down, at least one', () => {
    expect(resolveMaxUnavailable('3', 10)).toBe(3);
    expect(resolveMaxUnavailable(2, 10)).toBe(2);
    expect(resolveMaxUnavailable('5%', 1000)).toBe(50);
    expect(resolveMaxUnavailable('10%', 25)).toBe(2);
    expect(resolveMaxUnavailable('10%', 5)).toBe(1);
  });

  it('refuses what is not a count or a percentage, saying what is accepted', () => {
    expect(() => resolveMaxUnavailable('0', 10)).toThrow('maxUnavailable "0": use a whole number of nodes (1 or more) or a percentage such as 10%');
    expect(() => resolveMaxUnavailable('two', 10)).toThrow('use a whole number');
    expect(() => resolveMaxUnavailable('0%', 10)).toThrow('a percentage must be above 0% and at most 100%');
    expect(() => resolveMaxUnavailable('150%', 10)).toThrow('at most 100%');
  });
});

describe('planBatches', () => {
  it('goes one node at a time by default, in the given order', () => {
    expect(names([node('b'), node('a'), node('c')], {})).toEqual([['b'], ['a'], ['c']]);
  });

  it('fills batches up to maxUnavailable', () => {
    expect(names([node('n1'), node('n2'), node('n3'), node('n4'), node('n5')], { maxUnavailable: 2 })).toEqual([['n1', 'n2'], ['n3', 'n4'], ['n5']]);
  });

  it('takes one zone at a time, zones in the order they first appear, never mixing two in a batch', () => {
    const nodes = [node('a1', 'a'), node('b1', 'b'), node('a2', 'a'), node('b2', 'b'), node('a3', 'a'), node('x')];
    const batches = planBatches(nodes, rules({ maxUnavailable: 2 }));
    expect(batches.map((b) => [b.zone, b.nodes])).toEqual([
      ['a', ['a1', 'a2']],
      ['a', ['a3']],
      ['b', ['b1', 'b2']],
      ['', ['x']],
    ]);
  });

  it('puts control-plane nodes last, after every worker of every zone', () => {
    const nodes = [node('cp1', 'a', { cp: true }), node('w1', 'a'), node('cp2', 'b', { cp: true }), node('w2', 'b')];
    const batches = planBatches(nodes, rules({ maxUnavailable: 4 }));
    expect(batches.map((b) => [b.nodes, b.controlPlane])).toEqual([
      [['w1'], false],
      [['w2'], false],
      [['cp1'], true],
      [['cp2'], true],
    ]);
    // The older master label counts too.
    expect(batchOrder([{ name: 'm', labels: { 'node-role.kubernetes.io/master': '' } }, node('w')], ZONE).map((n) => n.name)).toEqual(['w', 'm']);
  });

  it('never puts two nodes whose drains compete for one PodDisruptionBudget in a batch, and says why', () => {
    const web = (n: number) => ({ budgetPods: { 'shop/web': n } });
    const nodes = [node('n1', undefined, web(1)), node('n2', undefined, web(1)), node('n3'), node('n4', undefined, web(1))];
    const batches = planBatches(nodes, rules({ maxUnavailable: 3, budgets: { 'shop/web': 1 } }));
    expect(batches.map((b) => b.nodes)).toEqual([['n1', 'n3'], ['n2'], ['n4']]);
    expect(batches[0]!.cut).toBe('n2 and n1 run 2 pods of PodDisruptionBudget shop/web, which allows 1 disruption now');
    // A budget with room for both lets them go together.
    expect(names(nodes, { maxUnavailable: 3, budgets: { 'shop/web': 3 } })).toEqual([['n1', 'n2', 'n3'], ['n4']]);
    // A budget that allows nothing now: every node with its pods goes alone.
    expect(names(nodes, { maxUnavailable: 4, budgets: { 'shop/web': 0 } })).toEqual([['n1', 'n3'], ['n2'], ['n4']]);
  });

  it('the budget rule alone: a node with no pods of a shared budget joins', () => {
    const batch = { nodes: [node('a', undefined, { budgetPods: { 'x/p': 1 } })], zone: '', controlPlane: false, limit: 5 };
    expect(budgetRule.judge(batch, node('b', undefined, { budgetPods: { 'y/q': 2 } }), rules({ budgets: { 'x/p': 1 } }))).toEqual({ join: true });
    expect(budgetRule.judge(batch, node('c', undefined, { budgetPods: { 'x/p': 1 } }), rules({ budgets: { 'x/p': 1 } }))).toMatchObject({ join: false, rule: 'budget' });
  });

  it('sends the canary alone, marked, then batches the rest', () => {
    const batches = planBatches([node('a'), node('b'), node('c'), node('d')], rules({ maxUnavailable: 2, canary: true }));
    expect(batches.map((b) => [b.nodes, b.canary])).toEqual([
      [['a'], true],
      [['b', 'c'], false],
      [['d'], false],
    ]);
  });

  it("sends a strategy's first nodes alone (dual-overlay's first switch)", () => {
    expect(names([node('a'), node('b'), node('c')], { maxUnavailable: 5, alone: 1 })).toEqual([['a'], ['b', 'c']]);
  });

  it('where only done nodes take drained pods, a batch never outnumbers the nodes done before it (1, 1, 2, 4, … up to the limit), and says why', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => node(`n${String(i + 1).padStart(2, '0')}`));
    expect(names(twenty, { maxUnavailable: 5, alone: 1, receivers: 0 }).map((b) => b.length)).toEqual([1, 1, 2, 4, 5, 5, 2]);
    const [, second] = planBatches(twenty, rules({ maxUnavailable: 5, alone: 1, receivers: 0 }));
    expect(second!.cut).toBe('1 node is done to take the pods its drains move (the others are tainted): batches grow as nodes are done');
    // A resumed run counts the nodes already done.
    expect(names(twenty.slice(0, 8), { maxUnavailable: 5, receivers: 3 }).map((b) => b.length)).toEqual([3, 5]);
    // Negative control: without receivers the limit alone cuts.
    expect(names(twenty, { maxUnavailable: 5, alone: 1 }).map((b) => b.length)).toEqual([1, 5, 5, 5, 4]);
  });

  it('keeps the order the user gave: a batch takes consecutive nodes and ends at the first refusal', () => {
    const nodes = [node('b1', 'b'), node('a1', 'a'), node('a2', 'a'), node('b2', 'b'), node('cp', 'b', { cp: true })];
    expect(names(nodes, { maxUnavailable: 3, keepOrder: true })).toEqual([['b1'], ['a1', 'a2'], ['b2'], ['cp']]);
  });
});
