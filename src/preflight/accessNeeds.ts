/**
 * The API permissions a plan needs, read off its actions: the preflight asks the API server about
 * each (SelfSubjectAccessReview) so a missing verb stops the run before its first write instead
 * of half-way. Pure: kinds are named here, resolved to resources by the caller.
 */
import type { KindRef } from '../kube/clusterClient.js';
import type { ObjectRef } from '../kube/kubeTypes.js';
import type { MigrationConfig } from '../config/configSchema.js';
import type { Action, MigrationPlan } from '../migration/plan.js';
import { MIGRATION_RECORD } from '../migration/migrationRecord.js';
import { RUN_LOCK } from '../migration/runLock.js';
import { LEDGER } from '../migration/runLedger.js';

/** One permission: a verb on a kind (or a subresource of it), in a namespace or cluster-wide. */
export interface AccessNeed {
  verb: string;
  kind: KindRef;
  subresource?: string | undefined;
  /** Undefined: every namespace (or a cluster-scoped kind). */
  namespace?: string | undefined;
  /** Why the tool needs it, for the report. */
  why: string;
}

const NODE: KindRef = { apiVersion: 'v1', kind: 'Node' };
const POD: KindRef = { apiVersion: 'v1', kind: 'Pod' };
const PDB: KindRef = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
const CONFIGMAP: KindRef = { apiVersion: 'v1', kind: 'ConfigMap' };
const LEASE: KindRef = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
const DAEMONSET: KindRef = { apiVersion: 'apps/v1', kind: 'DaemonSet' };

const kindOf = (r: ObjectRef): KindRef => ({ apiVersion: r.apiVersion, kind: r.kind });

/** What every run needs whatever its plan: reading nodes and pods, its record, its lock. */
export function baseNeeds(): AccessNeed[] {
  const rec = MIGRATION_RECORD.namespace;
  return [
    ...['get', 'list', 'watch'].map((verb) => ({ verb, kind: NODE, why: 'read nodes and their labels' })),
    ...['get', 'list', 'watch'].map((verb) => ({ verb, kind: POD, why: "read pods and the probes' status" })),
    ...['get', 'list'].map((verb) => ({ verb, kind: DAEMONSET, why: "read the CNIs' agents" })),
    ...['get', 'create', 'patch'].map((verb) => ({ verb, kind: CONFIGMAP, namespace: rec, why: `keep the migration record (ConfigMap ${rec}/${MIGRATION_RECORD.name})` })),
    { verb: 'list', kind: CONFIGMAP, namespace: LEDGER.namespace, why: `read the ledger (ConfigMaps ${LEDGER.namespace}/${LEDGER.name}*)` },
    ...['get', 'create', 'patch'].map((verb) => ({ verb, kind: LEASE, namespace: RUN_LOCK.namespace, why: `hold the run lock (Lease ${RUN_LOCK.namespace}/${RUN_LOCK.name})` })),
  ];
}

/** The permissions one action needs. */
export function actionNeeds(a: Action, config: MigrationConfig): AccessNeed[] {
  const probeNs = config.connectivity.namespace;
  switch (a.kind) {
    case 'applyManifests':
      // Server-side apply is a PATCH, and kube-apiserver also authorizes `create` when the object does not exist yet.
      return a.objects.flatMap((o) => ['get', 'create', 'patch'].map((verb) => ({ verb, kind: kindOf(o), namespace: o.namespace, why: `apply ${a.bundle}: ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}` })));
    case 'labelNode':
    case 'taint':
    case 'untaint':
    case 'uncordon':
      return [{ verb: 'patch', kind: NODE, why: `${a.kind} nodes` }];
    case 'taintNodes':
      return [
        { verb: 'list', kind: NODE, why: 'read the nodes to taint' },
        { verb: 'patch', kind: NODE, why: 'taint nodes' },
      ];
    case 'releaseNode':
      return [{ verb: 'patch', kind: NODE, why: 'untaint, uncordon and label nodes' }];
    case 'drain':
      return [
        { verb: 'patch', kind: NODE, why: 'cordon nodes' },
        { verb: 'create', kind: POD, subresource: 'eviction', why: 'evict pods (drain)' },
        { verb: 'delete', kind: POD, why: 'delete pods the eviction API cannot move' },
        { verb: 'list', kind: PDB, why: 'name the PodDisruptionBudget that blocks a drain' },
      ];
    case 'deletePods':
    case 'restartAgent':
      return [{ verb: 'delete', kind: POD, why: a.kind === 'deletePods' ? 're-create pods on their CNI' : 'restart CNI agents' }];
    case 'setNodeSelector':
      return [{ verb: 'patch', kind: kindOf(a.via ?? a.daemonSet), namespace: (a.via ?? a.daemonSet).namespace, why: `pin ${a.daemonSet.name} to nodes` }];
    case 'waitRollouts':
      return a.resources.flatMap((r) => ['get', 'list', 'watch'].map((verb) => ({ verb, kind: kindOf(r), namespace: r.namespace, why: `wait for ${r.kind} ${r.namespace}/${r.name} to roll out` })));
    case 'waitAgentOnNode':
      return [{ verb: 'get', kind: kindOf(a.daemonSet), namespace: a.daemonSet.namespace, why: `read ${a.daemonSet.name}` }];
    case 'verifyCilium':
      return [
        { verb: 'get', kind: kindOf(a.daemonSet), namespace: a.daemonSet.namespace, why: `read ${a.daemonSet.name}` },
        { verb: 'get', kind: CONFIGMAP, namespace: a.daemonSet.namespace, why: 'read cilium-config' },
        { verb: 'list', kind: { apiVersion: 'cilium.io/v2', kind: 'CiliumNode' }, why: "check every CiliumNode's pod range" },
      ];
    case 'checkConnectivity':
      return [{ verb: 'get', kind: POD, subresource: 'proxy', namespace: probeNs, why: 'read the probe agents through the pod proxy' }];
    case 'deleteObjects':
      return a.objects.map((o) => ({ verb: 'delete', kind: kindOf(o), namespace: o.namespace, why: `clean up ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}` }));
    case 'patchObject':
      return [{ verb: 'patch', kind: kindOf(a.target), namespace: a.target.namespace, why: a.what }];
    case 'runNodeScript':
      // The script's pod is created (a leftover one deleted first).
      return ['create', 'delete'].map((verb) => ({ verb, kind: POD, namespace: probeNs, why: `run a node script (${a.purpose})` }));
    case 'createNodeConfig':
    case 'deleteNodeConfig':
      // Which CiliumNodeConfig version is served is read when the action runs; cilium.io/v2 here. It is server-side applied.
      return (a.kind === 'createNodeConfig' ? ['create', 'patch'] : ['delete']).map((verb) => ({ verb, kind: { apiVersion: 'cilium.io/v2', kind: 'CiliumNodeConfig' }, namespace: a.namespace, why: 'switch nodes with a CiliumNodeConfig' }));
    case 'bridgePolicies': {
      const why = 'bridge NetworkPolicies across the two CNIs';
      return [
        { verb: 'list', kind: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }, why },
        { verb: 'list', kind: { apiVersion: 'v1', kind: 'Namespace' }, why },
        { verb: 'list', kind: POD, why },
        { verb: 'list', kind: { apiVersion: 'crd.projectcalico.org/v1', kind: 'NetworkPolicy' }, why },
        // Applied, read back, and an earlier run's objects no longer needed deleted.
        ...['get', 'list', 'create', 'patch', 'delete'].map((verb) => ({ verb, kind: { apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy' }, why })),
        ...['get', 'list', 'create', 'patch', 'delete'].map((verb) => ({ verb, kind: { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy' }, why })),
        ...['get', 'patch'].map((verb) => ({ verb, kind: CONFIGMAP, namespace: a.ciliumNamespace, why: 'turn Cilium policy enforcement on for switching nodes' })),
      ];
    }
    case 'removePolicyBridge':
      return [
        { verb: 'list', kind: { apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy' }, why: 'find the NetworkPolicy bridge' },
        { verb: 'delete', kind: { apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy' }, why: 'remove the NetworkPolicy bridge' },
        { verb: 'list', kind: { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy' }, why: 'find the NetworkPolicy bridge' },
        { verb: 'delete', kind: { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy' }, why: 'remove the NetworkPolicy bridge' },
      ];
    case 'verifyNodePods':
    case 'runHook':
    case 'verifyCalicoAddresses':
      return [];
  }
}

/** The tunnel check's DaemonSet (preflight): applied, read back through the pod proxy, deleted. */
export function tunnelCheckNeeds(config: MigrationConfig): AccessNeed[] {
  const ns = config.connectivity.namespace;
  const why = "check Cilium's tunnel port between nodes (a short-lived DaemonSet)";
  return [
    ...['get', 'create', 'patch'].map((verb) => ({ verb, kind: { apiVersion: 'v1', kind: 'Namespace' }, why })),
    ...['get', 'create', 'patch', 'delete', 'list', 'watch'].map((verb) => ({ verb, kind: DAEMONSET, namespace: ns, why })),
    { verb: 'get', kind: POD, subresource: 'proxy', namespace: ns, why },
  ];
}

/** Every permission a plan needs, each verb/kind/namespace once (the first reason kept). */
export function planNeeds(plan: MigrationPlan, config: MigrationConfig): AccessNeed[] {
  const out = new Map<string, AccessNeed>();
  const add = (n: AccessNeed) => {
    const key = `${n.verb} ${n.kind.apiVersion}/${n.kind.kind}/${n.subresource ?? ''} ${n.namespace ?? '*'}`;
    if (!out.has(key)) out.set(key, n);
  };
  baseNeeds().forEach(add);
  if (config.connectivity.tunnelCheck.enabled) tunnelCheckNeeds(config).forEach(add);
  for (const step of plan.steps) {
    for (const a of step.actions) actionNeeds(a, config).forEach(add);
    for (const n of step.nodes) for (const a of [...n.actions, ...(n.rollback ?? [])]) actionNeeds(a, config).forEach(add);
  }
  return [...out.values()];
}
