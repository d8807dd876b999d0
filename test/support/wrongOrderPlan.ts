import type { MigrationConfig } from '../../src/config/configSchema.js';
import type { MigrationPlan } from '../../src/migration/plan.js';
import { MULTUS_AGENTS } from '../../src/migration/strategies/multus/multusStrategy.js';

/**
 * The negative control's plan: step 4's actions for one node, run by the engine's own executor
 * while the other nodes' pods still have the source as their primary network (no priority swap).
 */
export function migrateTooEarlyPlan(config: MigrationConfig, node: string): MigrationPlan {
  const L = config.labels;
  return {
    strategy: 'multus',
    steps: [
      {
        step: 4,
        name: 'migrate',
        title: 'Migrate (too early: no priority swap)',
        alreadyDone: false,
        actions: [],
        skippedNodes: [],
        nodes: [
          {
            node,
            actions: [
              { kind: 'drain', node },
              { kind: 'taint', node, taint: { key: L.cilium, value: 'cilium', effect: 'NoExecute' } },
              { kind: 'labelNode', node, labels: { [L['canal-cilium']]: null, [L.cilium]: L.value } },
              { kind: 'waitAgentOnNode', node, daemonSet: MULTUS_AGENTS.ciliumMigrated },
              { kind: 'deletePods', node },
              { kind: 'untaint', node, key: L.cilium, effect: 'NoExecute' },
              { kind: 'uncordon', node },
              { kind: 'checkConnectivity', node, when: `after migrating ${node} too early` },
            ],
          },
        ],
      },
    ],
  };
}
