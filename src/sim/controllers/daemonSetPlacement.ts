import type { KubeObject } from '../store/kubeObject.js';
import { NODE_NAME_FIELD, podFitsNodeAffinity, type NodeSelectorTerm, type PlacementSpec } from './nodeAffinity.js';
import { blocksScheduling, findUntoleratedTaint, TaintKeys, type Taint, type Toleration } from './tolerations.js';

/** Where a DaemonSet wants to be, for one node (NodeShouldRunDaemonPod). */
export interface DaemonNodeVerdict {
  /** A daemon pod should be created here if none runs. */
  shouldRun: boolean;
  /** A daemon pod already here may stay (it tolerates every NoExecute taint). */
  shouldContinueRunning: boolean;
}

function sameToleration(a: Toleration, b: Toleration): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.operator ?? '') === (b.operator ?? '') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');
}

/**
 * util.AddOrUpdateDaemonPodTolerations: the template's tolerations plus the ones every DaemonSet pod
 * gets (not-ready/unreachable NoExecute, pressure and unschedulable NoSchedule, and
 * network-unavailable NoSchedule for hostNetwork pods), all with operator Exists.
 */
export function daemonPodTolerations(spec: { tolerations?: Toleration[]; hostNetwork?: boolean } | undefined): Toleration[] {
  const defaults: Toleration[] = [
    { key: TaintKeys.notReady, operator: 'Exists', effect: 'NoExecute' },
    { key: TaintKeys.unreachable, operator: 'Exists', effect: 'NoExecute' },
    { key: TaintKeys.diskPressure, operator: 'Exists', effect: 'NoSchedule' },
    { key: TaintKeys.memoryPressure, operator: 'Exists', effect: 'NoSchedule' },
    { key: TaintKeys.pidPressure, operator: 'Exists', effect: 'NoSchedule' },
    { key: TaintKeys.unschedulable, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec?.hostNetwork) defaults.push({ key: TaintKeys.networkUnavailable, operator: 'Exists', effect: 'NoSchedule' });
  const out = [...(spec?.tolerations ?? [])];
  for (const d of defaults) {
    const i = out.findIndex((t) => sameToleration(t, d));
    if (i >= 0) out[i] = d;
    else out.push(d);
  }
  return out;
}

/**
 * NodeShouldRunDaemonPod: the template's nodeName, nodeSelector and required node affinity must
 * match; NoSchedule and NoExecute taints block new pods unless tolerated (with the default
 * DaemonSet tolerations); a pod already there may stay while it tolerates every NoExecute taint.
 * node.spec.unschedulable is not checked (DaemonSet pods tolerate the unschedulable taint).
 */
export function nodeShouldRunDaemonPod(ds: KubeObject, node: KubeObject): DaemonNodeVerdict {
  const spec = (ds.spec?.template?.spec ?? {}) as PlacementSpec & { hostNetwork?: boolean };
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!podFitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonPodTolerations(spec);
  const taints = (node.spec?.taints ?? []) as Taint[];
  if (!findUntoleratedTaint(taints, tolerations, blocksScheduling)) return { shouldRun: true, shouldContinueRunning: true };
  const noExecute = findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute');
  return { shouldRun: false, shouldContinueRunning: !noExecute };
}

/**
 * util.GetTargetNodeName: spec.nodeName, or for a pod not yet bound the node its required affinity
 * pins it to (matchFields metadata.name In [node]).
 */
export function targetNodeOfPod(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName as string;
  const terms = (pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) as NodeSelectorTerm[];
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === NODE_NAME_FIELD && f.operator === 'In') return f.values?.length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}

/**
 * util.ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes a single term
 * matchFields metadata.name In [node] (the controller already checked the others); preferred terms stay.
 */
export function pinToNode(affinity: Record<string, unknown> | undefined, nodeName: string): Record<string, unknown> {
  const term: NodeSelectorTerm = { matchFields: [{ key: NODE_NAME_FIELD, operator: 'In', values: [nodeName] }] };
  const out = structuredClone(affinity ?? {});
  const nodeAffinity = (out.nodeAffinity ?? {}) as Record<string, unknown>;
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [term] };
  out.nodeAffinity = nodeAffinity;
  return out;
}
