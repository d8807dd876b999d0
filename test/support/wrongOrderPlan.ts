import type { MigrationConfig } from '../../src/config/configSchema.js';
import type { MigrationPlan } from '../../src/migration/actions.js';

/**
 * The negative control's plan: step 4's actions for one node, run by the engine's own executor
 * while the other nodes' pods still have Flannel as their primary network (no priority swap).
 */
export function migrateTooEarlyPlan(config: MigrationConfig, node: string): MigrationPlan {
  const L = config.labels;
  return {
    steps: [
      {
        step: 4,
        name: 'migrate',
        alreadyDone: false,
        nodes: [node],
        skippedNodes: [],
        actions: [
          { kind: 'drain', node },
          { kind: 'taint', node, key: L.cilium, value: 'cilium', effect: 'NoExecute' },
          { kind: 'labelNode', node, labels: { [L['canal-cilium']]: null, [L.cilium]: L.value } },
          { kind: 'waitAgentOnNode', node, daemonSet: 'cilium-migrated' },
          { kind: 'deletePods', node },
          { kind: 'untaint', node, key: L.cilium, effect: 'NoExecute' },
          { kind: 'uncordon', node },
          { kind: 'checkConnectivity', node, when: `after migrating ${node} too early` },
        ],
      },
    ],
  };
}
