import type { StepId } from './steps.js';

/** One thing the executor does to the cluster, as plain data (what `plan` and dry runs print). */
export type Action =
  | { kind: 'applyManifests'; bundle: 'probe' | 'cilium' | 'multus'; objects: string[] }
  | { kind: 'labelNode'; node: string; labels: Record<string, string | null> }
  | { kind: 'pinCanal'; daemonSet: string; selector: Record<string, string> }
  | { kind: 'waitRollouts'; resources: string[] }
  | { kind: 'waitAgentOnNode'; node: string; daemonSet: string }
  | { kind: 'checkConnectivity'; node?: string; when: string }
  | { kind: 'drain'; node: string }
  | { kind: 'deletePods'; node: string }
  | { kind: 'uncordon'; node: string }
  | { kind: 'taint'; node: string; key: string; value: string; effect: 'NoExecute' }
  | { kind: 'untaint'; node: string; key: string; effect: 'NoExecute' }
  | { kind: 'unpinDaemonSet'; daemonSet: string; labelKey: string }
  | { kind: 'deleteObjects'; objects: string[] };

/** The actions of one step; per-node steps list each node's actions in order. */
export interface StepPlan {
  step: StepId;
  name: string;
  /** Nothing to do: the step reports ready already. */
  alreadyDone: boolean;
  actions: Action[];
  /** Nodes this step touches, in order (per-node steps). */
  nodes: string[];
  /** Nodes skipped because they are already past this step. */
  skippedNodes: string[];
}

/** The whole plan: every selected step, each planned on the state the earlier ones leave. */
export interface MigrationPlan {
  steps: StepPlan[];
}

function labels(l: Record<string, string | null>): string {
  return Object.entries(l)
    .map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`))
    .join(' ');
}

/** One line describing an action, kubectl-style where there is an equivalent. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'applyManifests':
      return `apply ${a.bundle} manifests (${a.objects.length} objects: ${a.objects.slice(0, 4).join(', ')}${a.objects.length > 4 ? ', …' : ''})`;
    case 'labelNode':
      return `label node ${a.node} ${labels(a.labels)}`;
    case 'pinCanal':
      return `set nodeSelector ${labels(a.selector)} on daemonset kube-system/${a.daemonSet}`;
    case 'waitRollouts':
      return `wait for rollout of ${a.resources.join(', ')}`;
    case 'waitAgentOnNode':
      return `wait until daemonset ${a.daemonSet} runs Ready on ${a.node}`;
    case 'checkConnectivity':
      return `check pod-to-pod connectivity (${a.when})`;
    case 'drain':
      return `drain ${a.node} (cordon, evict through the eviction API honouring PodDisruptionBudgets)`;
    case 'deletePods':
      return `delete the remaining pod-network pods on ${a.node} and wait until they are gone`;
    case 'uncordon':
      return `uncordon ${a.node}`;
    case 'taint':
      return `taint node ${a.node} ${a.key}=${a.value}:${a.effect}`;
    case 'untaint':
      return `remove taint ${a.key}:${a.effect} from ${a.node}`;
    case 'unpinDaemonSet':
      return `remove nodeSelector ${a.labelKey} from daemonset kube-system/${a.daemonSet}`;
    case 'deleteObjects':
      return `delete ${a.objects.join(', ')}`;
  }
}

/** The node an action concerns, if any. */
export function actionNode(a: Action): string | undefined {
  return 'node' in a ? a.node : undefined;
}
