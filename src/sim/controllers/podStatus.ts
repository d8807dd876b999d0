import { memoizeFrozen } from '../store/frozenMemo.js';
import type { KubeObject } from '../store/kubeObject.js';
import { kubeTime, parseKubeTime } from './kubeTime.js';

/** v1.PodCondition as JSON. */
export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

/** The pod's condition of a type, if any. */
export function podCondition(pod: KubeObject, type: string): PodCondition | undefined {
  const conditions = (pod.status?.conditions ?? []) as PodCondition[];
  return conditions.find((c) => c.type === type);
}

/** podutil.IsPodReady: condition Ready is "True" (remembered per stored pod, see memoizeFrozen). */
export const isPodReady: (pod: KubeObject) => boolean = memoizeFrozen((pod) => podCondition(pod, 'Ready')?.status === 'True');

// When the Ready condition last changed, in ms (remembered per stored pod).
const readySinceMs = memoizeFrozen((pod: KubeObject) => parseKubeTime(podCondition(pod, 'Ready')?.lastTransitionTime));

/** podutil.IsPodAvailable: ready for at least minReadySeconds (Ready's lastTransitionTime). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = readySinceMs(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/** Milliseconds until a ready pod becomes available, or undefined when it is not ready or already available. */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): number | undefined {
  if (!minReadySeconds || !isPodReady(pod)) return undefined;
  const since = readySinceMs(pod) ?? nowMs;
  const wait = since + minReadySeconds * 1000 - nowMs;
  return wait > 0 ? wait : undefined;
}

/** Phase Succeeded or Failed. */
export function isPodTerminal(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** controller.IsPodActive: not terminal and not being deleted (remembered per stored pod). */
export const isPodActive: (pod: KubeObject) => boolean = memoizeFrozen((pod) => !isPodTerminal(pod) && !pod.metadata.deletionTimestamp);

/**
 * podutil.UpdatePodCondition on a status object: adds or replaces the condition, keeping
 * lastTransitionTime when the status did not change. Returns whether anything changed.
 */
export function setPodCondition(status: { conditions?: PodCondition[] }, condition: PodCondition, now = kubeTime()): boolean {
  const conditions = (status.conditions ??= []);
  const index = conditions.findIndex((c) => c.type === condition.type);
  const current = index >= 0 ? conditions[index] : undefined;
  const next: PodCondition = { ...condition, lastTransitionTime: current && current.status === condition.status ? current.lastTransitionTime : now };
  if (condition.lastProbeTime === undefined) next.lastProbeTime = null;
  if (current && current.status === next.status && current.reason === next.reason && current.message === next.message) return false;
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
  return true;
}
