import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient, KindRef } from '../kube/clusterClient.js';
import type { KubeObject } from '../kube/kubeTypes.js';
import { discoverSource } from '../source/discoverSource.js';
import type { TwinInventory } from './twinBuilder.js';

// Reads what a twin is made of. Lists only: it changes nothing, and never reads Secrets.

const APPS = (kind: string): KindRef => ({ apiVersion: 'apps/v1', kind });
/** CNI configuration resources a twin carries when the cluster serves them. */
const CNI_RESOURCES: KindRef[] = [
  { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool' },
  { apiVersion: 'crd.projectcalico.org/v1', kind: 'FelixConfiguration' },
  { apiVersion: 'operator.tigera.io/v1', kind: 'Installation' },
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNodeConfig' },
];
/** Workloads of CNIs (and Calico's operator) whose env and ConfigMaps are configuration. */
const CNI_WORKLOAD = /^(cilium|calico|canal|kube-flannel|kube-multus|tigera-operator)/;

export async function readTwinInventory(client: ClusterClient, config: MigrationConfig): Promise<{ inventory: TwinInventory; source: string }> {
  const source = await discoverSource(client, config.cni);
  const list = (kind: KindRef) => client.listObjects(kind);
  const [nodes, namespaces, daemonSets, deployments, statefulSets, configMaps, services, pdbs, policies] = await Promise.all([
    client.listNodes() as Promise<KubeObject[]>,
    list({ apiVersion: 'v1', kind: 'Namespace' }),
    list(APPS('DaemonSet')),
    list(APPS('Deployment')),
    list(APPS('StatefulSet')),
    list({ apiVersion: 'v1', kind: 'ConfigMap' }),
    list({ apiVersion: 'v1', kind: 'Service' }),
    list({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' }),
    list({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }),
  ]);
  const cniResources: KubeObject[] = [];
  const crds: KubeObject[] = [];
  for (const kind of CNI_RESOURCES) {
    if (!(await client.servesKind(kind))) continue;
    const r = await client.resourceOf(kind);
    crds.push(await client.getCustomResourceDefinition(`${r.resource}.${r.group}`));
    cniResources.push(...(await list(kind)).map((o) => ({ ...o, apiVersion: kind.apiVersion, kind: kind.kind })));
  }
  const workloads = [...daemonSets.map((o) => ({ ...o, apiVersion: 'apps/v1', kind: 'DaemonSet' })), ...deployments.map((o) => ({ ...o, apiVersion: 'apps/v1', kind: 'Deployment' })), ...statefulSets.map((o) => ({ ...o, apiVersion: 'apps/v1', kind: 'StatefulSet' }))];
  const cniWorkloads = workloads
    .filter((w) => (w.kind === 'DaemonSet' && w.metadata.namespace === source.daemonSet.namespace && w.metadata.name === source.daemonSet.name) || CNI_WORKLOAD.test(w.metadata.name ?? ''))
    .map((w) => ({ kind: w.kind, namespace: w.metadata.namespace ?? '', name: w.metadata.name ?? '' }));
  return {
    source: `${source.kind} (${source.install}, DaemonSet ${source.daemonSet.namespace}/${source.daemonSet.name})`,
    inventory: {
      nodes,
      namespaces: namespaces.map((o) => ({ ...o, apiVersion: 'v1', kind: 'Namespace' })),
      workloads,
      configMaps: configMaps.map((o) => ({ ...o, apiVersion: 'v1', kind: 'ConfigMap' })),
      services: services.map((o) => ({ ...o, apiVersion: 'v1', kind: 'Service' })),
      podDisruptionBudgets: pdbs.map((o) => ({ ...o, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' })),
      networkPolicies: policies.map((o) => ({ ...o, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' })),
      cniResources,
      crds: crds.map((o) => ({ ...o, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' })),
      cniWorkloads,
      cniConfDir: source.confDir.value,
      clusterCIDR: source.podCIDRs.value[0] ?? '10.244.0.0/16',
      ownNamespaces: [config.connectivity.namespace],
    },
  };
}
