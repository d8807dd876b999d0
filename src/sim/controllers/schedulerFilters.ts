import type { KubeObject } from '../store/kubeObject.js';
import { podFitsNodeAffinity } from './nodeAffinity.js';
import { blocksScheduling, findUntoleratedTaint, TaintKeys, tolerationsTolerateTaint, type Taint, type Toleration } from './tolerations.js';

/** kube-scheduler's filter failure reasons (v1.32 wording). */
export const FilterReasons = {
  unschedulable: 'node(s) were unschedulable',
  nodeName: "node(s) didn't match the requested node name",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  untoleratedTaint: (t: Taint) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
} as const;

/** The scheduler's message when the cluster has no nodes at all. */
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/**
 * A node's taints plus the NoSchedule taint the node lifecycle controller keeps for a node that is
 * not Ready (not-ready for False or no condition yet, unreachable for Unknown), so a node is never
 * picked in the moment before that taint lands.
 */
export function effectiveTaints(node: KubeObject): Taint[] {
  const taints = [...((node.spec?.taints ?? []) as Taint[])];
  const ready = ((node.status?.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === 'Ready')?.status;
  if (ready === 'True') return taints;
  const key = ready === 'Unknown' ? TaintKeys.unreachable : TaintKeys.notReady;
  if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  return taints;
}

/**
 * Runs the filter plugins in kube-scheduler's order (NodeUnschedulable, NodeName, TaintToleration,
 * NodeAffinity) and returns the first failure reason, or undefined when the pod fits the node.
 */
export function filterNode(pod: KubeObject, node: KubeObject): string | undefined {
  const tolerations = (pod.spec?.tolerations ?? []) as Toleration[];
  if (node.spec?.unschedulable && !tolerationsTolerateTaint(tolerations, { key: TaintKeys.unschedulable, effect: 'NoSchedule' })) {
    return FilterReasons.unschedulable;
  }
  if (pod.spec?.nodeName && pod.spec.nodeName !== node.metadata.name) return FilterReasons.nodeName;
  const taint = findUntoleratedTaint(effectiveTaints(node), tolerations, blocksScheduling);
  if (taint) return FilterReasons.untoleratedTaint(taint);
  if (!podFitsNodeAffinity(pod.spec, node)) return FilterReasons.nodeAffinity;
  return undefined;
}

/**
 * FitError.Error() plus the DefaultPreemption post-filter message, as in a pod's PodScheduled
 * condition: "0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are
 * available: 3 Preemption is not helpful for scheduling." (every filter here is unresolvable).
 */
export function fitErrorMessage(totalNodes: number, reasons: ReadonlyMap<string, number>): string {
  const histogram = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  const filters = histogram.length ? ` ${histogram.join(', ')}.` : '';
  return `0/${totalNodes} nodes are available:${filters} preemption: 0/${totalNodes} nodes are available: ${totalNodes} Preemption is not helpful for scheduling.`;
}

/** The outcome of scheduling one pod. */
export type ScheduleResult = { node: string } | { message: string };

/** Pods bound to each node, in total and per owning controller, for scoring. */
export class PodLoad {
  private readonly total = new Map<string, number>();
  private readonly owned = new Map<string, number>();

  /** Load from pods already bound (finished pods do not count). */
  static of(pods: Iterable<KubeObject>): PodLoad {
    const load = new PodLoad();
    for (const p of pods) {
      const node = p.spec?.nodeName as string | undefined;
      const phase = p.status?.phase;
      if (node && phase !== 'Succeeded' && phase !== 'Failed') load.add(node, p);
    }
    return load;
  }

  /** Counts a pod placed on a node. */
  add(node: string, pod: KubeObject): void {
    this.total.set(node, (this.total.get(node) ?? 0) + 1);
    const owner = ownerUid(pod);
    if (owner) this.owned.set(`${node}|${owner}`, (this.owned.get(`${node}|${owner}`) ?? 0) + 1);
  }

  /** Lower is better: pods of the same controller on the node first (default spreading), then all pods. */
  score(node: string, pod: KubeObject): [number, number] {
    const owner = ownerUid(pod);
    return [owner ? (this.owned.get(`${node}|${owner}`) ?? 0) : 0, this.total.get(node) ?? 0];
  }
}

function ownerUid(pod: KubeObject): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

/**
 * TaintToleration's score: PreferNoSchedule taints the pod does not tolerate (fewer is better).
 * kube-scheduler weighs it 3 against spreading's 2, so a tainted node loses unless spreading is
 * badly skewed; here it simply comes first.
 */
export function intolerablePreferNoSchedule(pod: KubeObject, node: KubeObject): number {
  const tolerations = (pod.spec?.tolerations ?? []) as Toleration[];
  return ((node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, t)).length;
}

/**
 * Picks a node for a pod: among the nodes that pass the filters, the one with the fewest
 * PreferNoSchedule taints it does not tolerate, then the fewest pods of the pod's own controller
 * (as the default topology spreading does), then the fewest pods, then the first name; or the fit
 * error explaining why none fits.
 */
export function schedulePod(pod: KubeObject, nodes: readonly KubeObject[], load: PodLoad): ScheduleResult {
  if (nodes.length === 0) return { message: NO_NODES_MESSAGE };
  const reasons = new Map<string, number>();
  let best: { name: string; score: number[] } | undefined;
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    const reason = filterNode(pod, node);
    if (reason) {
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    const score = [intolerablePreferNoSchedule(pod, node), ...load.score(name, pod)];
    if (!best || lexicallyBetter(score, name, best)) best = { name, score };
  }
  return best ? { node: best.name } : { message: fitErrorMessage(nodes.length, reasons) };
}

function lexicallyBetter(score: readonly number[], name: string, best: { name: string; score: readonly number[] }): boolean {
  for (const [i, v] of score.entries()) {
    const b = best.score[i]!;
    if (v !== b) return v < b;
  }
  return name < best.name;
}
