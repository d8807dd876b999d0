import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { MigrationConfig } from '../config/configSchema.js';

/** A node as the planner sees it. */
export interface NodeSnapshot {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  unschedulable: boolean;
}

/** A DaemonSet as the planner sees it (absent ones are not listed). */
export interface DaemonSetSnapshot {
  namespace: string;
  name: string;
  nodeSelector: Record<string, string>;
  /** kubectl rollout status says done. */
  rolledOut: boolean;
}

/** What the planner needs to know about the cluster: nodes and the DaemonSets the migration touches. */
export interface ClusterSnapshot {
  nodes: NodeSnapshot[];
  daemonSets: DaemonSetSnapshot[];
}

/** The DaemonSets the migration creates, changes or deletes (namespace/name). */
export function migrationDaemonSets(config: MigrationConfig): { namespace: string; name: string }[] {
  const ks = (name: string) => ({ namespace: 'kube-system', name });
  return [
    ks(config.cni.canalDaemonSet),
    ks('cilium'),
    ks('cilium-migrated'),
    ks('kube-multus-canal'),
    ks('kube-multus-cilium'),
    ...config.connectivity.daemonSets.map((name) => ({ namespace: config.connectivity.namespace, name })),
  ];
}

/** Reads the nodes and the migration's DaemonSets. */
export async function readClusterSnapshot(client: ClusterClient, config: MigrationConfig): Promise<ClusterSnapshot> {
  const nodes = (await client.listNodes()).map((n) => ({
    name: n.metadata.name ?? '',
    labels: { ...(n.metadata.labels ?? {}) },
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect })),
    unschedulable: n.spec?.unschedulable === true,
  }));
  nodes.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const daemonSets: DaemonSetSnapshot[] = [];
  for (const ref of migrationDaemonSets(config)) {
    try {
      const ds = await client.getWorkload('DaemonSet', ref.namespace, ref.name);
      const s = ds.status ?? {};
      const rolledOut = (ds.metadata.generation ?? 0) <= (s.observedGeneration ?? 0) && (s.updatedNumberScheduled ?? 0) >= (s.desiredNumberScheduled ?? 0) && (s.numberAvailable ?? 0) >= (s.desiredNumberScheduled ?? 0);
      const template = ds.spec?.template as { spec?: { nodeSelector?: Record<string, string> } } | undefined;
      daemonSets.push({ ...ref, nodeSelector: { ...(template?.spec?.nodeSelector ?? {}) }, rolledOut });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return { nodes, daemonSets };
}
