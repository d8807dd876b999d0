import { MIGRATION_NODE_LABEL } from '../../../cilium/ciliumInstall.js';
import { ciliumConfigPhase, CILIUM_KEYS, missingPhaseKeys } from '../../../cilium/ciliumSettings.js';
import type { MigrationConfig } from '../../../config/configSchema.js';
import type { ObjectRef } from '../../../kube/kubeTypes.js';
import type { SourceDescription } from '../../../source/sourceTypes.js';
import { daemonSetIn, objectIn, type ClusterSnapshot, type NodeSnapshot } from '../../clusterSnapshot.js';
import { daemonSetRef, sameRef } from '../../objectRefs.js';
import type { Action } from '../../plan.js';
import { isControlPlaneNode } from '../../nodeBatches.js';
import type { NodeOrder, StepDef, StepReadiness, Strategy, StrategyContext } from '../../strategy.js';
import { shortList } from '../../shortList.js';
import { calicoAutodetectionFix } from '../calicoAutodetection.js';
import { dualOverlayPreflight, plannedCilium } from './dualOverlayPreflight.js';

// Cilium's own per-node procedure ("Migrating a cluster to Cilium"): Cilium installed latent on
// every node with its own pool and tunnel port, then node by node a CiliumNodeConfig label and an
// agent restart make Cilium the node's CNI, and the node's pods roll once. Pods of both CNIs reach
// each other over Cilium's tunnel and the nodes' host routing meanwhile. A node whose gate fails is
// rolled back at once. Finalize makes Cilium manage the CNI file everywhere (the point of no
// return); clean-up removes the CiliumNodeConfig and the source CNI.

const STEPS: readonly StepDef[] = [
  { id: 0, name: 'preflight', title: 'Preflight: probe DaemonSets deployed and every pod pair reachable', perNode: false },
  { id: 1, name: 'install', title: 'Install: Cilium latent on every node (own pool and tunnel port, no CNI file), and the CiliumNodeConfig', perNode: false },
  { id: 2, name: 'migrate', title: 'Migrate: node by node, the CiliumNodeConfig label and an agent restart make Cilium its CNI; its pods roll once', perNode: true },
  { id: 3, name: 'finalize', title: 'Finalize: Cilium manages the CNI file and enforces policy everywhere; agents restarted node by node', perNode: true },
  { id: 4, name: 'clean-up', title: 'Clean up: the CiliumNodeConfig and the source CNI removed, leftover CNI files swept', perNode: false },
];

/** Our node labels (the Cilium label is the guide's): a node's switch verified, its agent restarted on the final config. */
export const DUAL_LABELS = { migrated: 'cni-migration.io/migrated', finalized: 'cni-migration.io/finalized' } as const;
/**
 * A soft taint on every node not yet on Cilium while step 2 runs: pods drained from a node then
 * prefer nodes already switched, so most of them roll once rather than once per node they pass.
 */
export const PENDING_TAINT = { key: 'cni-migration.io/not-migrated', effect: 'PreferNoSchedule' } as const;
const NODE_CONFIG_NAME = 'cilium-default';
const CILIUM_NETWORK = 'cilium';

function probeRefs(config: MigrationConfig): ObjectRef[] {
  return config.connectivity.daemonSets.map((d) => daemonSetRef(config.connectivity.namespace, d));
}

function sourceRef(source: SourceDescription): ObjectRef {
  return daemonSetRef(source.daemonSet.namespace, source.daemonSet.name);
}

/** The Cilium agent DaemonSet: the installed one, else the bundle's. */
export function ciliumRef(ctx: StrategyContext): ObjectRef {
  if (ctx.facts.cilium) return ctx.facts.cilium.daemonSet;
  const fromBundle = (ctx.bundles.cilium ?? []).find((o) => o.kind === 'DaemonSet');
  return fromBundle ?? daemonSetRef(ctx.config.cilium.namespace, 'cilium');
}

function ciliumNamespace(ctx: StrategyContext): string {
  return ciliumRef(ctx).namespace ?? ctx.config.cilium.namespace;
}

const nodeConfigRefs = (ns: string): ObjectRef[] => [
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNodeConfig', namespace: ns, name: NODE_CONFIG_NAME },
  { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumNodeConfig', namespace: ns, name: NODE_CONFIG_NAME },
];

function hasNodeConfig(s: ClusterSnapshot, ctx: StrategyContext): boolean {
  return nodeConfigRefs(ciliumNamespace(ctx)).some((r) => objectIn(s, r));
}

function ciliumConfig(s: ClusterSnapshot, ctx: StrategyContext): Record<string, string> | undefined {
  return s.configMaps?.[`${ciliumNamespace(ctx)}/cilium-config`];
}

function isFinalConfig(s: ClusterSnapshot, ctx: StrategyContext): boolean {
  const data = ciliumConfig(s, ctx);
  return data !== undefined && missingPhaseKeys(data, 'final').length === 0;
}

const has = (n: NodeSnapshot, key: string) => n.labels[key] === 'true';

function readiness(step: number, s: ClusterSnapshot, ctx: StrategyContext): StepReadiness {
  const not = (reason: string): StepReadiness => ({ step, ready: false, reason });
  const ok: StepReadiness = { step, ready: true, reason: 'done' };
  const cilium = daemonSetIn(s, ciliumRef(ctx));
  const cleanedUp = !daemonSetIn(s, sourceRef(ctx.source)) && !hasNodeConfig(s, ctx) && s.nodes.every((n) => has(n, DUAL_LABELS.finalized));
  switch (step) {
    case 0: {
      const missing = probeRefs(ctx.config).filter((r) => !daemonSetIn(s, r)?.rolledOut);
      return missing.length ? not(`probe DaemonSets not deployed and rolled out: ${missing.map((m) => `${m.namespace}/${m.name}`).join(', ')}`) : ok;
    }
    case 1:
      if (!cilium?.rolledOut) return not(`Cilium (${ciliumRef(ctx).namespace}/${ciliumRef(ctx).name}) not installed and rolled out`);
      if (!hasNodeConfig(s, ctx) && !cleanedUp && !isFinalConfig(s, ctx)) return not(`CiliumNodeConfig ${ciliumNamespace(ctx)}/${NODE_CONFIG_NAME} not created`);
      return ok;
    case 2: {
      const left = s.nodes.filter((n) => !has(n, DUAL_LABELS.migrated)).map((n) => n.name);
      return left.length ? not(`nodes not migrated: ${shortList(left)}`) : ok;
    }
    case 3: {
      if (!isFinalConfig(s, ctx)) return not(`cilium-config is not in its final shape yet: ${missingPhaseKeys(ciliumConfig(s, ctx) ?? {}, 'final').slice(0, 3).join('; ')}`);
      const left = s.nodes.filter((n) => !has(n, DUAL_LABELS.finalized)).map((n) => n.name);
      return left.length ? not(`agents not restarted on the final configuration: ${shortList(left)}`) : ok;
    }
    case 4:
      if (daemonSetIn(s, sourceRef(ctx.source))) return not(`the source CNI's DaemonSet ${ctx.source.daemonSet.namespace}/${ctx.source.daemonSet.name} is still installed`);
      return hasNodeConfig(s, ctx) ? not(`CiliumNodeConfig ${ciliumNamespace(ctx)}/${NODE_CONFIG_NAME} still exists`) : ok;
    default:
      return not(`no step ${step}`);
  }
}

function stepActions(step: number, s: ClusterSnapshot, ctx: StrategyContext): Action[] {
  const { config } = ctx;
  const ready = readiness(step, s, ctx).ready;
  const bundle = (name: string) => [...(ctx.bundles[name] ?? [])];
  const ns = ciliumNamespace(ctx);
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
      const acts: Action[] = [...calicoAutodetectionFix(ctx)];
      const installed = ctx.facts.cilium !== undefined || daemonSetIn(s, ciliumRef(ctx)) !== undefined;
      if (!installed) acts.push({ kind: 'applyManifests', bundle: 'cilium', objects: bundle('cilium') });
      const waits = [ciliumRef(ctx), ...bundle('cilium').filter((o) => o.kind === 'Deployment')];
      acts.push({ kind: 'waitRollouts', resources: waits });
      const bridged = bridgesPolicies(ctx);
      acts.push({ kind: 'verifyCilium', daemonSet: ciliumRef(ctx), phase: 'latent', pool: plannedCilium(ctx).pool, ...(bridged ? { policyBridged: true } : {}) });
      // Before the CiliumNodeConfig, which makes step 1 count as done: a resumed run still bridges.
      if (bridged) acts.push({ kind: 'bridgePolicies', ciliumNamespace: ns, pool: plannedCilium(ctx).pool });
      acts.push({ kind: 'createNodeConfig', namespace: ns, name: NODE_CONFIG_NAME });
      acts.push({ kind: 'checkConnectivity', when: 'after installing Cilium (latent on every node)' });
      return acts;
    }
    case 2: {
      if (ready) return [];
      const untainted = s.nodes.filter((n) => !has(n, DUAL_LABELS.migrated) && !n.taints.some((t) => t.key === PENDING_TAINT.key && t.effect === PENDING_TAINT.effect)).map((n) => n.name);
      // Again at every run of the step: policies created, changed or deleted since step 1 are bridged as they are now.
      const bridge: Action[] = bridgesPolicies(ctx) ? [{ kind: 'bridgePolicies', ciliumNamespace: ns, pool: plannedCilium(ctx).pool }] : [];
      return [...bridge, ...(untainted.length ? [{ kind: 'taintNodes' as const, nodes: untainted, taint: { ...PENDING_TAINT, value: ctx.source.kind } }] : [])];
    }
    case 3: {
      if (isFinalConfig(s, ctx)) return [];
      // A Cilium Helm manages is changed with Helm (`cni-migration cilium-values --phase final`), not behind its back.
      if (ctx.facts.cilium?.managedByHelm) return [{ kind: 'verifyCilium', daemonSet: ciliumRef(ctx), phase: 'final', pool: plannedCilium(ctx).pool }];
      return [
        {
          kind: 'patchObject',
          target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cilium-config' },
          patch: { type: 'merge', body: { data: ciliumConfigPhase('final') } },
          what: `set cilium-config's post-migration settings (${CILIUM_KEYS.writeConf}, ${CILIUM_KEYS.customConf} false, ${CILIUM_KEYS.exclusive}, ${CILIUM_KEYS.policy} default, ${CILIUM_KEYS.podWatcher} 15)`,
        },
      ];
    }
    case 4: {
      if (ready) return [];
      // The bridge first (whatever this run's settings: an earlier run may have made it): while the
      // CiliumNodeConfig exists, a resumed clean-up runs again.
      const acts: Action[] = [{ kind: 'removePolicyBridge' }, { kind: 'deleteNodeConfig', namespace: ns, name: NODE_CONFIG_NAME }];
      const src = ctx.source.installation ? [{ apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: ctx.source.installation.name }, sourceRef(ctx.source)] : [sourceRef(ctx.source)];
      acts.push({ kind: 'deleteObjects', objects: src });
      if (config.dualOverlay.sweepLeftovers) {
        for (const n of s.nodes) acts.push(sweepAction(n.name, ctx));
      }
      acts.push({ kind: 'checkConnectivity', when: 'after clean-up' });
      return acts;
    }
    default:
      return [];
  }
}

/**
 * Whether the run bridges NetworkPolicies across the two CNIs (src/policy/policyBridge.ts): when
 * the source enforces them (Calico's felix), this tool may change cilium-config (not a Cilium Helm
 * manages) and dualOverlay.policyBridge is on. Otherwise Cilium's documented enable-policy never
 * stays until finalize, and the preflight says what it costs.
 */
export function bridgesPolicies(ctx: Pick<StrategyContext, 'source' | 'facts' | 'config'>): boolean {
  return ctx.config.dualOverlay.policyBridge && ctx.source.policyEnforcement === 'calico' && !ctx.facts.cilium?.managedByHelm;
}

function sweepAction(node: string, ctx: StrategyContext): Action {
  const file = `/host/etc/cni/net.d/${ctx.source.confFile.value}`;
  return { kind: 'runNodeScript', node, purpose: 'sweep', image: ctx.config.images.cilium, confDir: ctx.source.confDir.value, script: `rm -f ${file}.cilium_bak ${file}` };
}

/** The file moves of a rollback: Cilium's file away, the source's back from its .cilium_bak. */
function restoreScript(ctx: StrategyContext): string {
  const dir = '/host/etc/cni/net.d';
  const file = `${dir}/${ctx.source.confFile.value}`;
  return `rm -f ${dir}/05-cilium.conflist && if [ -f ${file}.cilium_bak ]; then mv -f ${file}.cilium_bak ${file}; fi`;
}

/** Puts one node back on the source CNI (Cilium's migration guide, per-node rollback). */
function rollbackActions(n: NodeSnapshot, _s: ClusterSnapshot, ctx: StrategyContext): Action[] {
  const node = n.name;
  const { source } = ctx;
  return [
    { kind: 'drain', node },
    // The label first: an agent restarted on the label would rename the restored file again.
    { kind: 'labelNode', node, labels: { [MIGRATION_NODE_LABEL]: null, [DUAL_LABELS.migrated]: null } },
    { kind: 'restartAgent', node, daemonSet: ciliumRef(ctx) },
    { kind: 'runNodeScript', node, purpose: 'restore', image: ctx.config.images.cilium, confDir: source.confDir.value, script: restoreScript(ctx) },
    // The source's installer writes its configuration afresh as its pod starts.
    { kind: 'restartAgent', node, daemonSet: sourceRef(source) },
    { kind: 'deletePods', node },
    { kind: 'verifyNodePods', node, expect: { kind: 'primaryIn', network: source.networkName.value, cidr: source.podCIDRs.value[0] ?? '0.0.0.0/0', extra: [] }, promise: 'the rollback promised' },
    { kind: 'checkConnectivity', node, when: `after rolling ${node} back` },
    { kind: 'taint', node, taint: { ...PENDING_TAINT, value: source.kind } },
    { kind: 'uncordon', node },
  ];
}

/**
 * Step 2 takes first a node caught mid-switch (a resumed run), else — before any node is on
 * Cilium — the node with the fewest pods a drain moves: pods drained before any node is migrated
 * land on nodes still to come and roll twice; after it, the pending taint sends them to migrated
 * nodes. The rest go by name.
 */
function nodeOrder(step: number, nodes: readonly NodeSnapshot[]): NodeOrder {
  const ordered = [...nodes];
  if (step !== 2) return { nodes: ordered };
  // The pending taint keeps drained pods off nodes not yet switched: only switched nodes take them.
  const receivers = ordered.filter((n) => has(n, DUAL_LABELS.migrated)).length;
  const switching = ordered.filter((n) => has(n, MIGRATION_NODE_LABEL) && !has(n, DUAL_LABELS.migrated));
  if (switching.length) return { nodes: [...switching, ...ordered.filter((n) => !switching.includes(n))], receivers, note: `${switching.map((n) => n.name).join(', ')} first: caught mid-switch by an earlier run` };
  if (receivers) return { nodes: ordered, receivers };
  // Control-plane nodes go last (src/migration/nodeBatches.ts), so the first is a worker where there is one.
  const workers = ordered.filter((n) => !isControlPlaneNode(n));
  const first = (workers.length ? workers : ordered).reduce<NodeSnapshot | undefined>((best, n) => (best === undefined || (n.movablePods ?? 0) < (best.movablePods ?? 0) ? n : best), undefined);
  if (!first) return { nodes: ordered };
  const pods = first.movablePods ?? 0;
  return {
    nodes: [first, ...ordered.filter((n) => n !== first)],
    // Alone: every node switched with it would have its pods roll twice too.
    alone: 1,
    receivers,
    note: `${first.name} first and alone: it runs the fewest pods a drain moves (${pods}), the only pods to roll twice; later nodes' pods land on switched nodes and roll once (--nodes sets another order)`,
  };
}

function nodeActions(step: number, n: NodeSnapshot, _s: ClusterSnapshot, ctx: StrategyContext): Action[] {
  const node = n.name;
  const pool = plannedCilium(ctx).pool;
  const onCilium = { kind: 'onlyOn' as const, network: CILIUM_NETWORK, cidr: pool[0] ?? '0.0.0.0/0' };
  if (step === 2) {
    if (has(n, DUAL_LABELS.migrated)) return [];
    const hook: Action[] = ctx.config.dualOverlay.rebootCommand ? [{ kind: 'runHook', node, command: ctx.config.dualOverlay.rebootCommand }] : [];
    return [
      { kind: 'checkConnectivity', node, when: `before ${node}` },
      { kind: 'drain', node },
      { kind: 'labelNode', node, labels: { [MIGRATION_NODE_LABEL]: 'true' } },
      // The agent reads the CiliumNodeConfig only at start: now it writes 05-cilium.conflist, which sorts first.
      { kind: 'restartAgent', node, daemonSet: ciliumRef(ctx) },
      ...hook,
      { kind: 'deletePods', node },
      { kind: 'verifyNodePods', node, expect: onCilium, promise: 'step 2 (migrate) promised' },
      { kind: 'checkConnectivity', node, when: `after switching ${node} to Cilium` },
      // One write: a node uncordoned is a node recorded as switched, even if the run stops right here.
      { kind: 'releaseNode', node, untaint: { key: PENDING_TAINT.key, effect: PENDING_TAINT.effect }, labels: { [DUAL_LABELS.migrated]: 'true' } },
    ];
  }
  if (step === 3) {
    if (has(n, DUAL_LABELS.finalized)) return [];
    return [
      { kind: 'checkConnectivity', node, when: `before restarting ${node}'s agent on the final configuration` },
      { kind: 'restartAgent', node, daemonSet: ciliumRef(ctx) },
      { kind: 'verifyNodePods', node, expect: onCilium, promise: 'step 3 (finalize) promised' },
      { kind: 'checkConnectivity', node, when: `after restarting ${node}'s agent` },
      { kind: 'labelNode', node, labels: { [DUAL_LABELS.finalized]: 'true' } },
    ];
  }
  return [];
}

/** The dual-overlay strategy (Cilium's documented per-node migration). */
export const dualOverlayStrategy: Strategy = {
  name: 'dual-overlay',
  summary: "Cilium's own per-node procedure: Cilium latent beside the source, nodes switched one by one; pods roll once",
  steps: STEPS,
  pointOfNoReturn: { step: 3, why: 'finalize turns Cilium CNI file management on for every node; a node can then only go back by reinstalling the source CNI' },
  bundleNames: ['probe', 'cilium'],
  snapshotQuery: (ctx) => ({
    daemonSets: [sourceRef(ctx.source), ciliumRef(ctx), ...probeRefs(ctx.config)].filter((r, i, all) => all.findIndex((x) => sameRef(x, r)) === i),
    objects: nodeConfigRefs(ciliumNamespace(ctx)),
    configMaps: [{ namespace: ciliumNamespace(ctx), name: 'cilium-config' }],
    movablePods: true,
  }),
  readiness,
  stepActions,
  nodeOrder,
  nodeActions,
  nodeRollback: (step, n, s, ctx) => (step === 2 ? rollbackActions(n, s, ctx).filter((a) => a.kind !== 'drain') : undefined),
  finalPhase: 'finalized',
  nodePhase(n, ctx) {
    if (has(n, DUAL_LABELS.finalized)) return 'finalized';
    if (has(n, DUAL_LABELS.migrated)) return 'migrated';
    if (has(n, MIGRATION_NODE_LABEL)) return 'switching';
    return ctx.source.kind;
  },
  taintKeys: () => [PENDING_TAINT.key],
  ciliumPool: (ctx) => plannedCilium(ctx).pool,
  preflight: dualOverlayPreflight,
  rollbackActions,
  rollbackRefusal(s, ctx) {
    if (isFinalConfig(s, ctx) || s.nodes.some((n) => has(n, DUAL_LABELS.finalized))) {
      return 'the migration is past its point of no return (step 3 finalize made Cilium manage the CNI file on every node): a node can only go back by reinstalling the source CNI';
    }
    return undefined;
  },
};
