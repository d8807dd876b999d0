import { readCiliumInstall, type CiliumInstall } from '../cilium/ciliumInstall.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { Sourced } from '../source/sourceTypes.js';

// Facts about the cluster beyond the source CNI that strategies check their plan against: an
// installed Cilium, node addresses, the Service range.

/** What the reader found. */
export interface ClusterFacts {
  cilium?: CiliumInstall | undefined;
  nodes: { name: string; internalIP?: string | undefined; calicoAddress?: string | undefined }[];
  /** The Service range, from ServiceCIDR objects (Kubernetes ≥1.33) or the configuration. */
  serviceCIDRs?: Sourced<string[]> | undefined;
  /** The kubernetes Service's ClusterIP (inside the Service range, whatever it is). */
  kubernetesServiceIP?: string | undefined;
}

/** Reads the facts (no writes). `serviceCIDR` is the configuration's, used when the cluster does not say. */
export async function readClusterFacts(client: ClusterClient, serviceCIDR?: string): Promise<ClusterFacts> {
  const [cilium, nodes] = await Promise.all([readCiliumInstall(client), client.listNodes()]);
  let serviceCIDRs: Sourced<string[]> | undefined;
  if (await client.servesKind({ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR' })) {
    const objs = await client.listObjects({ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR' });
    const cidrs = objs.flatMap((o) => ((o.spec as { cidrs?: string[] } | undefined)?.cidrs ?? []).filter((c) => !c.includes(':')));
    if (cidrs.length) serviceCIDRs = { value: cidrs, from: `ServiceCIDR ${objs.map((o) => o.metadata.name).join(', ')}` };
  }
  if (!serviceCIDRs && serviceCIDR) serviceCIDRs = { value: [serviceCIDR], from: 'cilium.serviceCIDR in the configuration' };
  let kubernetesServiceIP: string | undefined;
  try {
    const svc = await client.getObject({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'kubernetes' });
    kubernetesServiceIP = (svc.spec as { clusterIP?: string } | undefined)?.clusterIP;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  return {
    cilium,
    nodes: nodes.map((n) => ({
      name: n.metadata.name ?? '',
      internalIP: ((n.status?.addresses ?? []) as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address,
      calicoAddress: n.metadata.annotations?.['projectcalico.org/IPv4Address'],
    })),
    serviceCIDRs,
    kubernetesServiceIP,
  };
}
