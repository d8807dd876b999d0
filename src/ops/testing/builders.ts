/** Small builders for the objects unit tests need; anything else is written inline. */
import type { DaemonSet, Node, Pod, PodDisruptionBudget, PodPhase, Taint } from '../../kube/kubeTypes.js';

/** A Ready node. */
export function makeNode(name: string, opts: { labels?: Record<string, string>; taints?: Taint[]; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Options for makePod. */
export interface PodOptions {
  namespace?: string;
  node?: string;
  labels?: Record<string, string>;
  /** The controller owner; omit for an unmanaged pod. */
  owner?: { kind: string; name: string; apiVersion?: string };
  emptyDir?: boolean;
  phase?: PodPhase;
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
  deletionTimestamp?: string;
}

/** A Running pod on a node. */
export function makePod(name: string, o: PodOptions = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      labels: o.labels ?? {},
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deletionTimestamp ? { deletionTimestamp: o.deletionTimestamp } : {}),
      ...(o.owner
        ? { ownerReferences: [{ apiVersion: o.owner.apiVersion ?? 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: `owner-${o.owner.name}`, controller: true }] }
        : {}),
    },
    spec: {
      nodeName: o.node ?? 'node-1',
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      volumes: o.emptyDir ? [{ name: 'scratch', emptyDir: {} }] : [],
    },
    status: { phase: o.phase ?? 'Running' },
  };
}

/** A DaemonSet (status fields as given). */
export function makeDaemonSet(name: string, namespace = 'kube-system', status: DaemonSet['status'] = {}, generation = 1): DaemonSet {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace, generation }, spec: { updateStrategy: { type: 'RollingUpdate' } }, status };
}

/** A PodDisruptionBudget selecting `matchLabels`, with `disruptionsAllowed` as its controller computed it. */
export function makePdb(name: string, namespace: string, matchLabels: Record<string, string>, disruptionsAllowed: number): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace },
    spec: { selector: { matchLabels }, maxUnavailable: 1 },
    status: { disruptionsAllowed, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
  };
}
