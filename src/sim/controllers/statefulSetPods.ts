import type { KubeObject } from '../store/kubeObject.js';
import { newControllerRef } from './ownerReferences.js';
import { isPodAvailable, isPodReady, isPodTerminal } from './podStatus.js';

/** Label with the name of the ControllerRevision a StatefulSet pod was made from (apps.StatefulSetRevisionLabel). */
export const STATEFUL_REVISION_LABEL = 'controller-revision-hash';
/** Label with the pod's own name, so a Service can select one member (apps.StatefulSetPodNameLabel). */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Label with the pod's ordinal (apps.PodIndexLabel). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

// getParentNameAndOrdinal's statefulPodRegex: the ordinal is the digits after the last dash.
const STATEFUL_POD_NAME = /^(.*)-([0-9]+)$/;

/** v1.PodTemplateSpec as JSON, as far as pods are built from it. */
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [key: string]: unknown };
  spec?: Record<string, unknown>;
}

/** getParentNameAndOrdinal: "db-2" → { parent: "db", ordinal: 2 }; ordinal -1 when the name has none. */
export function parseStatefulPodName(name: string): { parent: string; ordinal: number } {
  const m = STATEFUL_POD_NAME.exec(name);
  if (!m) return { parent: '', ordinal: -1 };
  const ordinal = Number.parseInt(m[2]!, 10);
  // strconv.ParseInt(s, 10, 32) refuses what does not fit an int32.
  return ordinal > 2147483647 ? { parent: '', ordinal: -1 } : { parent: m[1]!, ordinal };
}

/** getPodName: `<set>-<ordinal>`. */
export function statefulPodName(sts: KubeObject, ordinal: number): string {
  return `${sts.metadata.name ?? ''}-${ordinal}`;
}

/** getStartOrdinal: spec.ordinals.start, else 0. */
export function startOrdinalOf(sts: KubeObject): number {
  return Number(sts.spec?.ordinals?.start ?? 0);
}

/** isMemberOf: the pod's name says it belongs to this set (only such pods are claimed). */
export function isMemberOf(sts: KubeObject, pod: KubeObject): boolean {
  return parseStatefulPodName(pod.metadata.name ?? '').parent === sts.metadata.name;
}

/** identityMatches: name, namespace and pod-name label are what the set gives that ordinal (the pod-index label is not checked, as upstream). */
export function identityMatches(sts: KubeObject, pod: KubeObject): boolean {
  const { parent, ordinal } = parseStatefulPodName(pod.metadata.name ?? '');
  return ordinal >= 0
    && parent === sts.metadata.name
    && pod.metadata.name === statefulPodName(sts, ordinal)
    && pod.metadata.namespace === sts.metadata.namespace
    && pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name;
}

/** updateIdentity's labels: the pod-name and pod-index labels for a member's name. */
export function identityLabels(podName: string): Record<string, string> {
  return { [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(parseStatefulPodName(podName).ordinal) };
}

/**
 * newStatefulSetPod + setPodRevision: the template of a revision with the member's name, identity
 * labels and revision label, a controlling owner reference, and hostname/subdomain so the pod is
 * `<name>.<serviceName>` in DNS. generateName is kept as GetPodFromTemplate sets it, though unused.
 *
 * volumeClaimTemplates are ignored: the simulated API serves no persistentvolumeclaims, so there is
 * no claim to create or to mount, and the pod gets no volume for them (updateStorage). A container's
 * volumeMount naming a claim template is left dangling; nothing in the simulation reads it, and a
 * drain treats the pod as PVC-backed pods are treated (no --delete-emptydir-data needed).
 */
export function buildStatefulSetPod(sts: KubeObject, template: PodTemplate, ordinal: number, revisionName: string): KubeObject {
  const copy = structuredClone(template);
  const meta = copy.metadata ?? {};
  const name = statefulPodName(sts, ordinal);
  const spec: Record<string, unknown> = { ...(copy.spec ?? {}), hostname: name };
  const serviceName = sts.spec?.serviceName;
  if (serviceName) spec.subdomain = serviceName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${sts.metadata.name ?? ''}-`,
      namespace: sts.metadata.namespace,
      labels: { ...(meta.labels ?? {}), ...identityLabels(name), [STATEFUL_REVISION_LABEL]: revisionName },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
      ownerReferences: [newControllerRef(sts)],
    },
    spec,
  };
}

/** What the StatefulSet decisions need to know about one member pod. */
export interface StatefulPodView {
  ordinal: number;
  /** Its controller-revision-hash label ("" without). */
  revision: string;
  /** isCreated: the pod exists and has a phase (false for a pod still to be created). */
  created: boolean;
  terminating: boolean;
  /** Failed or Succeeded: evicted, or stopped on its own; either way it is replaced. */
  finished: boolean;
  /** isRunningAndReady: phase Running and condition Ready. */
  runningAndReady: boolean;
  /** podutil.IsPodAvailable: Ready for minReadySeconds, whatever the phase (upstream's isRunningAndAvailable). */
  available: boolean;
  identityMatches: boolean;
}

/** A member pod as the decisions see it. */
export function toStatefulPodView(sts: KubeObject, pod: KubeObject, minReadySeconds: number, nowMs: number): StatefulPodView {
  return {
    ordinal: parseStatefulPodName(pod.metadata.name ?? '').ordinal,
    revision: pod.metadata.labels?.[STATEFUL_REVISION_LABEL] ?? '',
    created: Boolean(pod.status?.phase),
    terminating: Boolean(pod.metadata.deletionTimestamp),
    finished: isPodTerminal(pod),
    runningAndReady: pod.status?.phase === 'Running' && isPodReady(pod),
    available: isPodAvailable(pod, minReadySeconds, nowMs),
    identityMatches: identityMatches(sts, pod),
  };
}
