import type { KubeObject } from '../store/kubeObject.js';
import { pinToNode, daemonPodTolerations, targetNodeOfPod } from './daemonSetPlacement.js';
import { parseKubeTime } from './kubeTime.js';
import { newControllerRef } from './ownerReferences.js';
import { isPodAvailable, isPodReady, isPodTerminal } from './podStatus.js';

/** Label with the hash of the template a DaemonSet pod was made from. */
export const REVISION_HASH_LABEL = 'controller-revision-hash';
/** Label with the DaemonSet template generation a pod was made from. */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** Annotation kube-apiserver keeps on DaemonSets: the generation of the current template. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** What the DaemonSet decisions need to know about one of its pods. */
export interface DaemonPodView {
  name: string;
  bound: boolean;
  createdMs: number;
  phase: string | undefined;
  deleting: boolean;
  ready: boolean;
  available: boolean;
  /** util.IsPodUpdated: made from the current template (hash or template generation). */
  updated: boolean;
  /** controller-revision-hash is the current one (the surge rules look at the hash only). */
  hashMatches: boolean;
}

/** The template generation: kube-apiserver's annotation, else metadata.generation. */
export function templateGenerationOf(ds: KubeObject): string {
  return String(ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? ds.metadata.generation ?? 1);
}

/** util.IsPodUpdated. */
export function isDaemonPodUpdated(pod: KubeObject, hash: string, generation: string): boolean {
  const labels = pod.metadata.labels ?? {};
  return labels[REVISION_HASH_LABEL] === hash || labels[TEMPLATE_GENERATION_LABEL] === generation;
}

/** A DaemonSet pod as the decisions see it. Terminating pods are neither ready nor available. */
export function toDaemonPodView(pod: KubeObject, hash: string, generation: string, minReadySeconds: number, nowMs: number): DaemonPodView {
  const deleting = Boolean(pod.metadata.deletionTimestamp);
  return {
    name: pod.metadata.name ?? '',
    bound: Boolean(pod.spec?.nodeName),
    createdMs: parseKubeTime(pod.metadata.creationTimestamp) ?? 0,
    phase: pod.status?.phase,
    deleting,
    ready: !deleting && isPodReady(pod),
    available: !deleting && isPodAvailable(pod, minReadySeconds, nowMs),
    updated: isDaemonPodUpdated(pod, hash, generation),
    hashMatches: pod.metadata.labels?.[REVISION_HASH_LABEL] === hash,
  };
}

/** getNodesToDaemonPods: pods by target node, leaving out pods both finished and being deleted. */
export function groupDaemonPodsByNode(pods: Iterable<KubeObject>): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const pod of pods) {
    if (isPodTerminal(pod) && pod.metadata.deletionTimestamp) continue;
    const node = targetNodeOfPod(pod);
    if (node === undefined) continue;
    const list = out.get(node) ?? [];
    list.push(pod);
    out.set(node, list);
  }
  return out;
}

/**
 * The pod a DaemonSet creates for a node: its template with the revision labels, the default
 * DaemonSet tolerations, the required affinity pinned to the node (the scheduler binds it) and a
 * controlling owner reference. The name comes from generateName at creation.
 */
export function buildDaemonPod(ds: KubeObject, nodeName: string, hash: string, generation: string): KubeObject {
  const template = structuredClone(ds.spec?.template ?? {});
  const meta = template.metadata ?? {};
  const spec = template.spec ?? {};
  spec.tolerations = daemonPodTolerations(spec);
  spec.affinity = pinToNode(spec.affinity, nodeName);
  spec.schedulerName ??= 'default-scheduler';
  const labels = { ...(meta.labels ?? {}), [TEMPLATE_GENERATION_LABEL]: generation, [REVISION_HASH_LABEL]: hash };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name ?? ''}-`,
      namespace: ds.metadata.namespace,
      labels,
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
      ownerReferences: [newControllerRef(ds)],
    },
    spec,
  };
}
