import type { ObjectRef, WorkloadKind } from '../../kube/kubeTypes.js';
import { applyManifests } from '../../ops/applyManifests.js';
import { Deadline } from '../../ops/deadline.js';
import { waitForRollouts } from '../../ops/rollout.js';
import { waitFor } from '../../ops/waitFor.js';
import { daemonSetIn } from '../clusterSnapshot.js';
import { describeRef, refOfObject, sameRef, shortRef } from '../objectRefs.js';
import type { Action } from '../plan.js';
import { noPlannedEffect, type ActionKind, type ActionRuntime } from './actionKind.js';

// The actions on whole objects: applying a bundle, pinning a DaemonSet to nodes, waiting for
// rollouts, deleting objects and waiting for their agents to be gone.

type Of<K extends Action['kind']> = Extract<Action, { kind: K }>;

function listed(refs: readonly ObjectRef[], max = 4): string {
  const shown = refs.slice(0, max).map(describeRef);
  return `${shown.join(', ')}${refs.length > max ? `, … (${refs.length} objects)` : ''}`;
}

/** Server-side apply of a rendered bundle (namespaces, then CRDs once Established, then the rest). */
export const applyManifestsAction: ActionKind<Of<'applyManifests'>> = {
  describe: (a) => `apply ${a.bundle} manifests (${a.objects.length} objects: ${listed(a.objects)})`,
  plan(a, s) {
    for (const o of a.objects) {
      if (o.kind === 'DaemonSet' && !daemonSetIn(s, o)) s.daemonSets.push({ namespace: o.namespace ?? '', name: o.name, nodeSelector: {}, rolledOut: true });
      if (o.kind !== 'DaemonSet' && !s.objects.some((x) => sameRef(x, o))) s.objects.push(o);
    }
  },
  async run(a, rt) {
    const objects = rt.manifests[a.bundle];
    if (!objects) throw new Error(`no manifest bundle named ${a.bundle}`);
    // Only what the plan named: the plan printed is the plan executed.
    const wanted = objects.filter((o) => a.objects.some((r) => sameRef(r, refOfObject(o))));
    await applyManifests(rt.client, wanted, { signal: rt.signal, clock: rt.clock, events: rt.ops, deadline: Deadline.in(rt.config.timeouts.rolloutSeconds * 1000, rt.clock), intervalMs: rt.pollIntervalMs });
  },
};

function selectorText(sel: Record<string, string | null>): string {
  return Object.entries(sel)
    .map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`))
    .join(' ');
}

/** Pins a DaemonSet to (or unpins it from) labelled nodes, directly or through the operator's Installation. */
export const setNodeSelectorAction: ActionKind<Of<'setNodeSelector'>> = {
  describe: (a) =>
    a.via
      ? `set nodeSelector ${selectorText(a.selector)} for ${shortRef(a.daemonSet)} through ${describeRef(a.via)} (spec.calicoNodeDaemonSet; the operator reverts direct edits)`
      : `set nodeSelector ${selectorText(a.selector)} on ${shortRef(a.daemonSet)}`,
  plan(a, s) {
    const d = daemonSetIn(s, a.daemonSet);
    if (!d) return;
    for (const [k, v] of Object.entries(a.selector)) {
      if (v === null) delete d.nodeSelector[k];
      else d.nodeSelector[k] = v;
    }
  },
  async run(a, rt) {
    const nodeSelector = { spec: { template: { spec: { nodeSelector: a.selector } } } };
    if (a.via) await rt.client.patchObject(a.via, { type: 'merge', body: { spec: { calicoNodeDaemonSet: nodeSelector } } });
    else await rt.client.patchWorkload('DaemonSet', a.daemonSet.namespace ?? '', a.daemonSet.name, { type: 'merge', body: nodeSelector });
    // The effect, not the write: through an operator the DaemonSet changes only once it reconciles.
    await waitFor(
      a.via ? `${describeRef(a.via)}'s operator to set the nodeSelector on ${shortRef(a.daemonSet)} (is the operator running?)` : `the nodeSelector on ${shortRef(a.daemonSet)}`,
      async () => {
        const ds = await rt.client.getWorkload('DaemonSet', a.daemonSet.namespace ?? '', a.daemonSet.name);
        const have = ((ds.spec?.template as { spec?: { nodeSelector?: Record<string, string> } } | undefined)?.spec?.nodeSelector ?? {});
        const wrong = Object.entries(a.selector).filter(([k, v]) => (v === null ? k in have : have[k] !== v));
        return wrong.length ? { done: false, status: `nodeSelector is ${selectorText(have)}` } : { done: true, value: true };
      },
      { deadline: Deadline.in(rt.config.timeouts.rolloutSeconds * 1000, rt.clock), signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs },
    );
  },
};

const WORKLOAD_KINDS: readonly string[] = ['DaemonSet', 'Deployment', 'StatefulSet'];

/** kubectl rollout status for each resource; a resource that does not exist is reported and skipped. */
export const waitRolloutsAction: ActionKind<Of<'waitRollouts'>> = {
  describe: (a) => `wait for rollout of ${a.resources.map(shortRef).join(', ')}`,
  plan: noPlannedEffect,
  async run(a, rt) {
    for (const r of a.resources) {
      if (!WORKLOAD_KINDS.includes(r.kind)) throw new Error(`cannot wait for the rollout of ${describeRef(r)}: only DaemonSets, Deployments and StatefulSets roll out`);
    }
    const wait = () =>
      waitForRollouts(
        rt.client,
        a.resources.map((r) => ({ kind: r.kind as WorkloadKind, namespace: r.namespace ?? '', name: r.name })),
        { deadline: Deadline.in(rt.config.timeouts.rolloutSeconds * 1000, rt.clock), signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs, events: rt.ops },
      );
    // The nodes of a batch reach this together: one wait serves them (see SharedWaits).
    const outcomes = rt.sharedWaits ? await rt.sharedWaits.join(`rollouts ${a.resources.map(shortRef).join(',')}`, wait) : await wait();
    outcomes.forEach((o, i) => {
      if (o.state === 'missing') rt.events({ type: 'warning', step: rt.step, message: `watched resource ${describeRef(a.resources[i]!)} does not exist; not waiting for it` });
    });
  },
};

/** Deletes objects; for DaemonSets, waits until their pods are gone. */
export const deleteObjectsAction: ActionKind<Of<'deleteObjects'>> = {
  describe: (a) => `delete ${listed(a.objects, 8)}`,
  plan(a, s) {
    s.daemonSets = s.daemonSets.filter((d) => !a.objects.some((o) => o.kind === 'DaemonSet' && sameRef(o, { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: d.namespace, name: d.name })));
    s.objects = s.objects.filter((x) => !a.objects.some((o) => sameRef(o, x)));
  },
  async run(a, rt) {
    for (const o of a.objects) await rt.client.deleteObject(o);
    await waitForDaemonSetPodsGone(a.objects.filter((o) => o.kind === 'DaemonSet'), rt);
  },
};

async function waitForDaemonSetPodsGone(daemonSets: readonly ObjectRef[], rt: ActionRuntime): Promise<void> {
  if (!daemonSets.length) return;
  await waitFor(
    'pods of the deleted DaemonSets to be gone',
    async () => {
      const left: string[] = [];
      for (const ds of daemonSets) {
        const pods = await rt.client.listPods({ namespace: ds.namespace });
        for (const p of pods) if (p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === ds.name)) left.push(`${ds.namespace}/${p.metadata.name}`);
      }
      return left.length ? { done: false, status: `${left.length} pods left (${left.slice(0, 3).join(', ')})` } : { done: true, value: true };
    },
    { deadline: Deadline.in(rt.config.timeouts.podDeletionSeconds * 1000, rt.clock), signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs },
  );
}

/** A patch of any object, described by its purpose. */
export const patchObjectAction: ActionKind<Of<'patchObject'>> = {
  describe: (a) => `${a.what} (${a.patch.type} patch of ${describeRef(a.target)})`,
  plan(a, s) {
    // The snapshot follows ConfigMaps' data (the settings strategies judge readiness by).
    if (a.target.kind !== 'ConfigMap' || a.patch.type !== 'merge') return;
    const data = (a.patch.body as { data?: Record<string, string | null> }).data;
    if (!data) return;
    const key = `${a.target.namespace ?? ''}/${a.target.name}`;
    const next = { ...(s.configMaps?.[key] ?? {}) };
    for (const [k, v] of Object.entries(data)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    s.configMaps = { ...(s.configMaps ?? {}), [key]: next };
  },
  async run(a, rt) {
    await rt.client.patchObject(a.target, a.patch);
  },
};

/** Waits until every node's Calico address annotation is its InternalIP (none captured by cilium_host). */
export const verifyCalicoAddressesAction: ActionKind<Of<'verifyCalicoAddresses'>> = {
  describe: () => "verify every node's Calico address (projectcalico.org/IPv4Address) is its InternalIP",
  plan: noPlannedEffect,
  async run(_a, rt) {
    await waitFor(
      "every node's Calico address to be its InternalIP",
      async () => {
        const wrong: string[] = [];
        for (const n of await rt.client.listNodes()) {
          const ip = ((n.status?.addresses ?? []) as { type: string; address: string }[]).find((x) => x.type === 'InternalIP')?.address;
          const calico = n.metadata.annotations?.['projectcalico.org/IPv4Address']?.split('/')[0];
          if (calico !== undefined && calico !== ip) wrong.push(`${n.metadata.name} uses ${calico} (InternalIP ${ip ?? '?'})`);
        }
        return wrong.length ? { done: false, status: wrong.slice(0, 4).join('; ') } : { done: true, value: true };
      },
      { deadline: Deadline.in(rt.config.timeouts.rolloutSeconds * 1000, rt.clock), signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs },
    );
  },
};
