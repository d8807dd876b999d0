import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/configSchema.js';
import type { ClusterSnapshot } from './clusterSnapshot.js';
import { nodePhase } from './nodePhase.js';
import { buildMigrationPlan, StepNotReadyError, UnknownNodesError, type ManifestInventory } from './planBuilder.js';

const config = ConfigSchema.parse({});
const L = config.labels;
const inventory: ManifestInventory = {
  probe: ['Namespace cni-migration-probe', 'DaemonSet cni-migration-probe/probe-a', 'DaemonSet cni-migration-probe/probe-b'],
  cilium: ['DaemonSet kube-system/cilium', 'DaemonSet kube-system/cilium-migrated'],
  multus: ['DaemonSet kube-system/kube-multus-canal', 'DaemonSet kube-system/kube-multus-cilium'],
};

function canalCluster(nodes = 3): ClusterSnapshot {
  return {
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `node-${i + 1}`, labels: {}, taints: [], unschedulable: false })),
    daemonSets: [{ namespace: 'kube-system', name: 'canal', nodeSelector: {}, rolledOut: true }],
  };
}

describe('migration planning', () => {
  it('plans the whole migration node by node on an untouched cluster', () => {
    const plan = buildMigrationPlan(canalCluster(), config, { steps: [0, 1, 2, 3, 4, 5] }, inventory);
    expect(plan.steps.map((s) => s.name)).toEqual(['preflight', 'prepare', 'roll', 'priority', 'migrate', 'clean-up']);
    for (const s of plan.steps.slice(2, 5)) expect(s.nodes).toEqual(['node-1', 'node-2', 'node-3']);
    const migrate = plan.steps[4]!.actions.filter((a) => a.kind !== 'checkConnectivity' && 'node' in a && a.node === 'node-2').map((a) => a.kind);
    expect(migrate).toEqual(['drain', 'taint', 'labelNode', 'waitAgentOnNode', 'deletePods', 'untaint', 'uncordon', 'labelNode']);
    expect(plan.steps[5]!.actions.map((a) => a.kind)).toContain('deleteObjects');
  });

  it("refuses a step whose predecessors are not ready, as the seed's runner does", () => {
    expect(() => buildMigrationPlan(canalCluster(), config, { steps: [2] }, inventory)).toThrow(StepNotReadyError);
    expect(() => buildMigrationPlan(canalCluster(), config, { steps: [2] }, inventory)).toThrow(/^step 0 not ready/);
  });

  it('resumes: nodes already past a step are skipped, and a finished step is a no-op', () => {
    const s = canalCluster();
    s.daemonSets.push(
      ...['probe-a', 'probe-b'].map((name) => ({ namespace: 'cni-migration-probe', name, nodeSelector: {}, rolledOut: true })),
      ...['cilium', 'cilium-migrated', 'kube-multus-canal', 'kube-multus-cilium'].map((name) => ({ namespace: 'kube-system', name, nodeSelector: {}, rolledOut: true })),
    );
    s.daemonSets[0]!.nodeSelector = { [L['canal-cilium']]: 'true' };
    for (const n of s.nodes) n.labels = { [L['canal-cilium']]: 'true', [L['cni-priority-canal']]: 'true' };
    s.nodes[0]!.labels[L.rolled] = 'true';
    const plan = buildMigrationPlan(s, config, { steps: [1, 2] }, inventory);
    expect(plan.steps[0]!.alreadyDone).toBe(true);
    expect(plan.steps[0]!.actions).toEqual([]);
    expect(plan.steps[1]!.skippedNodes).toEqual(['node-1']);
    expect(plan.steps[1]!.nodes).toEqual(['node-2', 'node-3']);
    expect(nodePhase(s.nodes[0]!, config)).toBe('rolled');
    expect(nodePhase(s.nodes[1]!, config)).toBe('prepared');
  });

  it('names unknown nodes', () => {
    expect(() => buildMigrationPlan(canalCluster(), config, { steps: [0, 1, 2], nodes: { 2: ['node-9'] } }, inventory)).toThrow(UnknownNodesError);
    expect(() => buildMigrationPlan(canalCluster(), config, { steps: [0, 1, 2], nodes: { 2: ['node-9'] } }, inventory)).toThrow('unknown node: node-9 (the cluster has node-1, node-2, node-3)');
  });
});
