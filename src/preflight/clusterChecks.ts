/**
 * The cluster preflight's rules: each reads the inventory (read before anything is written) and
 * returns a verdict with the objects it concerns and the fix. Pure, like the drain filters they
 * reuse: the preflight says now what a drain would refuse half-way.
 */
import type { MigrationConfig } from '../config/configSchema.js';
import type { KubeObject, Node, Pod, PodDisruptionBudget } from '../kube/kubeTypes.js';
import { objectKey } from '../kube/kubeTypes.js';
import type { PreflightCheck } from '../migration/preflightChecks.js';
import { controllerOf, DAEMONSET_WARNING, isFinished, planDrain, type DaemonSetLookup } from '../ops/drainFilters.js';
import { usesPodNetwork } from '../ops/deleteNodePods.js';
import { matchesLabelSelector } from '../ops/labelSelector.js';
import type { AccessNeed } from './accessNeeds.js';

/** What the preflight read. */
export interface ClusterInventory {
  version: { major: string; minor: string; gitVersion: string } | undefined;
  nodes: Node[];
  pods: Pod[];
  daemonSets: KubeObject[];
  deployments: KubeObject[];
  statefulSets: KubeObject[];
  pdbs: PodDisruptionBudget[];
  /** PersistentVolumeClaims and PersistentVolumes (none when not readable): which claims keep data on one node. */
  persistentVolumeClaims: KubeObject[];
  persistentVolumes: KubeObject[];
  /** Validating and mutating webhook configurations. */
  webhookConfigurations: KubeObject[];
  /** Each permission the plan needs, and what the API server said. */
  access: { need: AccessNeed; resource: string; allowed: boolean; reason?: string | undefined }[];
  /** The configuration's preflightResources, looked up. */
  resources: { ref: string; found: boolean; ready: boolean; detail: string; installedByRun: boolean }[];
  /** NetworkPolicies (none when omitted). */
  networkPolicies?: KubeObject[] | 'forbidden';
  /** Calico's NetworkPolicies and GlobalNetworkPolicies (none when omitted). */
  calicoPolicies?: KubeObject[] | 'forbidden';
}

const MAX_NAMES = 8;
/** "a, b, c and 4 more" */
export function names(list: readonly string[]): string {
  return list.length <= MAX_NAMES ? list.join(', ') : `${list.slice(0, MAX_NAMES).join(', ')} and ${list.length - MAX_NAMES} more`;
}

const isReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Two or more nodes, all Ready. */
export function nodesCheck(inv: ClusterInventory): PreflightCheck[] {
  const name = 'two or more Ready nodes';
  if (inv.nodes.length < 2)
    return [{ name, verdict: 'fail', detail: `the cluster has ${inv.nodes.length} node${inv.nodes.length === 1 ? '' : 's'}: a node-by-node migration drains every pod of a single node at once, and cross-node connectivity cannot be proven`, fix: 'migrate a single-node cluster by reinstalling its CNI in a maintenance window' }];
  const notReady = inv.nodes.filter((n) => !isReady(n)).map((n) => n.metadata.name ?? '');
  if (notReady.length) return [{ name, verdict: 'warn', detail: `${inv.nodes.length} nodes, not Ready: ${names(notReady)} — their agents will not become ready and the run stops there`, fix: 'bring the nodes back or remove them before the migration' }];
  return [{ name, verdict: 'pass', detail: `${inv.nodes.length} nodes, all Ready` }];
}

/** The API server's version: policy/v1 (1.21) is needed; Cilium 1.18 is tested from 1.30. */
export function versionCheck(inv: ClusterInventory): PreflightCheck[] {
  const name = 'Kubernetes version';
  if (!inv.version) return [{ name, verdict: 'warn', detail: 'GET /version did not answer', fix: 'check that the API server serves /version' }];
  const minor = Number.parseInt(inv.version.minor, 10);
  const v = inv.version.gitVersion;
  if (inv.version.major !== '1' || !Number.isFinite(minor)) return [{ name, verdict: 'warn', detail: `${v}: not a version this tool knows` }];
  if (minor < 21) return [{ name, verdict: 'fail', detail: `${v}: policy/v1 evictions and PodDisruptionBudgets need 1.21 or later`, fix: 'upgrade the cluster first' }];
  if (minor < 30) return [{ name, verdict: 'warn', detail: `${v}: older than the oldest Kubernetes Cilium 1.18 is tested with (1.30)`, fix: 'upgrade the cluster, or use a Cilium release that supports it (images.cilium)' }];
  return [{ name, verdict: 'pass', detail: v }];
}

/** What the drains of every node will do with its pods, by the drain's own filters. */
export function drainsCheck(inv: ClusterInventory, config: MigrationConfig): PreflightCheck[] {
  const ds = new Set(inv.daemonSets.map((d) => objectKey(d)));
  const ctx = {
    options: { ignoreDaemonSets: true, deleteEmptyDirData: config.drain.deleteEmptyDirData, force: config.drain.force, skipWaitForDeleteTimeoutSeconds: 0 },
    now: Date.now(),
    daemonSet: (ns: string, n: string): DaemonSetLookup => (ds.has(`${ns}/${n}`) ? 'exists' : 'notFound'),
  };
  const errors: string[] = [];
  const warnings = new Map<string, string[]>();
  for (const node of inv.nodes) {
    const pods = inv.pods.filter((p) => p.spec?.nodeName === node.metadata.name);
    const plan = planDrain(pods, ctx);
    for (const e of plan.errors) errors.push(`node ${node.metadata.name}: ${e}`);
    for (const [w, list] of plan.warnings) if (w !== DAEMONSET_WARNING) warnings.set(w, [...(warnings.get(w) ?? []), ...list]);
  }
  const name = 'drains can move every pod';
  if (errors.length)
    return [{ name, verdict: 'fail', detail: errors.join('; '), fix: 'set drain.force: true to delete pods without a controller (they are not re-created), drain.deleteEmptyDirData: true for emptyDir pods, or move those pods off first' }];
  if (warnings.size) return [{ name, verdict: 'warn', detail: [...warnings].map(([w, list]) => `${w}: ${names(list)}`).join('; '), fix: 'pods without a controller are deleted and not re-created; emptyDir data is lost on eviction' }];
  return [{ name, verdict: 'pass', detail: 'every pod has a controller and no local data a drain would refuse' }];
}

/** Pods a budget selects. */
function selected(pdb: PodDisruptionBudget, pods: readonly Pod[]): Pod[] {
  const sel = pdb.spec?.selector;
  if (!sel) return [];
  return pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && matchesLabelSelector(sel, p.metadata.labels ?? {}));
}

/** Budgets that block drains now, or always. */
export function budgetsCheck(inv: ClusterInventory, config: MigrationConfig): PreflightCheck[] {
  const never: string[] = [];
  const now: string[] = [];
  for (const pdb of inv.pdbs) {
    const pods = selected(pdb, inv.pods).filter(usesPodNetwork);
    if (!pods.length) continue;
    const key = objectKey(pdb);
    const expected = pdb.status?.expectedPods ?? pods.length;
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    const blocksForever = max === 0 || max === '0%' || min === '100%' || (typeof min === 'number' && min >= expected);
    if (blocksForever) never.push(`${key} (${min !== undefined ? `minAvailable ${min}` : `maxUnavailable ${max}`} of ${expected} pod${expected === 1 ? '' : 's'})`);
    else if ((pdb.status?.disruptionsAllowed ?? 0) < 1) now.push(`${key} (0 disruptions allowed now)`);
  }
  const name = 'PodDisruptionBudgets allow drains';
  const timeout = `timeouts.drainSeconds (${config.timeouts.drainSeconds}s)`;
  if (never.length) return [{ name, verdict: 'warn', detail: `never allow an eviction: ${names(never)}${now.length ? `; blocked now: ${names(now)}` : ''} — the drain of their nodes stops the run after ${timeout}`, fix: 'relax the budget (or scale the workload up) for the migration' }];
  if (now.length) return [{ name, verdict: 'warn', detail: `blocked now: ${names(now)} — drains wait for them, up to ${timeout}`, fix: 'wait until their pods are healthy' }];
  return [{ name, verdict: 'pass', detail: `${inv.pdbs.length} budget${inv.pdbs.length === 1 ? '' : 's'}, each allowing an eviction now` }];
}

interface PersistentVolumeShape {
  spec?: { local?: unknown; hostPath?: unknown; claimRef?: { namespace?: string; name?: string }; nodeAffinity?: unknown };
}

/** The PVs that live on one node's disk (local or hostPath), by the claim bound to them ("ns/name"). */
function nodeLocalClaims(inv: ClusterInventory): Map<string, string> {
  const out = new Map<string, string>();
  const byName = new Map(inv.persistentVolumes.map((pv) => [pv.metadata.name ?? '', pv as PersistentVolumeShape & KubeObject]));
  for (const pvc of inv.persistentVolumeClaims) {
    const pv = byName.get((pvc as { spec?: { volumeName?: string } }).spec?.volumeName ?? '');
    if (!pv) continue;
    const kind = pv.spec?.local ? 'local' : pv.spec?.hostPath ? 'hostPath' : undefined;
    if (kind) out.set(objectKey(pvc), `${kind} PersistentVolume ${pv.metadata.name}`);
  }
  return out;
}

/**
 * Pods whose data stays on their node: hostPath volumes (the re-created pod, scheduled elsewhere,
 * does not find it) and claims bound to local PersistentVolumes (the re-created pod can only run on
 * that node, which is cordoned while it drains: Pending until the node is uncordoned). The drain
 * evicts them like any other pod, so this is a warning, with the pods named. DaemonSet pods stay.
 */
export function localDataCheck(inv: ClusterInventory): PreflightCheck[] {
  const localClaims = nodeLocalClaims(inv);
  const hostPath: string[] = [];
  const localPv: string[] = [];
  for (const pod of inv.pods) {
    if (isFinished(pod) || controllerOf(pod)?.kind === 'DaemonSet' || !pod.spec?.nodeName) continue;
    if (pod.metadata.annotations && 'kubernetes.io/config.mirror' in pod.metadata.annotations) continue;
    const key = objectKey(pod);
    const volumes = pod.spec.volumes ?? [];
    if (volumes.some((v) => v.hostPath !== undefined && v.hostPath !== null)) hostPath.push(`${key} (node ${pod.spec.nodeName})`);
    for (const v of volumes) {
      const claim = (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName;
      const pv = claim ? localClaims.get(`${pod.metadata.namespace}/${claim}`) : undefined;
      if (pv) localPv.push(`${key} (${pv} on node ${pod.spec.nodeName})`);
    }
  }
  const name = 'pods with data on their node';
  const parts = [hostPath.length ? `hostPath volumes: ${names(hostPath)} — re-created on another node, they do not find that data` : '', localPv.length ? `local PersistentVolumes: ${names(localPv)} — re-created, they can only run on that node and stay Pending while it is cordoned for its drain` : ''].filter(Boolean);
  if (parts.length) return [{ name, verdict: 'warn', detail: parts.join('; '), fix: 'move their data to network storage, or accept that these workloads are down (local PVs) or start empty (hostPath) while their node migrates' }];
  return [{ name, verdict: 'pass', detail: 'no pod outside a DaemonSet keeps data on its node (hostPath or local PersistentVolume)' }];
}

/** Deployments and StatefulSets of one replica: down while their node drains. */
export function singleReplicaCheck(inv: ClusterInventory): PreflightCheck[] {
  const single = [...inv.deployments, ...inv.statefulSets]
    .filter((w) => ((w as { spec?: { replicas?: number } }).spec?.replicas ?? 1) === 1)
    .filter((w) => !(w as { spec?: { template?: { spec?: { hostNetwork?: boolean } } } }).spec?.template?.spec?.hostNetwork)
    .map((w) => `${w.kind} ${objectKey(w)}`);
  const name = 'workloads with more than one replica';
  if (single.length) return [{ name, verdict: 'warn', detail: `one replica: ${names(single)} — unavailable while its pod is evicted and re-created`, fix: 'scale them to 2 or more for the migration if they must stay up' }];
  return [{ name, verdict: 'pass', detail: 'every Deployment and StatefulSet has two or more replicas' }];
}

/** Admission webhooks served from pods that fail closed: they can refuse pod creation mid-migration. */
export function webhooksCheck(inv: ClusterInventory): PreflightCheck[] {
  const closed: string[] = [];
  for (const cfg of inv.webhookConfigurations) {
    const hooks = ((cfg as { webhooks?: { name?: string; failurePolicy?: string; clientConfig?: { service?: { namespace?: string; name?: string } } }[] }).webhooks ?? []);
    for (const h of hooks) {
      const svc = h.clientConfig?.service;
      // admissionregistration/v1 defaults failurePolicy to Fail.
      if (svc && (h.failurePolicy ?? 'Fail') === 'Fail') closed.push(`${cfg.kind} ${cfg.metadata.name}/${h.name ?? '?'} (Service ${svc.namespace}/${svc.name})`);
    }
  }
  const name = 'admission webhooks';
  if (closed.length) return [{ name, verdict: 'warn', detail: `served from inside the cluster with failurePolicy Fail: ${names(closed)} — while their pods move, the API writes they cover (pod creation among them) are refused`, fix: 'run their backends with two or more replicas, or set failurePolicy: Ignore for the migration' }];
  return [{ name, verdict: 'pass', detail: inv.webhookConfigurations.length ? 'none served from the cluster fails closed' : 'none' }];
}

/** Every verb the plan needs is granted. */
export function accessCheck(inv: ClusterInventory): PreflightCheck[] {
  const denied = inv.access.filter((a) => !a.allowed);
  const name = 'permissions for every action';
  const what = (a: ClusterInventory['access'][number]) => `${a.need.verb} ${a.resource}${a.need.subresource ? `/${a.need.subresource}` : ''}${a.need.namespace ? ` in ${a.need.namespace}` : ''} (${a.need.why})`;
  if (denied.length) return [{ name, verdict: 'fail', detail: `not allowed: ${names(denied.map(what))}`, fix: 'bind the user to the ClusterRole in manifests/rbac/cni-migration.yaml (kubectl auth can-i shows each)' }];
  return [{ name, verdict: 'pass', detail: `${inv.access.length} permissions checked with SelfSubjectAccessReview, all allowed` }];
}

/** The configuration's preflightResources exist and are rolled out. */
export function resourcesCheck(inv: ClusterInventory): PreflightCheck[] {
  const name = 'preflightResources ready';
  const missing = inv.resources.filter((r) => !r.installedByRun && (!r.found || !r.ready));
  if (missing.length) return [{ name, verdict: 'fail', detail: names(missing.map((r) => `${r.ref}: ${r.detail}`)), fix: 'fix or remove them from preflightResources in the configuration' }];
  const own = inv.resources.filter((r) => r.installedByRun).length;
  const others = inv.resources.length - own;
  const probes = own ? `${own} probe DaemonSet${own === 1 ? '' : 's'} (installed by step 0)` : '';
  if (!others) return [{ name, verdict: 'pass', detail: probes ? `only ${probes}` : 'none listed' }];
  return [{ name, verdict: 'pass', detail: `${others} found and rolled out${probes ? `; ${probes}` : ''}` }];
}

/** Every cluster rule, in report order. */
export function clusterChecks(inv: ClusterInventory, config: MigrationConfig): PreflightCheck[] {
  return [...nodesCheck(inv), ...versionCheck(inv), ...accessCheck(inv), ...drainsCheck(inv, config), ...budgetsCheck(inv, config), ...localDataCheck(inv), ...singleReplicaCheck(inv), ...webhooksCheck(inv), ...resourcesCheck(inv)];
}
