import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { KubeObject, ObjectRef, Pod } from '../kube/kubeTypes.js';
import { applyManifests, describeObject } from '../ops/applyManifests.js';
import { systemClock, type Clock } from '../ops/clock.js';
import { cordonNode, uncordonNode } from '../ops/cordon.js';
import { Deadline } from '../ops/deadline.js';
import { deleteNodePods } from '../ops/deleteNodePods.js';
import { drainNode } from '../ops/drain.js';
import { labelNode } from '../ops/label.js';
import type { EventSink } from '../ops/opsEvents.js';
import { listPodsOnNode } from '../ops/podsOnNode.js';
import { waitForRollout } from '../ops/rollout.js';
import { addTaint, removeTaint } from '../ops/taint.js';
import { waitFor } from '../ops/waitFor.js';
import { actionNode, describeAction, type Action, type MigrationPlan, type StepPlan } from './actions.js';
import { ConnectivityLostError, type ConnectivityGate } from './connectivityGate.js';
import type { MigrationEventSink } from './migrationEvents.js';
import { MigrationStepError } from './migrationErrors.js';
import type { StepId } from './steps.js';

/** The rendered manifest bundles the plan applies. */
export interface ManifestBundles {
  probe: KubeObject[];
  cilium: KubeObject[];
  multus: KubeObject[];
}

/** What executing a plan needs. */
export interface ExecutorDeps {
  client: ClusterClient;
  config: MigrationConfig;
  manifests: ManifestBundles;
  gate: ConnectivityGate;
  events: MigrationEventSink;
  signal?: AbortSignal | undefined;
  clock?: Clock;
  /** Poll interval of the waits (rollouts, pods gone); small on the simulated cluster. */
  pollIntervalMs?: number;
  /** The command that resumes this run, for error messages. */
  resumeCommand: string;
}

/** Runs every step of a plan in order; stops at the first failure with the cluster resumable. */
export async function executePlan(plan: MigrationPlan, deps: ExecutorDeps): Promise<void> {
  for (const step of plan.steps) await executeStep(step, deps);
}

async function executeStep(plan: StepPlan, deps: ExecutorDeps): Promise<void> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  deps.events({ type: 'stepStart', step: plan.step, name: plan.name, nodes: plan.nodes, alreadyDone: plan.alreadyDone, at: started });
  for (const n of plan.skippedNodes) deps.events({ type: 'nodeSkipped', step: plan.step, node: n, reason: `already past step ${plan.step}` });
  // Probes exist from step 0 on: monitor continuously from then.
  if (plan.step > 0) deps.gate.startMonitor();
  let currentNode: string | undefined;
  let nodeStarted = 0;
  const finishNode = () => {
    if (currentNode === undefined) return;
    const failures = deps.gate.takeMonitorFailures();
    if (failures.length) {
      throw new MigrationStepError(plan.step, currentNode, 'keep every pod reachable', new ConnectivityLostError(`while step ${plan.step} worked on ${currentNode}`, failures), resumeHint(deps, plan.step, currentNode));
    }
    deps.events({ type: 'nodeDone', step: plan.step, node: currentNode, at: clock.now(), ms: clock.now() - nodeStarted });
    currentNode = undefined;
  };
  for (const action of plan.actions) {
    // Only the per-node steps group actions by node; prepare's node labels are not node work.
    const node = plan.nodes.length ? actionNode(action) : undefined;
    if (node !== undefined && node !== currentNode) {
      finishNode();
      currentNode = node;
      nodeStarted = clock.now();
      deps.events({ type: 'nodeStart', step: plan.step, node, index: plan.nodes.indexOf(node), total: plan.nodes.length, at: nodeStarted });
    }
    const description = describeAction(action);
    const t0 = clock.now();
    deps.events({ type: 'action', step: plan.step, action, description, at: t0 });
    try {
      await runAction(action, plan.step, deps);
    } catch (e) {
      if (e instanceof MigrationStepError) throw e;
      throw new MigrationStepError(plan.step, node, description, e, resumeHint(deps, plan.step, node));
    }
    deps.events({ type: 'actionDone', step: plan.step, action, at: clock.now(), ms: clock.now() - t0 });
    if (plan.step === 0 && action.kind === 'checkConnectivity') deps.gate.startMonitor();
  }
  finishNode();
  const failures = deps.gate.takeMonitorFailures();
  if (failures.length) throw new MigrationStepError(plan.step, undefined, 'keep every pod reachable', new ConnectivityLostError(`during step ${plan.step}`, failures), resumeHint(deps, plan.step, undefined));
  deps.events({ type: 'stepDone', step: plan.step, at: clock.now(), ms: clock.now() - started });
}

function resumeHint(deps: ExecutorDeps, step: StepId, node: string | undefined): string {
  return `Nothing was rolled back: node labels, taints and cordons record how far step ${step} got${node ? ` on ${node}` : ''}. Fix the cause, then re-run the same command (${deps.resumeCommand}) to resume; finished work is skipped. \`cni-migration status\` shows where each node stands.`;
}

async function runAction(a: Action, step: StepId, deps: ExecutorDeps): Promise<void> {
  const { client, config } = deps;
  const ops: EventSink = (event) => deps.events({ type: 'ops', step, event });
  const poll = deps.pollIntervalMs;
  const common = { signal: deps.signal, clock: deps.clock, events: ops };
  switch (a.kind) {
    case 'applyManifests':
      await applyManifests(client, deps.manifests[a.bundle], { ...common, deadline: Deadline.in(config.timeouts.rolloutSeconds * 1000), intervalMs: poll });
      return;
    case 'labelNode':
      await labelNode(client, a.node, a.labels, ops);
      return;
    case 'pinCanal':
      await client.patchWorkload('DaemonSet', 'kube-system', a.daemonSet, { type: 'merge', body: { spec: { template: { spec: { nodeSelector: a.selector } } } } });
      return;
    case 'waitRollouts':
      await waitRollouts(a.resources, step, deps);
      return;
    case 'waitAgentOnNode':
      await waitAgentOnNode(a.node, a.daemonSet, deps);
      return;
    case 'checkConnectivity': {
      const verdict = await deps.gate.checkpoint(deps.signal);
      deps.events({ type: 'connectivity', step, node: a.node, when: a.when, verdict, at: (deps.clock ?? systemClock).now() });
      if (!verdict.ok) throw new ConnectivityLostError(a.when, verdict.failures);
      return;
    }
    case 'drain':
      await cordonNode(client, a.node, ops);
      await drainNode(client, a.node, {
        ...common,
        ignoreDaemonSets: true,
        deleteEmptyDirData: config.drain.deleteEmptyDirData,
        force: config.drain.force,
        gracePeriodSeconds: config.drain.gracePeriodSeconds,
        evictionRetryDelayMs: config.drain.evictionRetrySeconds * 1000,
        pollIntervalMs: poll,
        deadline: Deadline.in(config.timeouts.drainSeconds * 1000),
      });
      return;
    case 'deletePods':
      await deleteNodePods(client, a.node, { ...common, deadline: Deadline.in(config.timeouts.podDeletionSeconds * 1000), pollIntervalMs: poll });
      return;
    case 'uncordon':
      await uncordonNode(client, a.node, ops);
      return;
    case 'taint':
      await addTaint(client, a.node, { key: a.key, value: a.value, effect: a.effect }, { events: ops, signal: deps.signal });
      return;
    case 'untaint':
      await removeTaint(client, a.node, { key: a.key, effect: a.effect }, { events: ops, signal: deps.signal });
      return;
    case 'unpinDaemonSet':
      await client.patchWorkload('DaemonSet', 'kube-system', a.daemonSet, { type: 'merge', body: { spec: { template: { spec: { nodeSelector: { [a.labelKey]: null } } } } } });
      return;
    case 'deleteObjects':
      for (const o of a.objects) {
        const ref = refOf(o, deps.manifests);
        if (ref) await client.deleteObject(ref);
      }
      await waitForDeletedAgents(a.objects, deps);
      return;
  }
}

async function waitRollouts(resources: string[], step: StepId, deps: ExecutorDeps): Promise<void> {
  const kinds = { daemonset: 'DaemonSet', deployment: 'Deployment', statefulset: 'StatefulSet' } as const;
  for (const r of resources) {
    const [kind, namespace, name] = r.split('/') as [keyof typeof kinds, string, string];
    try {
      await waitForRollout(deps.client, { kind: kinds[kind], namespace, name }, {
        deadline: Deadline.in(deps.config.timeouts.rolloutSeconds * 1000),
        signal: deps.signal,
        clock: deps.clock,
        intervalMs: deps.pollIntervalMs,
        events: (event) => deps.events({ type: 'ops', step, event }),
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      deps.events({ type: 'warning', step, message: `watched resource ${kinds[kind]} ${namespace}/${name} does not exist; not waiting for it` });
    }
  }
}

function podReady(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

async function waitAgentOnNode(node: string, daemonSet: string, deps: ExecutorDeps): Promise<void> {
  await waitFor(
    `daemonset ${daemonSet} Ready on ${node}`,
    async () => {
      const pods = await listPodsOnNode(deps.client, node);
      const mine = pods.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === daemonSet));
      return mine.some(podReady) ? { done: true, value: true } : { done: false, status: mine.length ? `pod ${mine[0]!.metadata.name} not Ready yet` : 'no pod scheduled yet' };
    },
    { deadline: Deadline.in(deps.config.timeouts.rolloutSeconds * 1000), signal: deps.signal, clock: deps.clock, intervalMs: deps.pollIntervalMs },
  );
}

async function waitForDeletedAgents(objects: string[], deps: ExecutorDeps): Promise<void> {
  const names = objects.filter((o) => o.startsWith('DaemonSet ')).map((o) => o.slice('DaemonSet '.length).split('/') as [string, string]);
  await waitFor(
    'pods of the deleted DaemonSets to be gone',
    async () => {
      const left: string[] = [];
      for (const [ns, name] of names) {
        const pods = await deps.client.listPods({ namespace: ns });
        for (const p of pods) if (p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === name)) left.push(`${ns}/${p.metadata.name}`);
      }
      return left.length ? { done: false, status: `${left.length} pods left (${left.slice(0, 3).join(', ')})` } : { done: true, value: true };
    },
    { deadline: Deadline.in(deps.config.timeouts.podDeletionSeconds * 1000), signal: deps.signal, clock: deps.clock, intervalMs: deps.pollIntervalMs },
  );
}

function refOf(described: string, bundles: ManifestBundles): ObjectRef | undefined {
  const all = [...bundles.multus, ...bundles.cilium, ...bundles.probe];
  const hit = all.find((o) => describeObject(o) === described);
  if (hit) return { apiVersion: hit.apiVersion ?? '', kind: hit.kind ?? '', name: hit.metadata.name ?? '', namespace: hit.metadata.namespace };
  const m = /^(DaemonSet|Deployment|StatefulSet) (\S+)\/(\S+)$/.exec(described);
  return m ? { apiVersion: 'apps/v1', kind: m[1]!, namespace: m[2]!, name: m[3]! } : undefined;
}

/** "Kind namespace/name" of every object in a bundle, for plans. */
export function inventoryOf(objects: KubeObject[]): string[] {
  return objects.map(describeObject);
}
