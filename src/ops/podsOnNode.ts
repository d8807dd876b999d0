/** The pods bound to one node: a single list with a field selector, as kubectl drain does. */
import type { ClusterClient } from '../kube/clusterClient.js';
import type { Pod } from '../kube/kubeTypes.js';

/** Every pod (all namespaces) whose spec.nodeName is `node`, optionally narrowed by a label selector. */
export function listPodsOnNode(client: ClusterClient, node: string, opts: { labelSelector?: string | undefined } = {}): Promise<Pod[]> {
  return client.listPods({ fieldSelector: `spec.nodeName=${node}`, labelSelector: opts.labelSelector });
}
