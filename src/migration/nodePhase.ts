import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterSnapshot, NodeSnapshot } from './clusterSnapshot.js';
import type { StepId } from './steps.js';

/** Where a node stands, read from its labels (the migration's only state). */
export type NodePhase = 'canal' | 'prepared' | 'rolled' | 'priority-swapping' | 'cilium-primary' | 'migrating' | 'migrated';

/** Label tests for one node under a configuration. */
export function nodeFlags(node: NodeSnapshot, config: MigrationConfig) {
  const L = config.labels;
  const has = (key: string) => node.labels[key] === L.value;
  const migrated = has(L.migrated);
  return {
    migrated,
    migrating: has(L.cilium) && !migrated,
    prepared: migrated || has(L.cilium) || (has(L['canal-cilium']) && (has(L['cni-priority-canal']) || has(L['cni-priority-cilium']))),
    rolled: migrated || has(L.rolled),
    prioritySwapped: migrated || has(L['cni-priority-cilium']),
    priorityRolled: migrated || (has(L['cni-priority-cilium']) && has(L['priority-rolled'])),
    tainted: node.taints.some((t) => t.key === L.cilium && t.effect === 'NoExecute'),
  };
}

/** The node's phase, for `status`. */
export function nodePhase(node: NodeSnapshot, config: MigrationConfig): NodePhase {
  const f = nodeFlags(node, config);
  if (f.migrated) return 'migrated';
  if (f.migrating) return 'migrating';
  if (f.priorityRolled) return 'cilium-primary';
  if (f.prioritySwapped) return 'priority-swapping';
  if (f.rolled) return 'rolled';
  if (f.prepared) return 'prepared';
  return 'canal';
}

/** A step's readiness (done), with the reason when not. */
export interface StepReadiness {
  step: StepId;
  ready: boolean;
  reason: string;
}

function dsOf(s: ClusterSnapshot, namespace: string, name: string) {
  return s.daemonSets.find((d) => d.namespace === namespace && d.name === name);
}

function nodesWhere(s: ClusterSnapshot, config: MigrationConfig, pred: (f: ReturnType<typeof nodeFlags>) => boolean): string[] {
  return s.nodes.filter((n) => !pred(nodeFlags(n, config))).map((n) => n.name);
}

function listNodes(names: string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
}

/** Is clean-up (step 5) done: old agents gone and cilium-migrated unpinned? */
export function cleanUpDone(s: ClusterSnapshot, config: MigrationConfig): boolean {
  const gone = [config.cni.canalDaemonSet, 'cilium', 'kube-multus-canal', 'kube-multus-cilium'].every((n) => !dsOf(s, 'kube-system', n));
  const migratedDs = dsOf(s, 'kube-system', 'cilium-migrated');
  return gone && !!migratedDs && migratedDs.nodeSelector[config.labels.cilium] === undefined;
}

/** The seed's Ready() of each step, judged on a snapshot (real or planned). */
export function stepReadiness(step: StepId, s: ClusterSnapshot, config: MigrationConfig): StepReadiness {
  const ns = config.connectivity.namespace;
  const not = (reason: string): StepReadiness => ({ step, ready: false, reason });
  const ok: StepReadiness = { step, ready: true, reason: 'done' };
  switch (step) {
    case 0: {
      const missing = config.connectivity.daemonSets.filter((n) => !dsOf(s, ns, n)?.rolledOut);
      return missing.length ? not(`probe DaemonSets not deployed and rolled out: ${missing.map((m) => `${ns}/${m}`).join(', ')}`) : ok;
    }
    case 1: {
      const unlabelled = nodesWhere(s, config, (f) => f.prepared);
      if (unlabelled.length) return not(`nodes not labelled for the migration: ${listNodes(unlabelled)}`);
      if (cleanUpDone(s, config)) return ok;
      const canal = dsOf(s, 'kube-system', config.cni.canalDaemonSet);
      if (canal && canal.nodeSelector[config.labels['canal-cilium']] !== config.labels.value) return not(`DaemonSet kube-system/${config.cni.canalDaemonSet} is not pinned to ${config.labels['canal-cilium']}`);
      const absent = ['cilium', 'cilium-migrated', 'kube-multus-canal', 'kube-multus-cilium'].filter((n) => !dsOf(s, 'kube-system', n));
      return absent.length ? not(`not installed: ${absent.map((a) => `kube-system/${a}`).join(', ')}`) : ok;
    }
    case 2: {
      const left = nodesWhere(s, config, (f) => f.rolled);
      return left.length ? not(`nodes not rolled: ${listNodes(left)}`) : ok;
    }
    case 3: {
      const left = nodesWhere(s, config, (f) => f.priorityRolled);
      return left.length ? not(`nodes without Cilium as primary network: ${listNodes(left)}`) : ok;
    }
    case 4: {
      const left = nodesWhere(s, config, (f) => f.migrated);
      return left.length ? not(`nodes not migrated: ${listNodes(left)}`) : ok;
    }
    case 5:
      return cleanUpDone(s, config) ? ok : not('Multus, Canal or the first Cilium DaemonSet still present, or cilium-migrated still pinned');
  }
}
