/**
 * Reads what the cluster preflight judges — nodes, pods, budgets, workloads, webhooks, the
 * version, the permissions the plan needs — and runs the rules (clusterChecks.ts). Reads only:
 * a SelfSubjectAccessReview is a POST, but the API server stores nothing for it.
 */
import type { ClusterClient, KindRef } from '../kube/clusterClient.js';
import { isForbidden, isNotFound, NoKindMatchError } from '../kube/kubeErrors.js';
import type { KubeObject, WorkloadKind } from '../kube/kubeTypes.js';
import type { PreflightCheck } from '../migration/preflightChecks.js';
import type { MigrationPlan } from '../migration/plan.js';
import type { PreparedMigration } from '../migration/runMigration.js';
import { bridgesPolicies } from '../migration/strategies/dualOverlay/dualOverlayStrategy.js';
import { configuredResources } from '../migration/strategies/multus/multusStrategy.js';
import { rolloutStatus } from '../ops/rollout.js';
import { planNeeds, type AccessNeed } from './accessNeeds.js';
import { clusterChecks, type ClusterInventory } from './clusterChecks.js';
import { policyChecks } from './policyChecks.js';

const WEBHOOK_KINDS: KindRef[] = [
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration' },
];

/** Lists a kind, or nothing when the server does not serve it or the user may not list it (the access check names that). */
async function listOrNone(client: ClusterClient, kind: KindRef): Promise<KubeObject[]> {
  try {
    return await client.listObjects(kind);
  } catch (e) {
    if (e instanceof NoKindMatchError || isForbidden(e)) return [];
    throw e;
  }
}

/** Lists a kind: nothing when the server does not serve it, "forbidden" when the user may not list it. */
async function listOrForbidden(client: ClusterClient, kind: KindRef): Promise<KubeObject[] | 'forbidden'> {
  try {
    return await client.listObjects(kind);
  } catch (e) {
    if (e instanceof NoKindMatchError) return [];
    if (isForbidden(e)) return 'forbidden';
    throw e;
  }
}

/** Calico's own policies (namespaced and global), when its CRDs are served. */
async function calicoPolicies(client: ClusterClient): Promise<KubeObject[] | 'forbidden'> {
  const lists = await Promise.all(['NetworkPolicy', 'GlobalNetworkPolicy'].map((kind) => listOrForbidden(client, { apiVersion: 'crd.projectcalico.org/v1', kind })));
  const out: KubeObject[] = [];
  for (const l of lists) {
    if (l === 'forbidden') return 'forbidden';
    out.push(...l);
  }
  return out;
}

/** The resource a kind is served as; a kind not served yet (a CRD its operator registers later) by its lower-case plural. */
async function resourceName(client: ClusterClient, kind: KindRef): Promise<{ group: string; resource: string }> {
  try {
    return await client.resourceOf(kind);
  } catch (e) {
    if (!(e instanceof NoKindMatchError)) throw e;
    return { group: kind.apiVersion.includes('/') ? kind.apiVersion.split('/')[0]! : '', resource: pluralOf(kind.kind) };
  }
}

/** The plural the API server derives from a kind when a CRD names none (gengo's rules: policy → policies, class → classes). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

/** Asks the API server about each permission, a few at a time. */
async function reviewAccess(client: ClusterClient, needs: AccessNeed[]): Promise<ClusterInventory['access']> {
  const out: ClusterInventory['access'] = [];
  const queue = [...needs];
  const worker = async () => {
    for (let need = queue.shift(); need; need = queue.shift()) {
      const { group, resource } = await resourceName(client, need.kind);
      const review = (await client.createObject({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { resourceAttributes: { verb: need.verb, group, resource, ...(need.subresource ? { subresource: need.subresource } : {}), ...(need.namespace ? { namespace: need.namespace } : {}) } },
      })) as { status?: { allowed?: boolean; reason?: string } };
      out.push({ need, resource: group ? `${resource}.${group}` : resource, allowed: review.status?.allowed === true, reason: review.status?.reason });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return out;
}

/** The configuration's preflightResources, each found and rolled out or not. */
async function lookUpResources(client: ClusterClient, prepared: PreparedMigration): Promise<ClusterInventory['resources']> {
  const { config, source } = prepared.ctx;
  const refs = configuredResources(config.preflightResources, config, source);
  const probes = new Set(config.connectivity.daemonSets.map((d) => `${config.connectivity.namespace}/${d}`));
  return Promise.all(
    refs.map(async (ref) => {
      const key = `${ref.kind} ${ref.namespace}/${ref.name}`;
      const installedByRun = ref.kind === 'DaemonSet' && probes.has(`${ref.namespace}/${ref.name}`);
      try {
        const obj = await client.getWorkload(ref.kind as WorkloadKind, ref.namespace ?? '', ref.name);
        const s = rolloutStatus(ref.kind as WorkloadKind, obj);
        return { ref: key, found: true, ready: s.done, detail: s.message, installedByRun };
      } catch (e) {
        if (!isNotFound(e)) throw e;
        return { ref: key, found: false, ready: false, detail: 'not found', installedByRun };
      }
    }),
  );
}

/** Reads the inventory for a plan. */
export async function readInventory(client: ClusterClient, prepared: PreparedMigration, plan: MigrationPlan): Promise<ClusterInventory> {
  const [version, nodes, pods, daemonSets, deployments, statefulSets, pdbs, webhooks, persistentVolumeClaims, persistentVolumes, access, resources, networkPolicies, calico] = await Promise.all([
    client.serverVersion().catch(() => undefined),
    client.listNodes(),
    client.listPods(),
    listOrNone(client, { apiVersion: 'apps/v1', kind: 'DaemonSet' }),
    listOrNone(client, { apiVersion: 'apps/v1', kind: 'Deployment' }),
    listOrNone(client, { apiVersion: 'apps/v1', kind: 'StatefulSet' }),
    client.listPodDisruptionBudgets(),
    Promise.all(WEBHOOK_KINDS.map((k) => listOrNone(client, k))).then((l) => l.flat()),
    listOrNone(client, { apiVersion: 'v1', kind: 'PersistentVolumeClaim' }),
    listOrNone(client, { apiVersion: 'v1', kind: 'PersistentVolume' }),
    reviewAccess(client, planNeeds(plan, prepared.ctx.config)),
    lookUpResources(client, prepared),
    listOrForbidden(client, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }),
    calicoPolicies(client),
  ]);
  return { version, nodes, pods, daemonSets, deployments, statefulSets, pdbs, webhookConfigurations: webhooks, persistentVolumeClaims, persistentVolumes, access, resources, networkPolicies, calicoPolicies: calico };
}

/** The cluster's checks for a plan, then the strategy's own. */
export async function clusterPreflight(client: ClusterClient, prepared: PreparedMigration, plan: MigrationPlan): Promise<PreflightCheck[]> {
  return (await clusterPreflightWithInventory(client, prepared, plan)).checks;
}

/** The checks and what they were judged on (the report shows the permissions). */
export async function clusterPreflightWithInventory(client: ClusterClient, prepared: PreparedMigration, plan: MigrationPlan): Promise<{ checks: PreflightCheck[]; inventory: ClusterInventory }> {
  const inventory = await readInventory(client, prepared, plan);
  const source: PreflightCheck = { name: 'source CNI detected', verdict: 'pass', detail: `${prepared.source.kind} (DaemonSet ${prepared.source.daemonSet.namespace}/${prepared.source.daemonSet.name}), pod CIDR ${prepared.source.podCIDRs.value.join(', ')}` };
  const policyBridge = prepared.strategy.name === 'dual-overlay' && bridgesPolicies(prepared.ctx);
  const policies = policyChecks(inventory, { source: prepared.source, strategy: prepared.strategy.name, ciliumPool: prepared.strategy.ciliumPool(prepared.ctx), policyBridge });
  return { checks: [source, ...clusterChecks(inventory, prepared.ctx.config), ...policies, ...(prepared.strategy.preflight?.(prepared.ctx) ?? [])], inventory };
}
