import { isConflict } from '../../kube/kubeErrors.js';
import type { KubeObject, Pod } from '../../kube/kubeTypes.js';
import { uncordonNode } from '../../ops/cordon.js';
import { Deadline } from '../../ops/deadline.js';
import { deleteNodePods } from '../../ops/deleteNodePods.js';
import { drainNode } from '../../ops/drain.js';
import { labelNode } from '../../ops/label.js';
import { releaseNode } from '../../ops/nodeRelease.js';
import { addTaint, addTaintToNodes, removeTaint } from '../../ops/taint.js';
import { waitFor } from '../../ops/waitFor.js';
import { watchUntil, type WatchTarget, type WatchUntilOptions } from '../../ops/watchUntil.js';
import { runShellCommand } from './shellCommand.js';
import { shortRef } from '../objectRefs.js';
import type { Action } from '../plan.js';
import { shortList } from '../shortList.js';
import { checkNodePods, describeExpectation, podsUnderPromise } from '../podNetworkChecks.js';
import { noPlannedEffect, type ActionKind, type ActionRuntime } from './actionKind.js';

// The actions that work on one node: labels, cordon/drain/uncordon, taints, re-creating its pods,
// waiting for an agent there, and reading back what a step promised about its pods.

type Of<K extends Action['kind']> = Extract<Action, { kind: K }>;

function labelText(l: Record<string, string | null>): string {
  return Object.entries(l)
    .map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`))
    .join(' ');
}

function waitOptions(rt: ActionRuntime, seconds: number) {
  return { deadline: Deadline.in(seconds * 1000, rt.clock), signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs };
}

function watchOptions(rt: ActionRuntime, seconds: number, what: string): WatchUntilOptions {
  return { ...waitOptions(rt, seconds), onRestart: (why) => rt.ops({ type: 'watchRestart', what, why }) };
}

/** The pods of a DaemonSet's namespace on one node, as a watch target. */
function agentPodsOn(node: string, daemonSet: { namespace?: string | undefined }): WatchTarget {
  return { kind: { apiVersion: 'v1', kind: 'Pod' }, namespace: daemonSet.namespace, fieldSelector: `spec.nodeName=${node}` };
}

function ownedBy(objects: readonly KubeObject[], daemonSet: { namespace?: string | undefined; name: string }): Pod[] {
  return (objects as Pod[]).filter((p) => p.metadata.namespace === daemonSet.namespace && p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === daemonSet.name));
}

/** kubectl label node. */
export const labelNodeAction: ActionKind<Of<'labelNode'>> = {
  describe: (a) => `label node ${a.node} ${labelText(a.labels)}`,
  plan(a, s) {
    const n = s.nodes.find((x) => x.name === a.node);
    if (!n) return;
    for (const [k, v] of Object.entries(a.labels)) {
      if (v === null) delete n.labels[k];
      else n.labels[k] = v;
    }
  },
  async run(a, rt) {
    await labelNode(rt.client, a.node, a.labels, rt.ops);
  },
};

/** kubectl drain --ignore-daemonsets, through the eviction API. */
export const drainAction: ActionKind<Of<'drain'>> = {
  describe: (a) => `drain ${a.node} (cordon, evict through the eviction API honouring PodDisruptionBudgets)`,
  plan(a, s) {
    const n = s.nodes.find((x) => x.name === a.node);
    if (n) n.unschedulable = true;
  },
  async run(a, rt) {
    const d = rt.config.drain;
    await drainNode(rt.client, a.node, {
      daemonSetLookups: rt.daemonSetLookups,
      signal: rt.signal,
      clock: rt.clock,
      events: rt.ops,
      ignoreDaemonSets: true,
      deleteEmptyDirData: d.deleteEmptyDirData,
      force: d.force,
      gracePeriodSeconds: d.gracePeriodSeconds,
      evictionRetryDelayMs: d.evictionRetrySeconds * 1000,
      pollIntervalMs: rt.pollIntervalMs,
      deadline: Deadline.in(rt.config.timeouts.drainSeconds * 1000, rt.clock),
    });
  },
};

/** Deletes the node's remaining pod-network pods (DaemonSet pods too), so they are re-created on its current CNI. */
export const deletePodsAction: ActionKind<Of<'deletePods'>> = {
  describe: (a) => `delete the remaining pod-network pods on ${a.node} and wait until they are gone`,
  plan: noPlannedEffect,
  async run(a, rt) {
    await deleteNodePods(rt.client, a.node, { signal: rt.signal, clock: rt.clock, events: rt.ops, deadline: Deadline.in(rt.config.timeouts.podDeletionSeconds * 1000, rt.clock), pollIntervalMs: rt.pollIntervalMs });
  },
};

/** kubectl uncordon. */
export const uncordonAction: ActionKind<Of<'uncordon'>> = {
  describe: (a) => `uncordon ${a.node}`,
  plan(a, s) {
    const n = s.nodes.find((x) => x.name === a.node);
    if (n) n.unschedulable = false;
  },
  async run(a, rt) {
    await uncordonNode(rt.client, a.node, rt.ops);
  },
};

/** kubectl taint node … --overwrite. */
export const taintAction: ActionKind<Of<'taint'>> = {
  describe: (a) => `taint node ${a.node} ${a.taint.key}=${a.taint.value ?? ''}:${a.taint.effect}`,
  plan(a, s) {
    const n = s.nodes.find((x) => x.name === a.node);
    if (!n) return;
    n.taints = n.taints.filter((t) => !(t.key === a.taint.key && t.effect === a.taint.effect));
    n.taints.push({ key: a.taint.key, ...(a.taint.value !== undefined ? { value: a.taint.value } : {}), effect: a.taint.effect });
  },
  async run(a, rt) {
    await addTaint(rt.client, a.node, a.taint, { events: rt.ops, signal: rt.signal });
  },
};

/** kubectl taint node … key:effect-. */
export const untaintAction: ActionKind<Of<'untaint'>> = {
  describe: (a) => `remove taint ${a.key}:${a.effect} from ${a.node}`,
  plan(a, s) {
    const n = s.nodes.find((x) => x.name === a.node);
    if (n) n.taints = n.taints.filter((t) => !(t.key === a.key && t.effect === a.effect));
  },
  async run(a, rt) {
    await removeTaint(rt.client, a.node, { key: a.key, effect: a.effect }, { events: rt.ops, signal: rt.signal });
  },
};

/** kubectl taint node … --overwrite, for many nodes after one list. */
export const taintNodesAction: ActionKind<Of<'taintNodes'>> = {
  describe: (a) => `taint ${a.nodes.length === 1 ? 'node' : `${a.nodes.length} nodes`} ${shortList(a.nodes)} ${a.taint.key}=${a.taint.value ?? ''}:${a.taint.effect}`,
  plan(a, s) {
    for (const node of a.nodes) taintAction.plan({ kind: 'taint', node, taint: a.taint }, s);
  },
  async run(a, rt) {
    await addTaintToNodes(rt.client, a.nodes, a.taint, { events: rt.ops, signal: rt.signal });
  },
};

/** Untaint, uncordon and label in one patch. */
export const releaseNodeAction: ActionKind<Of<'releaseNode'>> = {
  describe: (a) => `release ${a.node}: remove taint ${a.untaint.key}:${a.untaint.effect}, uncordon, label ${labelText(a.labels)} (one patch)`,
  plan(a, s) {
    untaintAction.plan({ kind: 'untaint', node: a.node, key: a.untaint.key, effect: a.untaint.effect }, s);
    uncordonAction.plan({ kind: 'uncordon', node: a.node }, s);
    labelNodeAction.plan({ kind: 'labelNode', node: a.node, labels: a.labels }, s);
  },
  async run(a, rt) {
    await releaseNode(rt.client, a.node, { untaint: a.untaint, labels: a.labels }, { events: rt.ops, signal: rt.signal });
  },
};

function podReady(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Waits until the DaemonSet's pod on the node is Ready (an agent that has written its CNI file, for Cilium). */
export const waitAgentOnNodeAction: ActionKind<Of<'waitAgentOnNode'>> = {
  describe: (a) => `wait until ${shortRef(a.daemonSet)} runs Ready on ${a.node}`,
  plan: noPlannedEffect,
  async run(a, rt) {
    await watchUntil(
      rt.client,
      `${shortRef(a.daemonSet)} Ready on ${a.node}`,
      agentPodsOn(a.node, a.daemonSet),
      (objects) => {
        const mine = ownedBy(objects, a.daemonSet);
        return mine.some(podReady) ? { done: true, value: true } : { done: false, status: mine.length ? `pod ${mine[0]!.metadata.name} not Ready yet` : 'no pod scheduled yet' };
      },
      watchOptions(rt, rt.config.timeouts.rolloutSeconds, `${shortRef(a.daemonSet)} on ${a.node}`),
    );
  },
};

/** The node's pods do not have what the step promised them. */
export class PodNetworkPromiseError extends Error {
  constructor(
    readonly node: string,
    readonly promise: string,
    readonly pods: { pod: string; lacks: string }[],
  ) {
    const shown = pods.slice(0, 8).map((p) => `${p.pod} (${p.lacks})`);
    super(`${pods.length} pod${pods.length === 1 ? '' : 's'} on ${node} lack${pods.length === 1 ? 's' : ''} what ${promise}: ${shown.join('; ')}${pods.length > 8 ? `; and ${pods.length - 8} more` : ''}`);
    this.name = 'PodNetworkPromiseError';
  }
}

/** Reads back the node's pods: every pod-network pod must be running with the promised networks. */
export const verifyNodePodsAction: ActionKind<Of<'verifyNodePods'>> = {
  describe: (a) => `verify every pod-network pod on ${a.node} has ${describeExpectation(a.expect)}`,
  plan: noPlannedEffect,
  async run(a, rt) {
    let last: { pod: string; lacks: string; final?: boolean }[] = [];
    try {
      // One list and a watch of the node's pods, not a list every poll interval.
      await watchUntil(
        rt.client,
        `pods on ${a.node} to have ${describeExpectation(a.expect)}`,
        { kind: { apiVersion: 'v1', kind: 'Pod' }, fieldSelector: `spec.nodeName=${a.node}` },
        (objects) => {
          const pods = objects as Pod[];
          last = checkNodePods(pods, a.expect);
          if (!podsUnderPromise(pods).length) last = [{ pod: `(no pod-network pod on ${a.node})`, lacks: 'nothing to verify: the probe DaemonSets should have a pod here' }];
          if (!last.length) return { done: true, value: true };
          // A running pod lacking a network keeps lacking it: no point waiting for the deadline.
          const final = last.filter((v) => 'final' in v && v.final);
          if (final.length) throw new PodNetworkPromiseError(a.node, a.promise, last);
          return { done: false, status: `${last.length} pods not yet: ${last[0]!.pod} (${last[0]!.lacks})` };
        },
        waitOptions(rt, rt.config.timeouts.rolloutSeconds),
      );
    } catch (e) {
      if (e instanceof Error && e.name === 'WaitTimeoutError' && last.length) throw new PodNetworkPromiseError(a.node, a.promise, last);
      throw e;
    }
  },
};

/** Deletes a DaemonSet's pod on the node and waits for a new one there to be Ready. */
export const restartAgentAction: ActionKind<Of<'restartAgent'>> = {
  describe: (a) => `restart ${shortRef(a.daemonSet)}'s pod on ${a.node} and wait until its replacement is Ready`,
  plan: noPlannedEffect,
  async run(a, rt) {
    // One list finds the pod to delete and starts the watch that sees its replacement Ready.
    const target = agentPodsOn(a.node, a.daemonSet);
    const listed = await rt.client.listWithVersion(target.kind, { namespace: target.namespace, fieldSelector: target.fieldSelector });
    const old = ownedBy(listed.items, a.daemonSet).filter((p) => !p.metadata.deletionTimestamp);
    for (const p of old) await rt.client.deletePod(p.metadata.namespace ?? '', p.metadata.name ?? '', { uid: p.metadata.uid });
    // A pod already terminating when listed is no replacement either.
    const oldUids = new Set(ownedBy(listed.items, a.daemonSet).map((p) => p.metadata.uid));
    await watchUntil(
      rt.client,
      `a new ${shortRef(a.daemonSet)} pod Ready on ${a.node}`,
      target,
      (objects) => {
        const pods = ownedBy(objects, a.daemonSet);
        const fresh = pods.filter((p) => !oldUids.has(p.metadata.uid));
        if (fresh.some(podReady)) return { done: true, value: true };
        return { done: false, status: fresh.length ? `pod ${fresh[0]!.metadata.name} not Ready yet` : pods.some((p) => oldUids.has(p.metadata.uid)) ? 'the old pod is still terminating' : 'no new pod yet' };
      },
      { ...watchOptions(rt, rt.config.timeouts.rolloutSeconds, `${shortRef(a.daemonSet)} on ${a.node}`), initial: listed },
    );
  },
};

/** The pod a node script runs in: bound to the node, privileged, the CNI directory mounted. */
export function nodeScriptPod(a: Of<'runNodeScript'>, namespace: string): Pod {
  const name = `cni-migration-${a.purpose}-${a.node}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63).replace(/-+$/, '');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'cni-migration', 'cni-migration.io/purpose': a.purpose } },
    spec: {
      nodeName: a.node,
      hostNetwork: true,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: a.purpose,
          image: a.image,
          command: ['sh', '-c', a.script],
          securityContext: { privileged: true },
          volumeMounts: [{ name: 'cni-conf-dir', mountPath: '/host/etc/cni/net.d' }],
        },
      ],
      volumes: [{ name: 'cni-conf-dir', hostPath: { path: a.confDir, type: 'Directory' } }],
    },
  };
}

/** Runs a script on a node in a one-shot privileged pod and waits for it to succeed; the pod is removed after. */
export const runNodeScriptAction: ActionKind<Of<'runNodeScript'>> = {
  describe: (a) => `run a privileged pod on ${a.node} (${a.purpose}) over ${a.confDir}: ${a.script}`,
  plan: noPlannedEffect,
  async run(a, rt) {
    const ns = rt.config.connectivity.namespace;
    const pod = nodeScriptPod(a, ns);
    const name = pod.metadata.name!;
    // Created, not applied: a pod left by an interrupted run would keep its old outcome, so it is
    // removed and the pod created afresh (only then: a delete first would cost every node a request).
    try {
      await rt.client.createObject(pod);
    } catch (e) {
      if (!isConflict(e)) throw e;
      if ((await rt.client.deletePod(ns, name, { gracePeriodSeconds: 0 })) === 'deleted') {
        await waitFor(`the previous ${name} to be gone`, async () => ((await podGone(rt, ns, name)) ? { done: true, value: true } : { done: false, status: 'terminating' }), waitOptions(rt, rt.config.timeouts.podDeletionSeconds));
      }
      await rt.client.createObject(pod);
    }
    try {
      await waitFor(
        `pod ${ns}/${name} to succeed`,
        async () => {
          const p = await rt.client.getPod(ns, name);
          const phase = p.status?.phase;
          if (phase === 'Succeeded') return { done: true, value: true };
          if (phase === 'Failed') throw new Error(`pod ${ns}/${name} failed: ${statusMessage(p)}`);
          return { done: false, status: `${phase ?? 'Pending'}${statusMessage(p) ? `: ${statusMessage(p)}` : ''}` };
        },
        waitOptions(rt, rt.config.timeouts.podDeletionSeconds),
      );
    } finally {
      await rt.client.deletePod(ns, name, { gracePeriodSeconds: 0 });
    }
  },
};

async function podGone(rt: ActionRuntime, ns: string, name: string): Promise<boolean> {
  try {
    await rt.client.getPod(ns, name);
    return false;
  } catch (e) {
    if (e instanceof Error && 'code' in e && (e as { code: number }).code === 404) return true;
    throw e;
  }
}

function statusMessage(p: Pod): string {
  const statuses = (p.status as { containerStatuses?: { state?: { waiting?: { message?: string }; terminated?: { message?: string; exitCode?: number } } }[] } | undefined)?.containerStatuses ?? [];
  const s = statuses[0]?.state;
  return s?.waiting?.message ?? (s?.terminated ? `exit code ${s.terminated.exitCode ?? '?'}${s.terminated.message ? `: ${s.terminated.message}` : ''}` : '');
}

/** Runs the user's reboot command with NODE set, then waits for the node to report Ready again. */
export const runHookAction: ActionKind<Of<'runHook'>> = {
  describe: (a) => `run the reboot command for ${a.node} (NODE=${a.node} ${a.command}) and wait until the node is Ready`,
  plan: noPlannedEffect,
  async run(a, rt) {
    await runShellCommand(a.command, { NODE: a.node }, rt.config.timeouts.rolloutSeconds * 1000, rt.signal);
    await waitFor(
      `node ${a.node} Ready after its reboot`,
      async () => {
        const n = await rt.client.getNode(a.node);
        const ready = (n.status?.conditions ?? []).find((c) => c.type === 'Ready');
        return ready?.status === 'True' ? { done: true, value: true } : { done: false, status: `Ready=${ready?.status ?? 'unknown'}` };
      },
      waitOptions(rt, rt.config.timeouts.rolloutSeconds),
    );
  },
};
