import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/configSchema.js';
import { seedCanalSource } from '../source/testing/sourceFixtures.js';
import { describeAction } from './actions/actionKinds.js';
import type { ClusterSnapshot } from './clusterSnapshot.js';
import { daemonSetRef } from './objectRefs.js';
import { buildMigrationPlan, StepNotReadyError, UnknownNodesError } from './planBuilder.js';
import { multusStrategy as M } from './strategies/multus/multusStrategy.js';
import type { StrategyContext } from './strategy.js';

const config = ConfigSchema.parse({});
const L = config.labels;
const ctx = (source = seedCanalSource()): StrategyContext => ({
  config,
  source,
  facts: { nodes: [] },
  bundles: {
    probe: [{ apiVersion: 'v1', kind: 'Namespace', name: 'cni-migration-probe' }, daemonSetRef('cni-migration-probe', 'probe-a'), daemonSetRef('cni-migration-probe', 'probe-b')],
    cilium: [daemonSetRef('kube-system', 'cilium'), daemonSetRef('kube-system', 'cilium-migrated')],
    multus: [daemonSetRef('kube-system', 'kube-multus-canal'), daemonSetRef('kube-system', 'kube-multus-cilium')],
  },
});

function cluster(nodes = 3, source = { namespace: 'kube-system', name: 'canal' }): ClusterSnapshot {
  return {
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `node-${i + 1}`, labels: {}, taints: [], unschedulable: false })),
    daemonSets: [{ ...source, nodeSelector: {}, rolledOut: true }],
    objects: [],
  };
}

describe('migration planning (multus strategy)', () => {
  it('plans the whole migration node by node on an untouched cluster, each node verified before it counts', () => {
    const plan = buildMigrationPlan(M, cluster(), ctx(), { steps: [0, 1, 2, 3, 4, 5] });
    expect(plan.strategy).toBe('multus');
    expect(plan.steps.map((s) => s.name)).toEqual(['preflight', 'prepare', 'roll', 'priority', 'migrate', 'clean-up']);
    for (const s of plan.steps.slice(2, 5)) expect(s.nodes.map((n) => n.node)).toEqual(['node-1', 'node-2', 'node-3']);
    const migrate = plan.steps[4]!.nodes[1]!.actions.filter((a) => a.kind !== 'checkConnectivity').map((a) => a.kind);
    expect(migrate).toEqual(['drain', 'taint', 'labelNode', 'waitAgentOnNode', 'deletePods', 'waitRollouts', 'untaint', 'uncordon', 'verifyNodePods', 'labelNode']);
    const roll = plan.steps[2]!.nodes[0]!.actions.map((a) => a.kind);
    // The node is labelled rolled only after its pods were read back.
    expect(roll.indexOf('verifyNodePods')).toBeLessThan(roll.lastIndexOf('labelNode'));
    expect(plan.steps[5]!.actions.map((a) => a.kind)).toContain('deleteObjects');
  });

  it('verifies what each step promises, with the networks of the discovered source', () => {
    const plan = buildMigrationPlan(M, cluster(), ctx(), { steps: [0, 1, 2, 3, 4] });
    const verify = (step: number) => describeAction(plan.steps[step]!.nodes[0]!.actions.find((a) => a.kind === 'verifyNodePods')!);
    expect(verify(2)).toBe('verify every pod-network pod on node-1 has an interface on both k8s-pod-network and cilium');
    expect(verify(3)).toBe('verify every pod-network pod on node-1 has its primary IP on cilium (172.29.0.0/16) and an extra interface on cbr0');
    expect(verify(4)).toBe('verify every pod-network pod on node-1 has its IP on cilium (172.29.0.0/16) and no other network');
    const calico = seedCanalSource({ kind: 'calico', daemonSet: { namespace: 'kube-system', name: 'calico-node' } });
    const p2 = buildMigrationPlan(M, cluster(3, { namespace: 'kube-system', name: 'calico-node' }), ctx(calico), { steps: [0, 1, 2, 3] });
    expect(describeAction(p2.steps[3]!.nodes[0]!.actions.find((a) => a.kind === 'verifyNodePods')!)).toContain('an extra interface on k8s-pod-network');
  });

  it('pins the discovered source agent, and an operator install through its Installation', () => {
    const flannel = seedCanalSource({ kind: 'flannel', daemonSet: { namespace: 'kube-flannel', name: 'kube-flannel-ds' } });
    const p = buildMigrationPlan(M, cluster(3, { namespace: 'kube-flannel', name: 'kube-flannel-ds' }), ctx(flannel), { steps: [0, 1] });
    expect(p.steps[1]!.actions.map(describeAction)).toContain(`set nodeSelector ${L['canal-cilium']}=true on daemonset kube-flannel/kube-flannel-ds`);
    const operator = seedCanalSource({ kind: 'calico', install: 'operator', installation: { name: 'default' }, daemonSet: { namespace: 'calico-system', name: 'calico-node' } });
    const q = buildMigrationPlan(M, cluster(3, { namespace: 'calico-system', name: 'calico-node' }), ctx(operator), { steps: [0, 1, 2, 3, 4, 5] });
    expect(q.steps[1]!.actions.map(describeAction)).toContain(
      `set nodeSelector ${L['canal-cilium']}=true for daemonset calico-system/calico-node through Installation default (spec.calicoNodeDaemonSet; the operator reverts direct edits)`,
    );
    expect(describeAction(q.steps[5]!.actions.find((a) => a.kind === 'deleteObjects')!)).toContain('Installation default');
  });

  it("refuses a step whose predecessors are not ready, as the seed's runner does", () => {
    expect(() => buildMigrationPlan(M, cluster(), ctx(), { steps: [2] })).toThrow(StepNotReadyError);
    expect(() => buildMigrationPlan(M, cluster(), ctx(), { steps: [2] })).toThrow(/^step 0 not ready \(preflight: probe DaemonSets not deployed/);
  });

  it('resumes: nodes already past a step are skipped, and a finished step is a no-op', () => {
    const s = cluster();
    s.daemonSets.push(
      ...['probe-a', 'probe-b'].map((name) => ({ namespace: 'cni-migration-probe', name, nodeSelector: {}, rolledOut: true })),
      ...['cilium', 'cilium-migrated', 'kube-multus-canal', 'kube-multus-cilium'].map((name) => ({ namespace: 'kube-system', name, nodeSelector: {}, rolledOut: true })),
    );
    s.daemonSets[0]!.nodeSelector = { [L['canal-cilium']]: 'true' };
    for (const n of s.nodes) n.labels = { [L['canal-cilium']]: 'true', [L['cni-priority-canal']]: 'true' };
    s.nodes[0]!.labels[L.rolled] = 'true';
    const plan = buildMigrationPlan(M, s, ctx(), { steps: [1, 2] });
    expect(plan.steps[0]!.alreadyDone).toBe(true);
    expect(plan.steps[0]!.actions).toEqual([]);
    expect(plan.steps[1]!.skippedNodes).toEqual(['node-1']);
    expect(plan.steps[1]!.nodes.map((n) => n.node)).toEqual(['node-2', 'node-3']);
    expect(M.nodePhase(s.nodes[0]!, ctx())).toBe('rolled');
    expect(M.nodePhase(s.nodes[1]!, ctx())).toBe('prepared');
    expect(M.nodePhase(cluster().nodes[0]!, ctx())).toBe('canal');
  });

  it('resumes a clean-up cut after the source was deleted: earlier steps count as done, the rest of the clean-up is planned', () => {
    const s = cluster();
    s.daemonSets = [
      ...['probe-a', 'probe-b'].map((name) => ({ namespace: 'cni-migration-probe', name, nodeSelector: {}, rolledOut: true })),
      ...['cilium', 'cilium-migrated'].map((name) => ({ namespace: 'kube-system', name, nodeSelector: {}, rolledOut: true })),
    ];
    for (const n of s.nodes) n.labels = { [L.cilium]: 'true', [L.migrated]: 'true' };
    const plan = buildMigrationPlan(M, s, ctx(), { steps: [0, 1, 2, 3, 4, 5] });
    expect(plan.steps.slice(1, 5).map((st) => st.alreadyDone)).toEqual([true, true, true, true]);
    expect(plan.steps[1]!.actions).toEqual([]);
    const cleanUp = plan.steps[5]!.actions.map(describeAction).join('\n');
    expect(cleanUp).toContain('DaemonSet kube-system/canal, DaemonSet kube-system/cilium\n');
    // Negative control: one node not yet migrated, and step 1 again wants the pin it made.
    s.nodes[2]!.labels = { [L['canal-cilium']]: 'true', [L['cni-priority-canal']]: 'true' };
    expect(M.readiness(1, s, ctx()).ready).toBe(false);
  });

  it('names unknown nodes', () => {
    expect(() => buildMigrationPlan(M, cluster(), ctx(), { steps: [0, 1, 2], nodes: { 2: ['node-9'] } })).toThrow(UnknownNodesError);
    expect(() => buildMigrationPlan(M, cluster(), ctx(), { steps: [0, 1, 2], nodes: { 2: ['node-9'] } })).toThrow('unknown node: node-9 (the cluster has node-1, node-2, node-3)');
  });

  it('plans batches: zones one at a time, control-plane nodes last, drains sharing a budget apart, the rest in the order planned', () => {
    const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
    const snapshot: ClusterSnapshot = {
      ...cluster(0),
      nodes: [
        { name: 'cp', labels: { ...zone('a'), 'node-role.kubernetes.io/control-plane': '' }, taints: [], unschedulable: false },
        { name: 'a1', labels: zone('a'), taints: [], unschedulable: false, budgetPods: { 'shop/web': 1 } },
        { name: 'a2', labels: zone('a'), taints: [], unschedulable: false, budgetPods: { 'shop/web': 1 } },
        { name: 'a3', labels: zone('a'), taints: [], unschedulable: false },
        { name: 'b1', labels: zone('b'), taints: [], unschedulable: false },
      ],
      budgets: { 'shop/web': 1 },
    };
    const batched = { ...config, batches: { ...config.batches, maxUnavailable: '60%' } };
    const plan = buildMigrationPlan(M, snapshot, { ...ctx(), config: batched }, { steps: [0, 1, 2, 3, 4] });
    // 60% of 5 nodes: 3 at once.
    for (const step of [2, 4]) {
      const s = plan.steps[step]!;
      expect(s.batchLimit).toBe(3);
      expect(s.batches!.map((b) => b.nodes)).toEqual([['a1', 'a3'], ['a2'], ['b1'], ['cp']]);
      expect(s.nodes.map((n) => n.node)).toEqual(['a1', 'a3', 'a2', 'b1', 'cp']);
      expect(s.batches![0]!.cut).toBe('a2 and a1 run 2 pods of PodDisruptionBudget shop/web, which allows 1 disruption now');
    }
    // Step 3 drains too (its roll), so the budget rule holds there as well; a step without drains ignores budgets.
    expect(plan.steps[3]!.batches!.map((b) => b.nodes)).toEqual([['a1', 'a3'], ['a2'], ['b1'], ['cp']]);
    // One at a time (the default): each node alone, still workers first.
    const single = buildMigrationPlan(M, snapshot, ctx(), { steps: [0, 1, 2] }).steps[2]!;
    expect(single.batches!.map((b) => b.nodes)).toEqual([['a1'], ['a2'], ['a3'], ['b1'], ['cp']]);
    // Nodes the user names keep their order.
    const named = buildMigrationPlan(M, snapshot, { ...ctx(), config: batched }, { steps: [0, 1, 2], nodes: { 2: ['cp', 'a3', 'b1'] } }).steps[2]!;
    expect(named.batches!.map((b) => b.nodes)).toEqual([['cp'], ['a3'], ['b1']]);
  });
});
