import type { ClusterClient, KindRef } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { DaemonSet, KubeObject } from '../kube/kubeTypes.js';
import { isCalicoNode, isFlannel, type SourceInventory } from './detectSource.js';
import { containersOf, referencedConfigMaps, templateSpecOf } from './podTemplateReader.js';

// The thin reading half of source detection: lists what detectSource() decides from. Calico's
// own kinds are optional (a Flannel cluster serves none of them).

const DAEMONSETS: KindRef = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
const INSTALLATIONS: KindRef = { apiVersion: 'operator.tigera.io/v1', kind: 'Installation' };
// calico-apiserver's aggregated v3 API (or Calico ≥3.32's native v3 CRDs) first, else the KDD CRDs.
const IPPOOLS: KindRef[] = [
  { apiVersion: 'projectcalico.org/v3', kind: 'IPPool' },
  { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool' },
];
const FELIX: KindRef[] = [
  { apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration' },
  { apiVersion: 'crd.projectcalico.org/v1', kind: 'FelixConfiguration' },
];

/**
 * Reads the DaemonSets, the ConfigMaps of the CNI-looking ones (and of `also`, a DaemonSet the
 * configuration names), Calico's resources and the nodes.
 */
export async function readSourceInventory(client: ClusterClient, also?: { namespace: string; name: string }): Promise<SourceInventory> {
  const [daemonSets, nodes, installations, ipPools, felixConfigurations] = await Promise.all([
    client.listObjects(DAEMONSETS) as Promise<DaemonSet[]>,
    client.listNodes(),
    listIfServed(client, [INSTALLATIONS]),
    listIfServed(client, IPPOOLS),
    listIfServed(client, FELIX),
  ]);
  const named = (ds: DaemonSet) => also !== undefined && ds.metadata.namespace === also.namespace && ds.metadata.name === also.name;
  const wanted = daemonSets.filter((ds) => named(ds) || containersOf(templateSpecOf(ds)).some((c) => isCalicoNode(c) || isFlannel(c)));
  const configMaps: KubeObject[] = [];
  for (const ds of wanted) {
    const namespace = ds.metadata.namespace ?? 'default';
    for (const name of referencedConfigMaps(templateSpecOf(ds))) {
      if (configMaps.some((c) => c.metadata.namespace === namespace && c.metadata.name === name)) continue;
      try {
        configMaps.push(await client.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name }));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
  return { daemonSets, configMaps, installations, ipPools, felixConfigurations, nodes };
}

/** Lists the first kind of the list the server serves; undefined when it serves none. */
async function listIfServed(client: ClusterClient, kinds: KindRef[]): Promise<KubeObject[] | undefined> {
  for (const kind of kinds) {
    if (await client.servesKind(kind)) return client.listObjects(kind);
  }
  return undefined;
}
