/**
 * Kubernetes objects as JSON on the wire: only the fields this product reads are typed, and every
 * object keeps whatever else the server sent (unlike client-node's models, which drop unknown
 * fields). No client-node import here.
 */

/** A reference from a dependent to its owner. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** metadata of any object. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Names one object of any kind. `namespace` is ignored for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
}

/** A node taint. Effects are NoSchedule, PreferNoSchedule or NoExecute. */
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

/** A status condition (type/status/reason/message). */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  [key: string]: unknown;
}

/** core/v1 Node. */
export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Taint[]; podCIDR?: string; [key: string]: unknown };
  status?: { conditions?: Condition[]; [key: string]: unknown };
}

/** A pod volume; only emptyDir matters to drain. */
export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Pod phases. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** core/v1 Pod. */
export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    volumes?: Volume[];
    terminationGracePeriodSeconds?: number;
    [key: string]: unknown;
  };
  status?: { phase?: PodPhase; podIP?: string; conditions?: Condition[]; [key: string]: unknown };
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** apps/v1 DaemonSet. */
export interface DaemonSet extends KubeObject {
  spec?: { selector?: LabelSelector; updateStrategy?: { type?: string; [key: string]: unknown }; template?: Record<string, unknown>; [key: string]: unknown };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberReady?: number;
    numberUnavailable?: number;
    numberMisscheduled?: number;
    [key: string]: unknown;
  };
}

/** apps/v1 Deployment. */
export interface Deployment extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; [key: string]: unknown };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
    [key: string]: unknown;
  };
}

/** apps/v1 StatefulSet. */
export interface StatefulSet extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: LabelSelector;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number; [key: string]: unknown }; [key: string]: unknown };
    [key: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    [key: string]: unknown;
  };
}

/** The workload kinds this product reads and patches. */
export interface WorkloadKinds {
  DaemonSet: DaemonSet;
  Deployment: Deployment;
  StatefulSet: StatefulSet;
}

/** DaemonSet, Deployment or StatefulSet. */
export type WorkloadKind = keyof WorkloadKinds;

/** policy/v1 PodDisruptionBudget. */
export interface PodDisruptionBudget extends KubeObject {
  spec?: { selector?: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string; [key: string]: unknown };
  status?: { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; expectedPods?: number; [key: string]: unknown };
}

/** apiextensions.k8s.io/v1 CustomResourceDefinition. */
export interface CustomResourceDefinition extends KubeObject {
  spec?: { group?: string; names?: { kind?: string; plural?: string }; [key: string]: unknown };
  status?: { conditions?: Condition[]; [key: string]: unknown };
}

/** "namespace/name" of a namespaced object, or its name. */
export function objectKey(obj: { metadata: ObjectMeta }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}
