import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { NODE_NAME_FIELD, podFitsNodeAffinity, type NodeSelectorTerm } from './nodeAffinity.js';
import { blocksScheduling, findUntoleratedTaint, TaintKeys, tolerationsTolerateTaint, type Taint, type Toleration } from './tolerations.js';

/** kube-scheduler's filter failure reasons (v1.32 wording). */
export const FilterReasons = {
  unschedulable: 'node(s) were unschedulable',
  nodeName: "node(s) didn't match the requested node name",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  untoleratedTaint: (t: Taint) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
  tooManyPods: 'Too many pods',
} as const;

/** The pods a node takes: status.allocatable.pods (kubelet's maxPods, 110 by default). */
export function allocatablePods(node: KubeObject): number {
  const v = Number(node.status?.allocatable?.pods ?? node.status?.capacity?.pods ?? 110);
  return Number.isFinite(v) && v > 0 ? v : 110;
}

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
export function fitErrorMessage(totalNodes: number, reasons: ReadonlyMap<string, number>, full = 0): string {
  const histogram = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  const filters = histogram.length ? ` ${histogram.join(', ')}.` : '';
  // Full nodes are where preemption could help, were there lower-priority pods to evict (the simulator has none).
  const preemption = [full ? `${full} No preemption victims found for incoming pod` : '', totalNodes - full || !full ? `${totalNodes - full} Preemption is not helpful for scheduling` : ''].filter(Boolean).sort();
  return `0/${totalNodes} nodes are available:${filters} preemption: 0/${totalNodes} nodes are available: ${preemption.join(', ')}.`;
}

/** The outcome of scheduling one pod. */
export type ScheduleResult = { node: string } | { message: string };

/** Pods bound to each node, in total and per owning controller, for scoring. */
export class PodLoad {
  private readonly total = new Map<string, number>();
  /** Owner uid → node → pods of that owner on the node. */
  private readonly owned = new Map<string, Map<string, number>>();

  /** Load from pods already bound (finished pods do not count). */
  static of(pods: Iterable<KubeObject>): PodLoad {
    const load = new PodLoad();
    for (const p of pods) load.count(p, 1);
    return load;
  }

  /** Counts a pod placed on a node. */
  add(node: string, pod: KubeObject): void {
    this.change(node, ownerUid(pod), 1);
  }

  /**
   * Keeps the counts in step with a pod watch event: the pod's old placement goes out and its new
   * one comes in, so a scheduling pass never recounts every pod in the cluster.
   */
  track(ev: WatchEvent): void {
    if (ev.type === 'DELETED') return this.count(ev.object, -1);
    if (ev.oldObject) this.count(ev.oldObject, -1);
    this.count(ev.object, 1);
  }

  /** Lower is better: pods of the same controller on the node first (default spreading), then all pods. */
  score(node: string, pod: KubeObject): [number, number] {
    return [this.ownedOn(ownerUid(pod)).get(node) ?? 0, this.podsOn(node)];
  }

  /** Pods bound to a node. */
  podsOn(node: string): number {
    return this.total.get(node) ?? 0;
  }

  /** Pods of one owner per node (empty for no owner). */
  ownedOn(owner: string | undefined): ReadonlyMap<string, number> {
    return (owner && this.owned.get(owner)) || NO_PODS;
  }

  /** Adds (+1) or takes out (-1) a pod's share: bound, unfinished pods count. */
  private count(p: KubeObject, delta: 1 | -1): void {
    const node = p.spec?.nodeName as string | undefined;
    const phase = p.status?.phase;
    if (node && phase !== 'Succeeded' && phase !== 'Failed') this.change(node, ownerUid(p), delta);
  }

  private change(node: string, owner: string | undefined, delta: number): void {
    bump(this.total, node, delta);
    if (!owner) return;
    let perNode = this.owned.get(owner);
    if (!perNode) this.owned.set(owner, (perNode = new Map()));
    bump(perNode, node, delta);
    if (perNode.size === 0) this.owned.delete(owner);
  }
}

const NO_PODS: ReadonlyMap<string, number> = new Map();

// Entries at zero are dropped: nodes and owners come and go over a long run.
function bump(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

function ownerUid(pod: KubeObject): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

/** A node a pod may go to, with its PreferNoSchedule penalty (see intolerablePreferNoSchedule). */
interface FeasibleNode {
  name: string;
  penalty: number;
  maxPods: number;
}

/** The filters' outcome for one placement: the nodes that pass, or the fit error. */
type Feasibility = { nodes: FeasibleNode[] } | { message: string };

/**
 * The filter verdicts of one scheduling pass, computed once per distinct placement (tolerations,
 * node selector, node affinity, node name): the pods of one workload share theirs, so thousands of
 * pending pods cost a few filter runs over the nodes instead of one each.
 */
export class FeasibleNodes {
  private readonly byPlacement = new Map<string, Feasibility>();
  private byName: Map<string, KubeObject> | undefined;

  constructor(private readonly nodes: readonly KubeObject[]) {}

  /** The nodes that pass the filters for a pod, in the given node order, or why none does. */
  of(pod: KubeObject): Feasibility {
    const key = placementKey(pod);
    let found = this.byPlacement.get(key);
    if (!found) this.byPlacement.set(key, (found = this.filter(pod)));
    return found;
  }

  private filter(pod: KubeObject): Feasibility {
    if (this.nodes.length === 0) return { message: NO_NODES_MESSAGE };
    // A pod pinned to named nodes (every DaemonSet pod) can only go there: the other nodes are
    // looked at only to word the fit error when none of those fits.
    const pinned = pinnedNodeNames(pod);
    if (pinned) {
      const candidates = [...pinned].map((name) => this.node(name)).filter((n): n is KubeObject => n !== undefined);
      const found = this.fits(pod, sortedByName(candidates), new Map());
      if (found.length) return { nodes: found };
    }
    const reasons = new Map<string, number>();
    const found = this.fits(pod, this.nodes, reasons);
    return found.length ? { nodes: found } : { message: fitErrorMessage(this.nodes.length, reasons) };
  }

  private fits(pod: KubeObject, nodes: readonly KubeObject[], reasons: Map<string, number>): FeasibleNode[] {
    const out: FeasibleNode[] = [];
    for (const node of nodes) {
      const reason = filterNode(pod, node);
      if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      else out.push({ name: node.metadata.name ?? '', penalty: intolerablePreferNoSchedule(pod, node), maxPods: allocatablePods(node) });
    }
    return out;
  }

  /** Why no node takes the pod when the nodes that pass the filters are all full: their reasons plus NodeResourcesFit's. */
  fullMessage(pod: KubeObject, full: number): string {
    const reasons = new Map<string, number>();
    this.fits(pod, this.nodes, reasons);
    reasons.set(FilterReasons.tooManyPods, full);
    return fitErrorMessage(this.nodes.length, reasons, full);
  }

  private node(name: string): KubeObject | undefined {
    this.byName ??= new Map(this.nodes.map((n) => [n.metadata.name ?? '', n]));
    return this.byName.get(name);
  }
}

/**
 * The only nodes a pod's required node affinity can match, when every term pins names
 * (matchFields metadata.name In [...], as the DaemonSet controller pins its pods); undefined otherwise.
 */
function pinnedNodeNames(pod: KubeObject): Set<string> | undefined {
  const terms = (pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) as NodeSelectorTerm[];
  if (terms.length === 0) return undefined;
  const names = new Set<string>();
  for (const term of terms) {
    const pin = (term.matchFields ?? []).find((f) => f.key === NODE_NAME_FIELD && f.operator === 'In');
    if (!pin) return undefined;
    for (const name of pin.values ?? []) names.add(name);
  }
  return names;
}

function sortedByName(nodes: KubeObject[]): KubeObject[] {
  return nodes.sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

// Everything filterNode and intolerablePreferNoSchedule read from the pod.
function placementKey(pod: KubeObject): string {
  const spec = pod.spec ?? {};
  return JSON.stringify([spec.nodeName ?? '', spec.tolerations ?? [], spec.nodeSelector ?? {}, spec.affinity?.nodeAffinity ?? {}]);
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
 * error explaining why none fits. A scheduling pass shares one FeasibleNodes over its pods.
 */
export function schedulePod(pod: KubeObject, nodes: readonly KubeObject[], load: PodLoad, feasible = new FeasibleNodes(nodes)): ScheduleResult {
  const found = feasible.of(pod);
  if ('message' in found) return found;
  const owned = load.ownedOn(ownerUid(pod));
  // Two records reused across the nodes: this loop runs for every pending pod times every node.
  const candidate: Candidate = { name: '', penalty: 0, owned: 0, pods: 0 };
  let best: Candidate | undefined;
  let full = 0;
  for (const node of found.nodes) {
    // NodeResourcesFit: a node holding its allocatable pods takes no more.
    if (load.podsOn(node.name) >= node.maxPods) {
      full++;
      continue;
    }
    candidate.name = node.name;
    candidate.penalty = node.penalty;
    candidate.owned = owned.get(node.name) ?? 0;
    candidate.pods = load.podsOn(node.name);
    if (!best) best = { ...candidate };
    else if (better(candidate, best)) Object.assign(best, candidate);
  }
  return best ? { node: best.name } : { message: feasible.fullMessage(pod, full) };
}

/** A feasible node's score, compared field by field in this order (lower wins), then by name. */
interface Candidate {
  name: string;
  penalty: number;
  owned: number;
  pods: number;
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.penalty !== b.penalty) return a.penalty < b.penalty;
  if (a.owned !== b.owned) return a.owned < b.owned;
  if (a.pods !== b.pods) return a.pods < b.pods;
  return a.name < b.name;
}
