import type { MigrationConfig } from '../config/configSchema.js';
import type { Action, MigrationPlan, StepPlan } from './actions.js';
import type { ClusterSnapshot, NodeSnapshot } from './clusterSnapshot.js';
import { nodeFlags, stepReadiness } from './nodePhase.js';
import { STEPS, type StepId, type StepSelection } from './steps.js';

/** Objects of each manifest bundle, by "Kind namespace/name", for planning and deletion. */
export interface ManifestInventory {
  probe: string[];
  cilium: string[];
  multus: string[];
}

/** A step that cannot run because an earlier one is not done (the seed's "step N not ready"). */
export class StepNotReadyError extends Error {
  constructor(
    readonly step: StepId,
    readonly blockedBy: StepId,
    readonly reason: string,
  ) {
    super(`step ${blockedBy} not ready (${STEPS[blockedBy].name}: ${reason}); run step ${blockedBy} first${blockedBy < step ? ` (e.g. --steps ${blockedBy}-${step})` : ''}`);
    this.name = 'StepNotReadyError';
  }
}

/** Node names the user asked for that the cluster does not have. */
export class UnknownNodesError extends Error {
  constructor(readonly nodes: string[], known: string[]) {
    super(`unknown node${nodes.length > 1 ? 's' : ''}: ${nodes.join(', ')} (the cluster has ${known.join(', ')})`);
    this.name = 'UnknownNodesError';
  }
}

const clone = (s: ClusterSnapshot): ClusterSnapshot => structuredClone(s);

/**
 * Plans the selected steps on a snapshot. Each step is planned on the state the earlier ones
 * would leave (so `plan --steps all` on an untouched cluster shows the whole migration), and a
 * step whose predecessors are not ready is refused, as the seed's runner does.
 */
export function buildMigrationPlan(snapshot: ClusterSnapshot, config: MigrationConfig, selection: StepSelection, inventory: ManifestInventory): MigrationPlan {
  const known = snapshot.nodes.map((n) => n.name);
  const unknown = Object.values(selection.nodes ?? {}).flat().filter((n) => !known.includes(n));
  if (unknown.length) throw new UnknownNodesError([...new Set(unknown)], known);
  const steps = [...new Set(selection.steps)].sort((a, b) => a - b);
  let state = clone(snapshot);
  const out: StepPlan[] = [];
  for (const step of steps) {
    for (let earlier = 0 as StepId; earlier < step; earlier = (earlier + 1) as StepId) {
      const r = stepReadiness(earlier, state, config);
      if (!r.ready) throw new StepNotReadyError(step, earlier, r.reason);
    }
    const only = selection.nodes?.[step as 2 | 3 | 4];
    const plan = planStep(step, state, config, inventory, only);
    out.push(plan);
    state = applyStepToSnapshot(plan, state, config);
  }
  return { steps: out };
}

function planStep(step: StepId, s: ClusterSnapshot, config: MigrationConfig, inv: ManifestInventory, only: string[] | undefined): StepPlan {
  const ready = stepReadiness(step, s, config).ready;
  const base = { step, name: STEPS[step].name, alreadyDone: ready, nodes: [] as string[], skippedNodes: [] as string[] };
  const nodes = only ? only.map((n) => s.nodes.find((x) => x.name === n)!) : s.nodes;
  switch (step) {
    case 0:
      return { ...base, actions: ready ? [{ kind: 'checkConnectivity', when: 'preflight' }] : preflightActions(config, inv) };
    case 1:
      return { ...base, actions: ready ? [] : prepareActions(s, config, inv) };
    case 2:
    case 3:
    case 4: {
      const plan = { ...base, actions: [] as Action[] };
      for (const n of nodes) {
        const acts = nodeActions(step, n, config);
        if (acts.length === 0) plan.skippedNodes.push(n.name);
        else {
          plan.nodes.push(n.name);
          plan.actions.push(...acts);
        }
      }
      return plan;
    }
    case 5:
      return { ...base, actions: ready ? [] : cleanUpActions(config, inv) };
  }
}

/** The seed's knet-stress DaemonSets, which our probe DaemonSets replace. */
const SEED_PROBES = { namespace: 'knet-stress', names: ['knet-stress', 'knet-stress-2'] };

/** watchedResources as "kind/namespace/name", the seed's knet-stress entries mapped to our probes. */
export function watchedResources(config: MigrationConfig): string[] {
  const out: string[] = [];
  const lists = config.watchedResources;
  for (const [kind, byNs] of [['daemonset', lists.daemonsets], ['deployment', lists.deployments], ['statefulset', lists.statefulsets]] as const) {
    for (const [ns, names] of Object.entries(byNs ?? {})) {
      for (const n of names ?? []) {
        if (kind === 'daemonset' && ns === SEED_PROBES.namespace && SEED_PROBES.names.includes(n)) continue;
        out.push(`${kind}/${ns}/${n}`);
      }
    }
  }
  const probes = config.connectivity.daemonSets.map((d) => `daemonset/${config.connectivity.namespace}/${d}`);
  return [...new Set([...out, ...probes])];
}

function preflightActions(config: MigrationConfig, inv: ManifestInventory): Action[] {
  const ns = config.connectivity.namespace;
  return [
    { kind: 'applyManifests', bundle: 'probe', objects: inv.probe },
    { kind: 'waitRollouts', resources: config.connectivity.daemonSets.map((d) => `daemonset/${ns}/${d}`) },
    { kind: 'checkConnectivity', when: 'preflight' },
  ];
}

function prepareActions(s: ClusterSnapshot, config: MigrationConfig, inv: ManifestInventory): Action[] {
  const L = config.labels;
  const acts: Action[] = [];
  for (const n of s.nodes) {
    const f = nodeFlags(n, config);
    if (f.prepared) continue;
    acts.push({ kind: 'labelNode', node: n.name, labels: { [L['canal-cilium']]: L.value, [L['cni-priority-canal']]: L.value } });
  }
  acts.push({ kind: 'pinCanal', daemonSet: config.cni.canalDaemonSet, selector: { [L['canal-cilium']]: L.value } });
  acts.push({ kind: 'applyManifests', bundle: 'cilium', objects: inv.cilium });
  acts.push({ kind: 'applyManifests', bundle: 'multus', objects: inv.multus });
  acts.push({ kind: 'waitRollouts', resources: watchedResources(config) });
  acts.push({ kind: 'checkConnectivity', when: 'after installing Cilium and Multus' });
  return acts;
}

function rollActions(node: string, config: MigrationConfig, when: string): Action[] {
  return [
    { kind: 'drain', node },
    { kind: 'deletePods', node },
    { kind: 'uncordon', node },
    { kind: 'waitRollouts', resources: watchedResources(config) },
    { kind: 'checkConnectivity', node, when },
  ];
}

/** The actions for one node in steps 2–4; empty when the node is already past the step. */
function nodeActions(step: 2 | 3 | 4, n: NodeSnapshot, config: MigrationConfig): Action[] {
  const L = config.labels;
  const v = L.value;
  const f = nodeFlags(n, config);
  const node = n.name;
  const before: Action = { kind: 'checkConnectivity', node, when: `before ${node}` };
  if (step === 2) {
    if (f.rolled) return [];
    return [before, ...rollActions(node, config, `after rolling ${node}`), { kind: 'labelNode', node, labels: { [L.rolled]: v } }];
  }
  if (step === 3) {
    if (f.priorityRolled) return [];
    return [
      before,
      { kind: 'labelNode', node, labels: { [L['cni-priority-canal']]: null, [L['cni-priority-cilium']]: v } },
      { kind: 'waitAgentOnNode', node, daemonSet: 'kube-multus-cilium' },
      ...rollActions(node, config, `after making Cilium primary on ${node}`),
      { kind: 'labelNode', node, labels: { [L['priority-rolled']]: v } },
    ];
  }
  if (f.migrated) return [];
  return [
    before,
    { kind: 'drain', node },
    { kind: 'taint', node, key: L.cilium, value: 'cilium', effect: 'NoExecute' },
    { kind: 'labelNode', node, labels: { [L['canal-cilium']]: null, [L.cilium]: v } },
    { kind: 'waitAgentOnNode', node, daemonSet: 'cilium-migrated' },
    { kind: 'deletePods', node },
    { kind: 'waitRollouts', resources: watchedResources(config) },
    { kind: 'untaint', node, key: L.cilium, effect: 'NoExecute' },
    { kind: 'uncordon', node },
    { kind: 'labelNode', node, labels: { [L.migrated]: v, [L['cni-priority-cilium']]: null, [L['priority-rolled']]: null, [L.rolled]: null } },
    { kind: 'checkConnectivity', node, when: `after migrating ${node}` },
  ];
}

function cleanUpActions(config: MigrationConfig, inv: ManifestInventory): Action[] {
  const extra: string[] = [];
  const lists = config.cleanUpResources;
  for (const [kind, byNs] of [['DaemonSet', lists.daemonsets], ['Deployment', lists.deployments], ['StatefulSet', lists.statefulsets]] as const) {
    for (const [ns, names] of Object.entries(byNs ?? {})) {
      // The probes stay until the end: they prove the clean-up itself cut nothing.
      if (ns === config.connectivity.namespace) continue;
      for (const n of names ?? []) extra.push(`${kind} ${ns}/${n}`);
    }
  }
  const multusAgents = inv.multus.filter((o) => o.startsWith('DaemonSet '));
  const objects = [...new Set([...multusAgents, ...extra, `DaemonSet kube-system/${config.cni.canalDaemonSet}`, 'DaemonSet kube-system/cilium'])];
  return [
    { kind: 'unpinDaemonSet', daemonSet: 'cilium-migrated', labelKey: config.labels.cilium },
    { kind: 'waitRollouts', resources: ['daemonset/kube-system/cilium-migrated'] },
    { kind: 'deleteObjects', objects },
    { kind: 'checkConnectivity', when: 'after clean-up' },
  ];
}

/** The snapshot a step leaves behind when it succeeds (used to plan later steps of a dry run). */
export function applyStepToSnapshot(plan: StepPlan, s: ClusterSnapshot, config: MigrationConfig): ClusterSnapshot {
  const next = clone(s);
  const ds = (ns: string, name: string) => next.daemonSets.find((d) => d.namespace === ns && d.name === name);
  for (const a of plan.actions) {
    switch (a.kind) {
      case 'labelNode': {
        const n = next.nodes.find((x) => x.name === a.node);
        if (!n) break;
        for (const [k, v] of Object.entries(a.labels)) {
          if (v === null) delete n.labels[k];
          else n.labels[k] = v;
        }
        break;
      }
      case 'pinCanal': {
        const c = ds('kube-system', a.daemonSet);
        if (c) Object.assign(c.nodeSelector, a.selector);
        break;
      }
      case 'applyManifests':
        for (const o of a.objects) {
          const m = /^DaemonSet (\S+)\/(\S+)$/.exec(o);
          if (m && !ds(m[1]!, m[2]!)) next.daemonSets.push({ namespace: m[1]!, name: m[2]!, nodeSelector: {}, rolledOut: true });
        }
        break;
      case 'unpinDaemonSet': {
        const d = ds('kube-system', a.daemonSet);
        if (d) delete d.nodeSelector[a.labelKey];
        break;
      }
      case 'deleteObjects':
        next.daemonSets = next.daemonSets.filter((d) => !a.objects.includes(`DaemonSet ${d.namespace}/${d.name}`));
        break;
      default:
        break;
    }
  }
  // Bundles applied by the plan start pinned the way the manifests pin them.
  const ciliumMigrated = ds('kube-system', 'cilium-migrated');
  if (ciliumMigrated && plan.step === 1 && !plan.alreadyDone) ciliumMigrated.nodeSelector[config.labels.cilium] ??= config.labels.value;
  return next;
}
