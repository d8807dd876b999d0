import type { WorkloadPatch } from '../kube/clusterClient.js';
import type { ObjectRef, Taint } from '../kube/kubeTypes.js';
import type { NodeBatch } from './nodeBatches.js';
import type { NetworkExpectation } from './podNetworkChecks.js';

// A migration plan as plain data: what `plan` prints, what a dry run shows and exactly what `run`
// executes. Each action kind's description, planned effect and execution live together in
// src/migration/actions/ (one registry, checked complete by the compiler).

/** One thing the executor does to the cluster. */
export type Action =
  | { kind: 'applyManifests'; bundle: string; objects: ObjectRef[] }
  | { kind: 'labelNode'; node: string; labels: Record<string, string | null> }
  /**
   * Sets (value) or removes (null) nodeSelector entries of a DaemonSet's pod template; through
   * `via` (a Tigera Installation) when an operator owns the DaemonSet and would revert a direct edit.
   */
  | { kind: 'setNodeSelector'; daemonSet: ObjectRef; selector: Record<string, string | null>; via?: ObjectRef | undefined }
  | { kind: 'waitRollouts'; resources: ObjectRef[] }
  | { kind: 'waitAgentOnNode'; node: string; daemonSet: ObjectRef }
  | { kind: 'checkConnectivity'; node?: string | undefined; when: string }
  | { kind: 'drain'; node: string }
  | { kind: 'deletePods'; node: string }
  | { kind: 'uncordon'; node: string }
  | { kind: 'taint'; node: string; taint: Taint }
  | { kind: 'untaint'; node: string; key: string; effect: Taint['effect'] }
  /** One taint on many nodes, read with one list (a step-wide action: a GET per node is a request budget spent for nothing). */
  | { kind: 'taintNodes'; nodes: string[]; taint: Taint }
  /** The end of a node's step in one write: a taint removed, the cordon lifted, the step's labels set. */
  | { kind: 'releaseNode'; node: string; untaint: { key: string; effect: Taint['effect'] }; labels: Record<string, string | null> }
  | { kind: 'deleteObjects'; objects: ObjectRef[] }
  /** Reads back what the node's step promised about its pods; stops naming the pods that lack it. */
  | { kind: 'verifyNodePods'; node: string; expect: NetworkExpectation; promise: string }
  /** Deletes a DaemonSet's pod on a node and waits for its replacement to be Ready (an agent re-reading its config). */
  | { kind: 'restartAgent'; node: string; daemonSet: ObjectRef }
  /** Runs a one-shot privileged pod on a node with the CNI directory mounted at /host/etc/cni/net.d. */
  | { kind: 'runNodeScript'; node: string; purpose: string; script: string; image: string; confDir: string }
  /** A patch with a purpose (a setting of an installed CNI). */
  | { kind: 'patchObject'; target: ObjectRef; patch: WorkloadPatch; what: string }
  /** Creates the CiliumNodeConfig of Cilium's migration guide, in the API version the server serves. */
  | { kind: 'createNodeConfig'; namespace: string; name: string }
  /** Deletes the CiliumNodeConfig (whichever version is served). */
  | { kind: 'deleteNodeConfig'; namespace: string; name: string }
  /** Checks an installed Cilium: every agent Ready, each node's CiliumNode range inside the pool, the config in the phase's shape. */
  /** policyBridged: the run's policy bridge turns enable-policy to default before nodes switch, so latent accepts it. */
  | { kind: 'verifyCilium'; daemonSet: ObjectRef; phase: 'latent' | 'final'; pool: string[]; policyBridged?: boolean }
  /** Runs the user's command with NODE=<name> (a reboot hook), then waits for the node to be Ready. */
  | { kind: 'runHook'; node: string; command: string }
  /** Waits until every node's Calico address (projectcalico.org/IPv4Address) is its InternalIP. */
  | { kind: 'verifyCalicoAddresses' }
  /** Dual-overlay from a policy-enforcing source: the NetworkPolicy bridge and Cilium's enforcement (see policyBridgeActions). */
  | { kind: 'bridgePolicies'; ciliumNamespace: string; pool: string[] }
  | { kind: 'removePolicyBridge' };

/** An action kind's name. */
export type ActionKindName = Action['kind'];

/** The actions of one node in a per-node step. */
export interface NodePlan {
  node: string;
  actions: Action[];
  /** Run when one of `actions` fails (and rollback is on): they put the node back on the source CNI. */
  rollback?: Action[] | undefined;
}

/** The actions of one step: step-wide ones, then (per-node steps) each node's in order. */
export interface StepPlan {
  step: number;
  name: string;
  title: string;
  /** Nothing to do: the step reports ready already. */
  alreadyDone: boolean;
  /** Step-wide actions (all of a step that is not per node). */
  actions: Action[];
  /** Per-node steps: each node's actions, in order. */
  nodes: NodePlan[];
  /** Nodes skipped because they are already past this step. */
  skippedNodes: string[];
  /** Why the nodes go in this order, when it is not the user's or by name. */
  orderNote?: string | undefined;
  /** Per-node steps: which nodes go at once, in order (each of `nodes` in one); absent means one at a time. */
  batches?: NodeBatch[] | undefined;
  /** Nodes at most in one batch (--max-unavailable resolved for this cluster). */
  batchLimit?: number | undefined;
}

/** The whole plan: every selected step, each planned on the state the earlier ones leave. */
export interface MigrationPlan {
  strategy: string;
  steps: StepPlan[];
}

/** The node an action concerns, if any. */
export function actionNode(a: Action): string | undefined {
  return 'node' in a ? a.node : undefined;
}

/** Every action of a step in execution order. */
export function stepActions(s: StepPlan): Action[] {
  return [...s.actions, ...s.nodes.flatMap((n) => n.actions)];
}
