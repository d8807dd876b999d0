import type { Pod } from '../kube/kubeTypes.js';

/**
 * The workload a pod belongs to, as "Kind namespace/name": its controller, with a ReplicaSet read
 * as its Deployment (the pod-template-hash suffix dropped); "Pod namespace/name" for a bare pod.
 */
export function podWorkload(pod: Pod): string {
  const ns = pod.metadata.namespace ?? '';
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!owner) return `Pod ${ns}/${pod.metadata.name ?? ''}`;
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata.labels?.['pod-template-hash'];
    const name = hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name.replace(/-[a-z0-9]{6,10}$/, '');
    return `Deployment ${ns}/${name}`;
  }
  return `${owner.kind} ${ns}/${owner.name}`;
}
