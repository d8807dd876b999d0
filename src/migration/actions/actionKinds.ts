import { systemClock } from '../../ops/clock.js';
import type { ClusterSnapshot } from '../clusterSnapshot.js';
import { ConnectivityLostError } from '../connectivityGate.js';
import type { Action } from '../plan.js';
import { noPlannedEffect, type ActionKind, type ActionKinds, type ActionRuntime } from './actionKind.js';
import { createNodeConfigAction, deleteNodeConfigAction, verifyCiliumAction } from './ciliumActions.js';
import {
  deletePodsAction,
  drainAction,
  labelNodeAction,
  releaseNodeAction,
  restartAgentAction,
  runHookAction,
  runNodeScriptAction,
  taintAction,
  taintNodesAction,
  uncordonAction,
  untaintAction,
  verifyNodePodsAction,
  waitAgentOnNodeAction,
} from './nodeActions.js';
import { bridgePoliciesAction, removePolicyBridgeAction } from './policyBridgeActions.js';
import { applyManifestsAction, deleteObjectsAction, patchObjectAction, setNodeSelectorAction, verifyCalicoAddressesAction, waitRolloutsAction } from './objectActions.js';

/** A connectivity checkpoint: waits for every probe pair to be green, or stops the run. */
const checkConnectivityAction: ActionKind<Extract<Action, { kind: 'checkConnectivity' }>> = {
  describe: (a) => `check pod-to-pod connectivity (${a.when})`,
  plan: noPlannedEffect,
  async run(a, rt) {
    const verdict = await rt.gate.checkpoint(rt.signal);
    rt.events({ type: 'connectivity', step: rt.step, node: a.node, when: a.when, verdict, at: (rt.clock ?? systemClock).now() });
    if (!verdict.ok) throw new ConnectivityLostError(a.when, verdict.failures);
  },
};

/** Every action kind's handler; the mapped type makes a kind without one a compile error. */
export const ACTION_KINDS: ActionKinds = {
  applyManifests: applyManifestsAction,
  bridgePolicies: bridgePoliciesAction,
  removePolicyBridge: removePolicyBridgeAction,
  labelNode: labelNodeAction,
  setNodeSelector: setNodeSelectorAction,
  waitRollouts: waitRolloutsAction,
  waitAgentOnNode: waitAgentOnNodeAction,
  checkConnectivity: checkConnectivityAction,
  drain: drainAction,
  deletePods: deletePodsAction,
  uncordon: uncordonAction,
  taint: taintAction,
  untaint: untaintAction,
  taintNodes: taintNodesAction,
  releaseNode: releaseNodeAction,
  deleteObjects: deleteObjectsAction,
  verifyNodePods: verifyNodePodsAction,
  restartAgent: restartAgentAction,
  runNodeScript: runNodeScriptAction,
  patchObject: patchObjectAction,
  createNodeConfig: createNodeConfigAction,
  deleteNodeConfig: deleteNodeConfigAction,
  verifyCilium: verifyCiliumAction,
  runHook: runHookAction,
  verifyCalicoAddresses: verifyCalicoAddressesAction,
};

function kindOf<A extends Action>(a: A): ActionKind<A> {
  return ACTION_KINDS[a.kind] as unknown as ActionKind<A>;
}

/** One line describing an action. */
export function describeAction(a: Action): string {
  return kindOf(a).describe(a);
}

/** Applies an action's planned effect to a snapshot (in place). */
export function planAction(a: Action, s: ClusterSnapshot): void {
  kindOf(a).plan(a, s);
}

/** Executes an action. */
export function runAction(a: Action, rt: ActionRuntime): Promise<void> {
  return kindOf(a).run(a, rt);
}
