import { NODE_CONFIG_KINDS, migrationNodeConfig } from '../../cilium/ciliumInstall.js';
import { ciliumConfigPhase, ciliumSettingsOf, missingPhaseKeys } from '../../cilium/ciliumSettings.js';
import { isNotFound, NoKindMatchError } from '../../kube/kubeErrors.js';
import type { KubeObject } from '../../kube/kubeTypes.js';
import { cidrCovers, parseCidr } from '../../net/ipv4.js';
import { Deadline } from '../../ops/deadline.js';
import { daemonSetRolloutStatus } from '../../ops/rollout.js';
import { waitFor } from '../../ops/waitFor.js';
import { objectIn } from '../clusterSnapshot.js';
import { describeRef, shortRef } from '../objectRefs.js';
import type { Action } from '../plan.js';
import { type ActionKind, type ActionRuntime } from './actionKind.js';

// The actions that speak Cilium: its CiliumNodeConfig, and reading back what an installed Cilium
// does (agents Ready, each node's range from the pool, the config in the phase's shape).

type Of<K extends Action['kind']> = Extract<Action, { kind: K }>;

function waitOptions(rt: ActionRuntime, seconds: number) {
  return { deadline: Deadline.in(seconds * 1000, rt.clock), signal: rt.signal, clock: rt.clock, intervalMs: rt.pollIntervalMs };
}

const nodeConfigRef = (namespace: string, name: string) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNodeConfig', namespace, name });

/** The CiliumNodeConfig kind the server serves now (the operator registers it), newest first. */
async function servedNodeConfigVersion(rt: ActionRuntime): Promise<string | undefined> {
  for (const k of NODE_CONFIG_KINDS) if (await rt.client.servesKind(k)) return k.apiVersion;
  return undefined;
}

/** Creates Cilium's migration CiliumNodeConfig once the operator has registered its CRD. */
export const createNodeConfigAction: ActionKind<Of<'createNodeConfig'>> = {
  describe: (a) => `create CiliumNodeConfig ${a.namespace}/${a.name} (cilium.io/v2, or v2alpha1 where only that is served) turning CNI file management on for nodes labelled io.cilium.migration/cilium-default=true`,
  plan(a, s) {
    if (!objectIn(s, nodeConfigRef(a.namespace, a.name))) s.objects.push(nodeConfigRef(a.namespace, a.name));
  },
  async run(a, rt) {
    const version = await waitFor(
      'cilium-operator to register the CiliumNodeConfig CRD (the Cilium chart ships none)',
      async () => {
        const v = await servedNodeConfigVersion(rt);
        return v ? { done: true, value: v } : { done: false, status: 'neither cilium.io/v2 nor cilium.io/v2alpha1 CiliumNodeConfig is served yet' };
      },
      waitOptions(rt, rt.config.timeouts.rolloutSeconds),
    );
    await rt.client.applyObject(migrationNodeConfig(version, a.namespace, a.name));
  },
};

/** Deletes the migration CiliumNodeConfig. */
export const deleteNodeConfigAction: ActionKind<Of<'deleteNodeConfig'>> = {
  describe: (a) => `delete CiliumNodeConfig ${a.namespace}/${a.name}`,
  plan(a, s) {
    s.objects = s.objects.filter((o) => !(o.kind === 'CiliumNodeConfig' && o.namespace === a.namespace && o.name === a.name));
  },
  async run(a, rt) {
    const version = await servedNodeConfigVersion(rt);
    if (!version) return;
    await rt.client.deleteObject({ apiVersion: version, kind: 'CiliumNodeConfig', namespace: a.namespace, name: a.name });
  },
};

/** What is wrong with an installed Cilium for a phase, or undefined when nothing is. */
async function ciliumProblem(a: Of<'verifyCilium'>, rt: ActionRuntime): Promise<string | undefined> {
  const ns = a.daemonSet.namespace ?? 'kube-system';
  const ds = await rt.client.getWorkload('DaemonSet', ns, a.daemonSet.name);
  const rollout = daemonSetRolloutStatus(ds);
  if (!rollout.done) return `${shortRef(a.daemonSet)}: ${rollout.message.trim()}`;
  let data: Record<string, string>;
  try {
    data = ((await rt.client.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cilium-config' })) as { data?: Record<string, string> }).data ?? {};
  } catch (e) {
    if (!isNotFound(e)) throw e;
    return `ConfigMap ${ns}/cilium-config does not exist`;
  }
  const settings = ciliumSettingsOf(data, `ConfigMap ${ns}/cilium-config`);
  if (a.phase === 'latent') {
    if (settings.managesCniFile) return `ConfigMap ${ns}/cilium-config makes every agent write its CNI file (write-cni-conf-when-ready ${data['write-cni-conf-when-ready']}): it must be latent (cni.customConf=true)`;
    const bridgedDefault = a.policyBridged && settings.policyEnforcement === 'default';
    if (settings.policyEnforcement !== 'never' && !bridgedDefault) return `ConfigMap ${ns}/cilium-config has enable-policy ${settings.policyEnforcement}: the mixed phase needs never${a.policyBridged ? ' (or default, as the policy bridge sets it)' : ''}`;
  } else {
    const missing = missingPhaseKeys(data, 'final');
    // Only Helm can change a Helm-managed config: no point waiting for it.
    if (missing.length) throw new Error(`ConfigMap ${ns}/cilium-config is not in its final shape: ${missing.join('; ')}. Apply the post-migration values with Helm (cni-migration cilium-values --phase final > values-final.yaml; helm upgrade cilium cilium/cilium -n ${ns} --reuse-values -f values-final.yaml), then re-run the same command`);
  }
  return ciliumNodeRangeProblem(await listCiliumNodes(rt), a.pool);
}

async function listCiliumNodes(rt: ActionRuntime): Promise<KubeObject[] | undefined> {
  try {
    return await rt.client.listObjects({ apiVersion: 'cilium.io/v2', kind: 'CiliumNode' });
  } catch (e) {
    if (e instanceof NoKindMatchError) return undefined;
    throw e;
  }
}

/** A CiliumNode whose range lies outside the planned pool (cilium#33861: a mis-set pool is silently ignored). */
export function ciliumNodeRangeProblem(nodes: readonly KubeObject[] | undefined, pool: readonly string[]): string | undefined {
  if (!nodes) return undefined;
  const pools = pool.map(parseCidr).filter((p) => p !== undefined);
  for (const n of nodes) {
    const cidrs = ((n.spec as { ipam?: { podCIDRs?: string[] } } | undefined)?.ipam?.podCIDRs ?? []).filter((c) => !c.includes(':'));
    for (const c of cidrs) {
      const p = parseCidr(c);
      if (p && !pools.some((q) => cidrCovers(q, p))) return `CiliumNode ${n.metadata.name} has pod range ${c}, outside the planned pool ${pool.join(', ')}: check ipam.operator.clusterPoolIPv4PodCIDRList`;
    }
  }
  return undefined;
}

/** Reads back an installed Cilium; waits (bounded) for agents to roll out. */
export const verifyCiliumAction: ActionKind<Of<'verifyCilium'>> = {
  describe: (a) =>
    a.phase === 'latent'
      ? `verify Cilium is latent on every node: ${describeRef(a.daemonSet)} rolled out, cilium-config writes no CNI file and enforces no policy, every CiliumNode's range inside ${a.pool.join(', ')}`
      : `verify cilium-config is in its final shape (CNI file managed, exclusive, policy enforced) and ${describeRef(a.daemonSet)} rolled out`,
  // The run stops here unless the check passes, so the steps after it are planned on what it verified.
  plan(a, s) {
    if (a.phase !== 'final') return;
    const key = `${a.daemonSet.namespace ?? 'kube-system'}/cilium-config`;
    const next = { ...(s.configMaps?.[key] ?? {}) };
    for (const [k, v] of Object.entries(ciliumConfigPhase('final'))) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    s.configMaps = { ...(s.configMaps ?? {}), [key]: next };
  },
  async run(a, rt) {
    let last: string | undefined;
    try {
      await waitFor(
        `Cilium to be ${a.phase}`,
        async () => {
          last = await ciliumProblem(a, rt);
          return last ? { done: false, status: last } : { done: true, value: true };
        },
        waitOptions(rt, rt.config.timeouts.rolloutSeconds),
      );
    } catch (e) {
      if (e instanceof Error && e.name === 'WaitTimeoutError' && last) throw new Error(last, { cause: e });
      throw e;
    }
  },
};
