import type { KubeObject } from '../store/kubeObject.js';
import { kubeTime } from './kubeTime.js';
import { TaintKeys, type Taint } from './tolerations.js';

// nodeConditionToTaintKeyStatusMap of the node lifecycle controller.
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TaintKeys.notReady, Unknown: TaintKeys.unreachable },
  MemoryPressure: { True: TaintKeys.memoryPressure },
  DiskPressure: { True: TaintKeys.diskPressure },
  NetworkUnavailable: { True: TaintKeys.networkUnavailable },
  PIDPressure: { True: TaintKeys.pidPressure },
};

const MANAGED_KEYS = new Set<string>([TaintKeys.unschedulable, ...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m))]);

/** The NoSchedule taints a node's conditions and spec.unschedulable call for (doNoScheduleTaintingPass). */
export function desiredNoScheduleTaints(node: KubeObject): Taint[] {
  const out: Taint[] = [];
  for (const c of (node.status?.conditions ?? []) as { type: string; status: string }[]) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TaintKeys.unschedulable, effect: 'NoSchedule' });
  return out;
}

const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;

/**
 * The node's taints after the NoSchedule tainting pass: condition and unschedulable taints added
 * (with timeAdded) or removed to match, every other taint kept. Undefined when nothing changes.
 */
export function reconcileNoScheduleTaints(node: KubeObject, now = kubeTime()): Taint[] | undefined {
  const current = (node.spec?.taints ?? []) as Taint[];
  const managed = current.filter((t) => t.effect === 'NoSchedule' && MANAGED_KEYS.has(t.key));
  const desired = desiredNoScheduleTaints(node);
  const toAdd = desired.filter((d) => !managed.some((m) => same(m, d)));
  const toRemove = managed.filter((m) => !desired.some((d) => same(m, d)));
  if (toAdd.length === 0 && toRemove.length === 0) return undefined;
  return [...current.filter((t) => !toRemove.includes(t)), ...toAdd.map((t) => ({ ...t, timeAdded: now }))];
}
