import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound, NoKindMatchError } from '../kube/kubeErrors.js';
import { objectKey, type ObjectRef, type Pod } from '../kube/kubeTypes.js';
import { matchesLabelSelector } from '../ops/labelSelector.js';
import { daemonSetRolloutStatus } from '../ops/rollout.js';
import { sameRef } from './objectRefs.js';

/** A node as the planner sees it. */
export interface NodeSnapshot {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  unschedulable: boolean;
  /** Pods a drain would move (controller-managed, not DaemonSet, mirror or finished), when the query asked. */
  movablePods?: number | undefined;
  /** Pods a drain would evict, per PodDisruptionBudget covering them ("namespace/name"), when the query asked. */
  budgetPods?: Record<string, number> | undefined;
}

/** A DaemonSet as the planner sees it (absent ones are not listed). */
export interface DaemonSetSnapshot {
  namespace: string;
  name: string;
  nodeSelector: Record<string, string>;
  /** kubectl rollout status says done. */
  rolledOut: boolean;
}

/** What the planner needs to know about the cluster: nodes, the strategy's DaemonSets and other objects. */
export interface ClusterSnapshot {
  nodes: NodeSnapshot[];
  daemonSets: DaemonSetSnapshot[];
  /** Which of the other objects the strategy asked about exist. */
  objects: ObjectRef[];
  /** Data of the ConfigMaps the strategy asked about, by "namespace/name" (absent ones left out). */
  configMaps?: Record<string, Record<string, string>> | undefined;
  /** Disruptions each PodDisruptionBudget allows now ("namespace/name" → status.disruptionsAllowed), when the query asked. */
  budgets?: Record<string, number> | undefined;
}

/** What a strategy wants read besides the nodes. */
export interface SnapshotQuery {
  daemonSets: ObjectRef[];
  objects?: ObjectRef[] | undefined;
  configMaps?: { namespace: string; name: string }[] | undefined;
  /** Count each node's movable pods (NodeSnapshot.movablePods). */
  movablePods?: boolean | undefined;
  /** Read PodDisruptionBudgets and which nodes run their pods (NodeSnapshot.budgetPods, ClusterSnapshot.budgets). */
  budgets?: boolean | undefined;
}

/** The DaemonSet of a snapshot, if present. */
export function daemonSetIn(s: ClusterSnapshot, ref: { namespace?: string | undefined; name: string }): DaemonSetSnapshot | undefined {
  return s.daemonSets.find((d) => d.namespace === (ref.namespace ?? '') && d.name === ref.name);
}

/** Whether an object of the query exists in the snapshot. */
export function objectIn(s: ClusterSnapshot, ref: ObjectRef): boolean {
  return s.objects.some((o) => sameRef(o, ref));
}

/** Reads the nodes (sorted by name, numerically) and what the query names. */
export async function readClusterSnapshot(client: ClusterClient, query: SnapshotQuery): Promise<ClusterSnapshot> {
  const nodes = (await client.listNodes()).map((n): NodeSnapshot => ({
    name: n.metadata.name ?? '',
    labels: { ...(n.metadata.labels ?? {}) },
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect })),
    unschedulable: n.spec?.unschedulable === true,
  }));
  nodes.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  let budgets: Record<string, number> | undefined;
  if (query.movablePods || query.budgets) {
    const movable = (await client.listPods({})).filter(isMovable);
    if (query.movablePods) {
      const counts = new Map<string, number>();
      for (const p of movable) counts.set(p.spec!.nodeName!, (counts.get(p.spec!.nodeName!) ?? 0) + 1);
      for (const n of nodes) n.movablePods = counts.get(n.name) ?? 0;
    }
    if (query.budgets) {
      const pdbs = await client.listPodDisruptionBudgets();
      budgets = Object.fromEntries(pdbs.map((b) => [objectKey(b), b.status?.disruptionsAllowed ?? 0]));
      const byNode = new Map(nodes.map((n) => [n.name, n]));
      for (const p of movable) {
        const n = byNode.get(p.spec!.nodeName!);
        if (!n) continue;
        for (const b of pdbs) {
          if (b.metadata.namespace !== p.metadata.namespace || !matchesLabelSelector(b.spec?.selector, p.metadata.labels)) continue;
          const key = objectKey(b);
          n.budgetPods = { ...n.budgetPods, [key]: (n.budgetPods?.[key] ?? 0) + 1 };
        }
      }
    }
  }
  const daemonSets: DaemonSetSnapshot[] = [];
  for (const ref of query.daemonSets) {
    try {
      const ds = await client.getWorkload('DaemonSet', ref.namespace ?? '', ref.name);
      const template = ds.spec?.template as { spec?: { nodeSelector?: Record<string, string> } } | undefined;
      daemonSets.push({ namespace: ref.namespace ?? '', name: ref.name, nodeSelector: { ...(template?.spec?.nodeSelector ?? {}) }, rolledOut: daemonSetRolloutStatus(ds).done });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  const objects: ObjectRef[] = [];
  for (const ref of query.objects ?? []) {
    try {
      await client.getObject(ref);
      objects.push(ref);
    } catch (e) {
      // Not found, or its kind not served (a CRD not installed yet): either way absent.
      if (!isNotFound(e) && !(e instanceof NoKindMatchError)) throw e;
    }
  }
  const configMaps: Record<string, Record<string, string>> = {};
  for (const ref of query.configMaps ?? []) {
    try {
      const cm = await client.getObject({ apiVersion: 'v1', kind: 'ConfigMap', ...ref });
      configMaps[`${ref.namespace}/${ref.name}`] = { ...((cm as { data?: Record<string, string> }).data ?? {}) };
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return { nodes, daemonSets, objects, configMaps, ...(budgets ? { budgets } : {}) };
}

/** A pod a drain would move: on a node, controller-managed, not a DaemonSet's, mirror or finished one. */
function isMovable(p: Pod): boolean {
  const owner = p.metadata.ownerReferences?.find((o) => o.controller);
  const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  return !!p.spec?.nodeName && !!owner && owner.kind !== 'DaemonSet' && owner.kind !== 'Node' && !finished && !p.metadata.annotations?.['kubernetes.io/config.mirror'];
}
