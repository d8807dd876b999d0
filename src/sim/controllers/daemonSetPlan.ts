import type { KubeObject } from '../store/kubeObject.js';
import type { DaemonNodeVerdict } from './daemonSetPlacement.js';
import type { DaemonPodView } from './daemonSetPods.js';
import { scaledValue } from './intOrPercent.js';

/** A node and the DaemonSet's verdict on it. */
export interface DaemonNodeView extends DaemonNodeVerdict {
  name: string;
}

/** What to do next: create a daemon pod on these nodes, delete these pods. */
export interface DaemonPlan {
  createOn: string[];
  deletePods: string[];
}

/** podByCreationTimestampAndPhase: bound pods first, then the oldest, then by name. */
export function byCreation(a: DaemonPodView, b: DaemonPodView): number {
  if (a.bound !== b.bound) return a.bound ? -1 : 1;
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** How far a rolling update may go: util.SurgeCount / UnavailableCount, both rounding up. */
export interface RolloutLimits {
  maxSurge: number;
  maxUnavailable: number;
}

/** The rolling update limits for a number of nodes that should run the pod (0/0 becomes unavailable 1). */
export function rolloutLimits(ds: KubeObject, desired: number): RolloutLimits {
  const strategy = ds.spec?.updateStrategy ?? {};
  if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate') return { maxSurge: 0, maxUnavailable: 0 };
  const ru = strategy.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge ?? 0, desired, true);
  let maxUnavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true);
  if (desired > 0 && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** util.AllowsSurge: a RollingUpdate whose maxSurge is not zero. */
export function allowsSurge(ds: KubeObject): boolean {
  try {
    return rolloutLimits(ds, 1).maxSurge !== 0;
  } catch {
    return false;
  }
}

/**
 * The manage loop (podsShouldBeOnNode for every node): create where a pod should run and none
 * exists (a terminating one counts as existing); delete finished pods, extra pods and pods on nodes
 * they may no longer stay on; delete unbound pods aimed at nodes that do not exist.
 */
export function planDaemonPods(nodes: readonly DaemonNodeView[], nodeToPods: ReadonlyMap<string, DaemonPodView[]>, surge: boolean): DaemonPlan {
  const plan: DaemonPlan = { createOn: [], deletePods: [] };
  for (const node of nodes) planNode(plan, node, nodeToPods.get(node.name) ?? [], surge);
  const existing = new Set(nodes.map((n) => n.name));
  for (const [nodeName, pods] of nodeToPods) {
    if (existing.has(nodeName)) continue;
    for (const p of pods) if (!p.bound) plan.deletePods.push(p.name);
  }
  return plan;
}

function planNode(plan: DaemonPlan, node: DaemonNodeView, pods: DaemonPodView[], surge: boolean): void {
  if (node.shouldRun && pods.length === 0) {
    plan.createOn.push(node.name);
  } else if (node.shouldContinueRunning) {
    keepOnePod(plan, node, pods, surge);
  } else {
    for (const p of pods) if (!p.deleting) plan.deletePods.push(p.name);
  }
}

function keepOnePod(plan: DaemonPlan, node: DaemonNodeView, pods: DaemonPodView[], surge: boolean): void {
  const running: DaemonPodView[] = [];
  for (const p of pods) {
    if (p.deleting) continue;
    if (p.phase === 'Failed' || p.phase === 'Succeeded') plan.deletePods.push(p.name);
    else running.push(p);
  }
  running.sort(byCreation);
  if (!surge) {
    for (const p of running.slice(1)) plan.deletePods.push(p.name);
    return;
  }
  if (running.length <= 1) {
    if (running.length === 0 && node.shouldRun) plan.createOn.push(node.name);
    return;
  }
  // With surge, an old and a new pod may overlap until the new one is available.
  let oldestNew: DaemonPodView | undefined;
  let oldestOld: DaemonPodView | undefined;
  for (const p of running) {
    if (p.hashMatches && !oldestNew) oldestNew = p;
    else if (!p.hashMatches && !oldestOld) oldestOld = p;
    else plan.deletePods.push(p.name);
  }
  if (oldestNew && oldestOld && (!oldestOld.ready || oldestNew.available)) plan.deletePods.push(oldestOld.name);
}

interface RolloutNode {
  name: string;
  shouldRun: boolean;
  pods: DaemonPodView[];
}

/** findUpdatedPodsOnNode: the node's one new and one old pod, ignoring terminating ones; ok=false when doubled up. */
function splitPods(pods: readonly DaemonPodView[]): { newPod?: DaemonPodView; oldPod?: DaemonPodView; ok: boolean } {
  let newPod: DaemonPodView | undefined;
  let oldPod: DaemonPodView | undefined;
  for (const p of pods) {
    if (p.deleting) continue;
    if (p.updated) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { newPod, oldPod, ok: true };
}

/**
 * The rolling update step (daemon/update.go rollingUpdate). Without surge: delete old pods while the
 * number of unavailable nodes stays within maxUnavailable (old pods that are not available may
 * always go). With surge: start new pods beside old ones up to maxSurge, and delete an old pod once
 * the new one on its node is available. Nodes are visited in name order.
 */
export function planRollingUpdate(nodes: readonly DaemonNodeView[], nodeToPods: ReadonlyMap<string, DaemonPodView[]>, limits: RolloutLimits): DaemonPlan {
  const verdicts = new Map(nodes.map((n) => [n.name, n.shouldRun]));
  const names = new Set<string>(nodeToPods.keys());
  for (const n of nodes) if (n.shouldRun) names.add(n.name);
  const rollout: RolloutNode[] = [...names].sort().map((name) => ({ name, shouldRun: verdicts.get(name) ?? false, pods: nodeToPods.get(name) ?? [] }));
  const desired = nodes.filter((n) => n.shouldRun).length;
  return limits.maxSurge === 0 ? planWithoutSurge(rollout, limits.maxUnavailable) : planWithSurge(rollout, limits.maxSurge, desired);
}

function planWithoutSurge(nodes: RolloutNode[], maxUnavailable: number): DaemonPlan {
  let numUnavailable = 0;
  const replacements: string[] = [];
  const candidates: string[] = [];
  for (const node of nodes) {
    const { newPod, oldPod, ok } = splitPods(node.pods);
    if (!ok || (!oldPod && !newPod) || (oldPod && newPod)) {
      numUnavailable++;
    } else if (newPod) {
      if (!newPod.available) numUnavailable++;
    } else if (oldPod && !oldPod.available) {
      replacements.push(oldPod.name);
    } else if (oldPod && numUnavailable < maxUnavailable) {
      candidates.push(oldPod.name);
    }
  }
  const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
  return { createOn: [], deletePods: [...replacements, ...candidates.slice(0, remaining)] };
}

function planWithSurge(nodes: RolloutNode[], maxSurge: number, desired: number): DaemonPlan {
  const deletePods: string[] = [];
  const shouldNotRun: string[] = [];
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const node of nodes) {
    const { newPod, oldPod, ok } = splitPods(node.pods);
    if (!ok) {
      numSurge++;
      continue;
    }
    if ((oldPod ?? newPod)?.available) numAvailable++;
    if (!oldPod) continue;
    if (newPod) {
      if (newPod.available) deletePods.push(oldPod.name);
      else numSurge++;
    } else if (!oldPod.available) {
      if (node.shouldRun) allowedNew.push(node.name);
      else deletePods.push(oldPod.name);
    } else if (!node.shouldRun) {
      shouldNotRun.push(oldPod.name);
    } else if (numSurge < maxSurge) {
      candidateNew.push(node.name);
    }
  }
  // Pods on nodes the DaemonSet left go only once as many pods are available elsewhere.
  const deletable = Math.min(Math.max(numAvailable - desired, 0), shouldNotRun.length);
  deletePods.push(...shouldNotRun.slice(0, deletable));
  const remaining = Math.min(Math.max(maxSurge - numSurge, 0), candidateNew.length);
  return { createOn: [...allowedNew, ...candidateNew.slice(0, remaining)], deletePods };
}

/** DaemonSet status counts, as updateDaemonSetStatus computes them (the oldest pod of a node speaks for it). */
export interface DaemonSetCounts {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  numberUnavailable: number;
  updatedNumberScheduled: number;
}

/** Counts for DaemonSet status from the node verdicts and the pods on each node. */
export function countDaemonSetStatus(nodes: readonly DaemonNodeView[], nodeToPods: ReadonlyMap<string, DaemonPodView[]>): DaemonSetCounts {
  const c: DaemonSetCounts = { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, updatedNumberScheduled: 0 };
  for (const node of nodes) {
    const pods = [...(nodeToPods.get(node.name) ?? [])].sort(byCreation);
    const pod = pods[0];
    if (!node.shouldRun) {
      if (pod) c.numberMisscheduled++;
      continue;
    }
    c.desiredNumberScheduled++;
    if (!pod) continue;
    c.currentNumberScheduled++;
    if (pod.ready) c.numberReady++;
    if (pod.available) c.numberAvailable++;
    if (pod.updated) c.updatedNumberScheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}
