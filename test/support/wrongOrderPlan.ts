import type { MigrationPlan } from '../../src/migration/plan.js';
import { daemonSetRef } from '../../src/migration/objectRefs.js';

/**
 * The negative control's plan: step 5's removal of the source agent, run by the engine's own
 * executor before any node is migrated, while every pod's primary IP is still the source's. With
 * Cilium running beside it, pods keep their Cilium interface; but the source's datapath goes on
 * every node, and with it every primary address.
 */
export function removeSourceTooEarlyPlan(source = daemonSetRef('kube-system', 'canal')): MigrationPlan {
  return {
    strategy: 'multus',
    steps: [
      {
        step: 5,
        name: 'clean-up',
        title: 'Clean up (too early: no node migrated)',
        alreadyDone: false,
        actions: [
          { kind: 'deleteObjects', objects: [source] },
          { kind: 'checkConnectivity', when: 'after removing the source CNI too early' },
        ],
        skippedNodes: [],
        nodes: [],
      },
    ],
  };
}
