import type { KubeObject, ObjectRef } from '../../kube/kubeTypes.js';
import { Deadline } from '../../ops/deadline.js';
import { waitFor } from '../../ops/waitFor.js';
import { containerNamedPorts, POLICY_BRIDGE_LABEL, policyDocOf, type PolicyPod } from '../../policy/networkPolicySemantics.js';
import { calicoPolicyDocOf, type CalicoPolicyDoc } from '../../policy/calicoPolicySemantics.js';
import { BRIDGE_DENY_ORDER, policyBridge, type PolicyBridge } from '../../policy/policyBridge.js';
import type { Action } from '../plan.js';
import { noPlannedEffect, type ActionKind, type ActionRuntime } from './actionKind.js';

// The NetworkPolicy bridge of a dual-overlay migration from a source that enforces policy
// (src/policy/policyBridge.ts): computed from the policies and pods at the time, applied before
// the first node moves together with Cilium's enforcement (enable-policy default, read by each
// agent as its node switches), read back, and removed in clean-up.

type Of<K extends Action['kind']> = Extract<Action, { kind: K }>;

export const GNP_KIND = { apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkPolicy' } as const;
export const CCNP_KIND = { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy' } as const;
const NP_KIND = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;
const labels = { [POLICY_BRIDGE_LABEL.key]: POLICY_BRIDGE_LABEL.value, 'app.kubernetes.io/part-of': 'cni-migration' };

/**
 * The bridge's objects in the order they are applied: Cilium's allowance and felix's Allow
 * policies first, the Deny policies last. A Deny policy selects every pod, so before the Allow
 * policy that lets through pods no Kubernetes policy isolates exists, Calico's end-of-tier drop
 * would cut them; removal goes the other way (see removalOrder).
 */
export function bridgeObjects(b: PolicyBridge): KubeObject[] {
  const gnp = (p: PolicyBridge['calico'][number]) => ({ ...GNP_KIND, metadata: { name: p.name, labels }, spec: p.spec }) as KubeObject;
  const denies = (p: PolicyBridge['calico'][number]) => p.spec.order === BRIDGE_DENY_ORDER;
  return [
    ...b.cilium.map((p) => ({ ...CCNP_KIND, metadata: { name: p.name, labels }, spec: p.spec })),
    ...b.calico.filter((p) => !denies(p)).map(gnp),
    ...b.calico.filter(denies).map(gnp),
  ];
}

/** Deny policies (felix's, order BRIDGE_DENY_ORDER) go before the rest, each rank gone before the next. */
export function removalRanks(objects: readonly KubeObject[]): KubeObject[][] {
  const isDeny = (o: KubeObject) => o.kind === GNP_KIND.kind && (o as { spec?: { order?: number } }).spec?.order === BRIDGE_DENY_ORDER;
  return [objects.filter(isDeny), objects.filter((o) => !isDeny(o))].filter((r) => r.length);
}

const CALICO_NP_KIND = { apiVersion: 'crd.projectcalico.org/v1', kind: 'NetworkPolicy' } as const;

async function readBridgeInput(rt: ActionRuntime): Promise<{ policies: ReturnType<typeof policyDocOf>[]; calicoPolicies: CalicoPolicyDoc[]; pods: PolicyPod[] }> {
  const policies = (await rt.client.listObjects(NP_KIND)).map(policyDocOf).filter((p) => !p.bridge);
  if (!policies.length) return { policies, calicoPolicies: [], pods: [] };
  // The user's own Calico policies: the pods they select must not be passed on by the bridge.
  const calicoPolicies: CalicoPolicyDoc[] = [];
  for (const kind of [GNP_KIND, CALICO_NP_KIND]) {
    if (!(await rt.client.servesKind(kind))) continue;
    for (const o of await rt.client.listObjects(kind)) {
      const d = calicoPolicyDocOf(o, POLICY_BRIDGE_LABEL);
      if (d && !d.bridge) calicoPolicies.push(d);
    }
  }
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of await rt.client.listObjects({ apiVersion: 'v1', kind: 'Namespace' })) nsLabels.set(ns.metadata.name ?? '', { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name ?? '' });
  const pods: PolicyPod[] = [];
  for (const p of await rt.client.listPods()) {
    if (p.spec?.hostNetwork) continue;
    const namedPorts = containerNamedPorts(p.spec?.containers as unknown[] | undefined);
    const namespace = p.metadata.namespace ?? 'default';
    pods.push({ namespace, labels: p.metadata.labels ?? {}, namespaceLabels: nsLabels.get(namespace) ?? { 'kubernetes.io/metadata.name': namespace }, namedPorts });
  }
  return { policies, calicoPolicies, pods };
}

function specDiffers(have: KubeObject, want: KubeObject): boolean {
  return JSON.stringify((have as { spec?: unknown }).spec) !== JSON.stringify((want as { spec?: unknown }).spec);
}

/** Builds and applies the bridge, turns Cilium's enforcement on for switching nodes, and reads both back. */
export const bridgePoliciesAction: ActionKind<Of<'bridgePolicies'>> = {
  describe: (a) =>
    `bridge NetworkPolicies across the two CNIs: GlobalNetworkPolicies ${GNP_KIND.apiVersion} for felix (deny at the legacy end what migrated pods' policies deny), CiliumClusterwideNetworkPolicy admitting legacy pods (enableDefaultDeny off), ConfigMap ${a.ciliumNamespace}/cilium-config enable-policy default — when NetworkPolicies exist`,
  plan: noPlannedEffect,
  async run(a, rt) {
    const input = await readBridgeInput(rt);
    if (!input.policies.length) {
      // A bridge an earlier run made for policies since deleted goes too.
      const removed = await removeBridgeObjects(rt, () => true);
      rt.events({ type: 'note', message: removed ? `step ${rt.step}: no NetworkPolicy in the cluster any more: removed the earlier policy bridge (${removed})` : `step ${rt.step}: no NetworkPolicy in the cluster, so no policy bridge; Cilium enforces nothing until finalize` });
      return;
    }
    const configRef: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: a.ciliumNamespace, name: 'cilium-config' };
    const before = ((await rt.client.getObject(configRef)) as { data?: Record<string, string> }).data ?? {};
    // cilium#34940: with this key false the agent turns every enableDefaultDeny back on, and the bridge would isolate every switched pod.
    if (before['enable-non-default-deny-policies'] === 'false') {
      throw new Error(`ConfigMap ${a.ciliumNamespace}/cilium-config has enable-non-default-deny-policies "false": Cilium would ignore the bridge's enableDefaultDeny: false and isolate every switched pod. Remove the key (or set it to true), or run with --no-policy-bridge`);
    }
    const bridge = policyBridge({ ...input, ciliumCidrs: a.pool });
    for (const n of bridge.notes) rt.events({ type: 'warning', step: rt.step, message: `policy bridge: ${n}` });
    const objects = bridgeObjects(bridge);
    const wanted = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    const deadline = Deadline.in(rt.config.timeouts.rolloutSeconds * 1000, rt.clock);
    const wait = { deadline, signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs };
    // Cilium's operator registers its CRDs as it starts; Calico's come with the source.
    for (const kind of [GNP_KIND, CCNP_KIND]) {
      await waitFor(`${kind.kind} (${kind.apiVersion}) to be served`, async () => ((await rt.client.servesKind(kind)) ? { done: true, value: true } : { done: false, status: 'not served yet' }), wait);
    }
    for (const o of objects) {
      await rt.client.applyObject(o);
      rt.ops({ type: 'applied', object: `${o.kind} ${o.metadata.name}` });
    }
    rt.events({ type: 'note', message: `step ${rt.step}: policy bridge for ${input.policies.length} NetworkPolicies: ${objects.map((o) => `${o.kind} ${o.metadata.name}`).join(', ')}; Cilium enforces policy (enable-policy default) on each node as it switches` });
    // Objects an earlier run made that these policies no longer need (a policy deleted or changed since).
    await removeBridgeObjects(rt, (o) => !wanted.has(`${o.kind}/${o.metadata.name}`));
    await rt.client.patchObject(configRef, { type: 'merge', body: { data: { 'enable-policy': 'default' } } });
    // Read back what the bridge is for: every object as built, enforcement on for agents that start now.
    const wrong: string[] = [];
    for (const o of objects) {
      const have = await rt.client.getObject({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', name: o.metadata.name ?? '' });
      if (specDiffers(have, o)) wrong.push(`${o.kind} ${o.metadata.name} does not hold the spec applied`);
    }
    const data = ((await rt.client.getObject(configRef)) as { data?: Record<string, string> }).data ?? {};
    if (data['enable-policy'] !== 'default') wrong.push(`ConfigMap ${a.ciliumNamespace}/cilium-config has enable-policy ${data['enable-policy'] ?? '(absent)'}, not default`);
    if (wrong.length) throw new Error(`the NetworkPolicy bridge did not take: ${wrong.join('; ')}`);
  },
};

/** Deletes the labelled bridge objects `which` picks, Deny policies first, each rank gone before the next; returns what went. */
async function removeBridgeObjects(rt: ActionRuntime, which: (o: KubeObject) => boolean): Promise<string> {
  const selector = `${POLICY_BRIDGE_LABEL.key}=${POLICY_BRIDGE_LABEL.value}`;
  const find = async () => {
    const out: KubeObject[] = [];
    for (const kind of [GNP_KIND, CCNP_KIND]) if (await rt.client.servesKind(kind)) out.push(...(await rt.client.listObjects(kind, { labelSelector: selector })));
    return out.filter(which);
  };
  const deadline = Deadline.in(rt.config.timeouts.rolloutSeconds * 1000, rt.clock);
  const found = await find();
  for (const rank of removalRanks(found)) {
    for (const o of rank) await rt.client.deleteObject({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', name: o.metadata.name ?? '' });
    const names = new Set(rank.map((o) => `${o.kind}/${o.metadata.name}`));
    await waitFor(
      'the NetworkPolicy bridge to be gone',
      async () => {
        const left = (await find()).filter((o) => names.has(`${o.kind}/${o.metadata.name}`));
        return left.length ? { done: false, status: left.map((o) => `${o.kind} ${o.metadata.name}`).join(', ') } : { done: true, value: true };
      },
      { deadline, signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs },
    );
  }
  return found.map((o) => `${o.kind} ${o.metadata.name}`).join(', ');
}

/** Deletes the bridge's objects (found by label) and waits until they are gone. */
export const removePolicyBridgeAction: ActionKind<Of<'removePolicyBridge'>> = {
  describe: () => `delete the NetworkPolicy bridge, if any (GlobalNetworkPolicies and CiliumClusterwideNetworkPolicies labelled ${POLICY_BRIDGE_LABEL.key}=${POLICY_BRIDGE_LABEL.value})`,
  plan: noPlannedEffect,
  async run(_a, rt) {
    await removeBridgeObjects(rt, () => true);
  },
};
