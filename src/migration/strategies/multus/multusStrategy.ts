import type { MigrationConfig, ResourceListConfig } from '../../../config/configSchema.js';
import type { ObjectRef } from '../../../kube/kubeTypes.js';
import type { SourceDescription } from '../../../source/sourceTypes.js';
import { daemonSetIn, type ClusterSnapshot, type NodeSnapshot } from '../../clusterSnapshot.js';
import { daemonSetRef, sameRef } from '../../objectRefs.js';
import type { Action } from '../../plan.js';
import type { NetworkExpectation } from '../../podNetworkChecks.js';
import type { StepDef, StepReadiness, Strategy, StrategyContext } from '../../strategy.js';
import type { PreflightCheck } from '../../preflightChecks.js';
import { shortList } from '../../shortList.js';
import { calicoAutodetectionCheck, calicoAutodetectionFix } from '../calicoAutodetection.js';
import { bundledCilium, ciliumRangeChecks } from '../dualOverlay/dualOverlayPreflight.js';

// The original tool's procedure (DESIGN §2): Cilium beside the source through Multus, every pod
// rolled three times — once to get a Cilium interface, once to make it primary, once onto Cilium
// alone. State lives in node labels (config.labels). Works from Canal, Calico and Flannel: the
// source's DaemonSet, CNI network and directory come from the discovered source description.

const STEPS: readonly StepDef[] = [
  { id: 0, name: 'preflight', title: 'Preflight: probe DaemonSets deployed and every pod pair reachable', perNode: false },
  { id: 1, name: 'prepare', title: 'Prepare: label nodes, pin the source CNI, install Cilium and Multus side by side', perNode: false },
  { id: 2, name: 'roll', title: 'Roll: re-create every pod so it gets a Cilium interface beside its source one', perNode: true },
  { id: 3, name: 'priority', title: 'Priority: make Cilium the primary network, node by node', perNode: true },
  { id: 4, name: 'migrate', title: 'Migrate: move each node to Cilium only', perNode: true },
  { id: 5, name: 'clean-up', title: 'Clean up: remove Multus, the source CNI and the first Cilium', perNode: false },
];

/** The CNI network name Cilium's config file carries; Multus finds it by that name. */
export const CILIUM_NETWORK = 'cilium';
/** The network Multus attaches beside Cilium once Cilium is primary: flannel's own for Canal (99-flannel.conflist), else the source's. */
export function secondarySourceNetwork(source: SourceDescription): string {
  return source.kind === 'canal' ? 'cbr0' : source.networkName.value;
}

const ks = (name: string) => daemonSetRef('kube-system', name);
/** The strategy's own agents (the bundled manifests' names; a paths.* manifest must keep them). */
export const MULTUS_AGENTS = {
  cilium: ks('cilium'),
  ciliumMigrated: ks('cilium-migrated'),
  multusSourcePrimary: ks('kube-multus-canal'),
  multusCiliumPrimary: ks('kube-multus-cilium'),
} as const;

function sourceRef(source: SourceDescription): ObjectRef {
  return daemonSetRef(source.daemonSet.namespace, source.daemonSet.name);
}

function probeRefs(config: MigrationConfig): ObjectRef[] {
  return config.connectivity.daemonSets.map((d) => daemonSetRef(config.connectivity.namespace, d));
}

/** Label tests for one node under a configuration. */
export function multusNodeFlags(node: NodeSnapshot, config: MigrationConfig) {
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

function nodesNot(s: ClusterSnapshot, config: MigrationConfig, pred: (f: ReturnType<typeof multusNodeFlags>) => boolean): string[] {
  return s.nodes.filter((n) => !pred(multusNodeFlags(n, config))).map((n) => n.name);
}

/** The seed's knet-stress DaemonSets, which our probe DaemonSets replace. */
const SEED_PROBES = { namespace: 'knet-stress', names: ['knet-stress', 'knet-stress-2'] };
/** The seed's name for the source agent in its resource lists. */
const SEED_SOURCE = { namespace: 'kube-system', name: 'canal' };

/**
 * A resource list of the configuration as references: the seed's knet-stress entries stand for our
 * probes and its kube-system/canal entry for the discovered source agent.
 */
export function configuredResources(lists: ResourceListConfig, config: MigrationConfig, source: SourceDescription): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const [kind, byNs] of [['DaemonSet', lists.daemonsets], ['Deployment', lists.deployments], ['StatefulSet', lists.statefulsets]] as const) {
    for (const [ns, names] of Object.entries(byNs ?? {})) {
      for (const n of names ?? []) {
        if (kind === 'DaemonSet' && ns === SEED_PROBES.namespace && SEED_PROBES.names.includes(n)) out.push(...probeRefs(config));
        else if (kind === 'DaemonSet' && ns === SEED_SOURCE.namespace && n === SEED_SOURCE.name) out.push(sourceRef(source));
        else out.push({ apiVersion: 'apps/v1', kind, namespace: ns, name: n });
      }
    }
  }
  return dedupe(out);
}

function dedupe(refs: ObjectRef[]): ObjectRef[] {
  return refs.filter((r, i) => refs.findIndex((x) => sameRef(x, r)) === i);
}

/** What every roll waits for: the strategy's agents, the probes and the configuration's watched resources. */
function watched(ctx: StrategyContext): ObjectRef[] {
  const { config, source } = ctx;
  const own = [sourceRef(source), MULTUS_AGENTS.cilium, MULTUS_AGENTS.ciliumMigrated, MULTUS_AGENTS.multusSourcePrimary, MULTUS_AGENTS.multusCiliumPrimary];
  return dedupe([...own, ...probeRefs(config), ...configuredResources(config.watchedResources, config, source)]);
}

function pinVia(source: SourceDescription): ObjectRef | undefined {
  return source.installation ? { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: source.installation.name } : undefined;
}

/** Whether clean-up is done: the old agents gone and cilium-migrated unpinned. */
function cleanUpDone(s: ClusterSnapshot, ctx: StrategyContext): boolean {
  const gone = [sourceRef(ctx.source), MULTUS_AGENTS.cilium, MULTUS_AGENTS.multusSourcePrimary, MULTUS_AGENTS.multusCiliumPrimary].every((r) => !daemonSetIn(s, r));
  const migrated = daemonSetIn(s, MULTUS_AGENTS.ciliumMigrated);
  return gone && !!migrated && migrated.nodeSelector[ctx.config.labels.cilium] === undefined;
}

function readiness(step: number, s: ClusterSnapshot, ctx: StrategyContext): StepReadiness {
  const { config, source } = ctx;
  const not = (reason: string): StepReadiness => ({ step, ready: false, reason });
  const ok: StepReadiness = { step, ready: true, reason: 'done' };
  switch (step) {
    case 0: {
      const missing = probeRefs(config).filter((r) => !daemonSetIn(s, r)?.rolledOut);
      return missing.length ? not(`probe DaemonSets not deployed and rolled out: ${missing.map((m) => `${m.namespace}/${m.name}`).join(', ')}`) : ok;
    }
    case 1: {
      const unlabelled = nodesNot(s, config, (f) => f.prepared);
      if (unlabelled.length) return not(`nodes not labelled for the migration: ${shortList(unlabelled)}`);
      if (cleanUpDone(s, ctx)) return ok;
      // Every node on cilium-migrated: what step 1 installed has served, and clean-up (step 5)
      // may already have deleted part of it — re-installing would resurrect what it removed.
      if (nodesNot(s, config, (f) => f.migrated).length === 0 && daemonSetIn(s, MULTUS_AGENTS.ciliumMigrated)) return ok;
      const src = daemonSetIn(s, sourceRef(source));
      const L = config.labels;
      if (src && src.nodeSelector[L['canal-cilium']] !== L.value) return not(`DaemonSet ${source.daemonSet.namespace}/${source.daemonSet.name} is not pinned to ${L['canal-cilium']}`);
      const absent = [MULTUS_AGENTS.cilium, MULTUS_AGENTS.ciliumMigrated, MULTUS_AGENTS.multusSourcePrimary, MULTUS_AGENTS.multusCiliumPrimary].filter((r) => !daemonSetIn(s, r));
      return absent.length ? not(`not installed: ${absent.map((a) => `${a.namespace}/${a.name}`).join(', ')}`) : ok;
    }
    case 2: {
      const left = nodesNot(s, config, (f) => f.rolled);
      return left.length ? not(`nodes not rolled: ${shortList(left)}`) : ok;
    }
    case 3: {
      const left = nodesNot(s, config, (f) => f.priorityRolled);
      return left.length ? not(`nodes without Cilium as primary network: ${shortList(left)}`) : ok;
    }
    case 4: {
      const left = nodesNot(s, config, (f) => f.migrated);
      return left.length ? not(`nodes not migrated: ${shortList(left)}`) : ok;
    }
    case 5:
      return cleanUpDone(s, ctx) ? ok : not('Multus, the source CNI or the first Cilium DaemonSet still present, or cilium-migrated still pinned');
    default:
      return not(`no step ${step}`);
  }
}

function stepActions(step: number, s: ClusterSnapshot, ctx: StrategyContext): Action[] {
  const { config, source, bundles } = ctx;
  const ready = readiness(step, s, ctx).ready;
  const bundle = (name: string) => [...(bundles[name] ?? [])];
  switch (step) {
    case 0:
      return ready
        ? [{ kind: 'checkConnectivity', when: 'preflight' }]
        : [
            { kind: 'applyManifests', bundle: 'probe', objects: bundle('probe') },
            { kind: 'waitRollouts', resources: probeRefs(config) },
            { kind: 'checkConnectivity', when: 'preflight' },
          ];
    case 1: {
      if (ready) return [];
      const L = config.labels;
      const acts: Action[] = [];
      for (const n of s.nodes) {
        if (multusNodeFlags(n, config).prepared) continue;
        acts.push({ kind: 'labelNode', node: n.name, labels: { [L['canal-cilium']]: L.value, [L['cni-priority-canal']]: L.value } });
      }
      // Before Cilium runs anywhere: its cilium_host would capture a first-found Calico address.
      acts.push(...calicoAutodetectionFix(ctx));
      acts.push({ kind: 'setNodeSelector', daemonSet: sourceRef(source), selector: { [L['canal-cilium']]: L.value }, via: pinVia(source) });
      acts.push({ kind: 'applyManifests', bundle: 'cilium', objects: bundle('cilium') });
      acts.push({ kind: 'applyManifests', bundle: 'multus', objects: bundle('multus') });
      acts.push({ kind: 'waitRollouts', resources: watched(ctx) });
      acts.push({ kind: 'checkConnectivity', when: 'after installing Cilium and Multus' });
      return acts;
    }
    case 5: {
      if (ready) return [];
      const extra = configuredResources(config.cleanUpResources, config, source).filter((r) => r.namespace !== config.connectivity.namespace);
      // The probes stay until the end: they prove the clean-up itself cut nothing.
      const multusAgents = bundle('multus').filter((o) => o.kind === 'DaemonSet');
      const sourceObjects: ObjectRef[] = pinVia(source) ? [pinVia(source)!] : [sourceRef(source)];
      return [
        { kind: 'setNodeSelector', daemonSet: MULTUS_AGENTS.ciliumMigrated, selector: { [config.labels.cilium]: null } },
        { kind: 'waitRollouts', resources: [MULTUS_AGENTS.ciliumMigrated] },
        { kind: 'deleteObjects', objects: dedupe([...multusAgents, ...extra, ...sourceObjects, sourceRef(source), MULTUS_AGENTS.cilium]) },
        { kind: 'checkConnectivity', when: 'after clean-up' },
      ];
    }
    default:
      return [];
  }
}

function rollActions(node: string, ctx: StrategyContext, expect: NetworkExpectation, promise: string, when: string): Action[] {
  return [
    { kind: 'drain', node },
    { kind: 'deletePods', node },
    { kind: 'uncordon', node },
    { kind: 'waitRollouts', resources: watched(ctx) },
    { kind: 'verifyNodePods', node, expect, promise },
    { kind: 'checkConnectivity', node, when },
  ];
}

function nodeActions(step: number, n: NodeSnapshot, _s: ClusterSnapshot, ctx: StrategyContext): Action[] {
  const { config, source } = ctx;
  const L = config.labels;
  const v = L.value;
  const f = multusNodeFlags(n, config);
  const node = n.name;
  const cidr = config.cilium.podCIDR;
  const before: Action = { kind: 'checkConnectivity', node, when: `before ${node}` };
  if (step === 2) {
    if (f.rolled) return [];
    const expect: NetworkExpectation = { kind: 'interfacesOn', networks: [source.networkName.value, CILIUM_NETWORK] };
    return [before, ...rollActions(node, ctx, expect, 'step 2 (roll) promised', `after rolling ${node}`), { kind: 'labelNode', node, labels: { [L.rolled]: v } }];
  }
  if (step === 3) {
    if (f.priorityRolled) return [];
    const expect: NetworkExpectation = { kind: 'primaryIn', network: CILIUM_NETWORK, cidr, extra: [secondarySourceNetwork(source)] };
    return [
      before,
      { kind: 'labelNode', node, labels: { [L['cni-priority-canal']]: null, [L['cni-priority-cilium']]: v } },
      { kind: 'waitAgentOnNode', node, daemonSet: MULTUS_AGENTS.multusCiliumPrimary },
      ...rollActions(node, ctx, expect, 'step 3 (priority) promised', `after making Cilium primary on ${node}`),
      { kind: 'labelNode', node, labels: { [L['priority-rolled']]: v } },
    ];
  }
  if (step === 4) {
    if (f.migrated) return [];
    return [
      before,
      { kind: 'drain', node },
      { kind: 'taint', node, taint: { key: L.cilium, value: 'cilium', effect: 'NoExecute' } },
      { kind: 'labelNode', node, labels: { [L['canal-cilium']]: null, [L.cilium]: v } },
      { kind: 'waitAgentOnNode', node, daemonSet: MULTUS_AGENTS.ciliumMigrated },
      { kind: 'deletePods', node },
      { kind: 'waitRollouts', resources: watched(ctx) },
      { kind: 'untaint', node, key: L.cilium, effect: 'NoExecute' },
      { kind: 'uncordon', node },
      { kind: 'verifyNodePods', node, expect: { kind: 'onlyOn', network: CILIUM_NETWORK, cidr }, promise: 'step 4 (migrate) promised' },
      { kind: 'labelNode', node, labels: { [L.migrated]: v, [L['cni-priority-cilium']]: null, [L['priority-rolled']]: null, [L.rolled]: null } },
      { kind: 'checkConnectivity', node, when: `after migrating ${node}` },
    ];
  }
  return [];
}

/** The node's phase, from its labels (the strategy's only state). */
function nodePhase(n: NodeSnapshot, ctx: StrategyContext): string {
  const f = multusNodeFlags(n, ctx.config);
  if (f.migrated) return 'migrated';
  if (f.migrating) return 'migrating';
  if (f.priorityRolled) return 'cilium-primary';
  if (f.prioritySwapped) return 'priority-swapping';
  if (f.rolled) return 'rolled';
  if (f.prepared) return 'prepared';
  return ctx.source.kind;
}

/** The multus strategy (the original tool's, the default). */
export const multusStrategy: Strategy = {
  name: 'multus',
  summary: 'Cilium beside the source through Multus; pods roll three times (the original tool)',
  steps: STEPS,
  pointOfNoReturn: { step: 5, why: 'clean-up deletes the source CNI DaemonSet' },
  snapshotQuery: (ctx) => ({
    daemonSets: dedupe([sourceRef(ctx.source), MULTUS_AGENTS.cilium, MULTUS_AGENTS.ciliumMigrated, MULTUS_AGENTS.multusSourcePrimary, MULTUS_AGENTS.multusCiliumPrimary, ...probeRefs(ctx.config)]),
  }),
  readiness,
  stepActions,
  nodeActions,
  nodePhase,
  finalPhase: 'migrated',
  taintKeys: (ctx) => [ctx.config.labels.cilium],
  ciliumPool: (ctx) => [ctx.config.cilium.podCIDR],
  bundleNames: ['probe', 'cilium', 'multus'],
  preflight(ctx) {
    // The bundled Cilium runs beside the source from step 1: its pool and tunnel must be its own.
    const check = calicoAutodetectionCheck(ctx, [ctx.config.cilium.podCIDR]);
    return [foreignCiliumCheck(ctx), ...(ctx.config.paths.cilium === undefined ? ciliumRangeChecks(ctx, bundledCilium(ctx, 'geneve')) : []), ...(check ? [check] : [])];
  },
};

/**
 * The multus strategy installs its own Cilium (DaemonSets cilium and cilium-migrated, its own
 * cilium-config): applied over a Cilium someone else installed — a Helm release most often — it
 * would take that install's objects over and orphan its agents, and the first drain would stop on
 * them. Refused before anything is written; the dual-overlay strategy works with such an install.
 */
export function foreignCiliumCheck(ctx: StrategyContext): PreflightCheck {
  const name = 'no Cilium installed beside the one this strategy installs';
  const c = ctx.facts.cilium;
  if (!c || c.installedByUs || ctx.config.paths.cilium !== undefined) return { name, verdict: 'pass', detail: c ? `DaemonSet ${c.namespace}/${c.daemonSet.name} is the bundled Cilium a previous run installed` : 'no Cilium agent DaemonSet found' };
  const how = c.managedByHelm ? 'installed by Helm' : 'installed outside this tool';
  return {
    name,
    verdict: 'fail',
    detail: `DaemonSet ${c.namespace}/${c.daemonSet.name} already runs Cilium (${how}; pool ${c.settings.pool.join(', ') || 'unset'}, tunnel ${c.settings.tunnelProtocol} port ${c.settings.tunnelPort || 'default'}): the multus strategy would apply its own Cilium over it`,
    fix: `use --strategy dual-overlay, which migrates with the installed Cilium (cni-migration cilium-values shows the Helm values it expects); or uninstall that Cilium first`,
  };
}
