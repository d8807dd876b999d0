import { applyDefaults } from '../api/defaults.js';
import type { KubeObject } from '../store/kubeObject.js';
import { parseKubeTime } from './kubeTime.js';
import { newControllerRef } from './ownerReferences.js';
import { jsonEqual } from './stableJson.js';
import type { PodTemplate } from './statefulSetPods.js';
import { computeTemplateHash } from './templateHash.js';

/** Label with a ControllerRevision's own hash (history.ControllerRevisionHashLabel). */
export const REVISION_OWN_HASH_LABEL = 'controller.kubernetes.io/hash';

/**
 * getPatch: what a revision stores, a patch that puts the set's template back. The template is
 * compared with API defaults applied, so a set written straight into the store (without them) and
 * the same set after an API update do not count as two revisions and restart every pod.
 */
export function revisionData(sts: KubeObject): { spec: { template: Record<string, unknown> } } {
  const holder: KubeObject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {}, spec: { template: structuredClone(sts.spec?.template ?? {}) } };
  applyDefaults(holder, { creating: false });
  return { spec: { template: { ...holder.spec.template, $patch: 'replace' } } };
}

/** ApplyRevision, for the one field a revision holds: the pod template it restores. */
export function templateOfRevision(revision: KubeObject): PodTemplate {
  const { $patch: _patch, ...template } = (revision.data?.spec?.template ?? {}) as Record<string, unknown>;
  return structuredClone(template);
}

/** ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 characters so the name stays valid. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/**
 * newRevision (history.NewControllerRevision): the set's template as revision number `revision`,
 * labelled with the template labels and its hash, annotated like the set, controlled by the set.
 * The hash takes collisionCount so a name taken by different data can be stepped around.
 */
export function newRevision(sts: KubeObject, revision: number, collisionCount: number): KubeObject {
  const data = revisionData(sts);
  const hash = computeTemplateHash(data, collisionCount);
  const annotations = sts.metadata.annotations;
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(sts.metadata.name ?? '', hash),
      namespace: sts.metadata.namespace,
      labels: { ...((sts.spec?.template?.metadata?.labels ?? {}) as Record<string, string>), [REVISION_OWN_HASH_LABEL]: hash },
      ...(annotations && Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
      ownerReferences: [newControllerRef(sts)],
    },
    data,
    revision,
  };
}

/** history.SortControllerRevisions: by revision number, then age, then name. */
export function sortRevisions(revisions: readonly KubeObject[]): KubeObject[] {
  return [...revisions].sort((a, b) => Number(a.revision ?? 0) - Number(b.revision ?? 0)
    || (parseKubeTime(a.metadata.creationTimestamp) ?? 0) - (parseKubeTime(b.metadata.creationTimestamp) ?? 0)
    || String(a.metadata.name).localeCompare(String(b.metadata.name)));
}

/** nextRevision: one more than the highest revision number of the sorted history, 1 for none. */
export function nextRevision(sorted: readonly KubeObject[]): number {
  const last = sorted.at(-1);
  return last ? Number(last.revision ?? 0) + 1 : 1;
}

/** history.EqualRevision: the same stored data. */
export function revisionsEqual(a: KubeObject, b: KubeObject): boolean {
  return jsonEqual(a.data, b.data);
}

/** What getStatefulSetRevisions does about the update revision, as data. */
export type UpdateRevisionChoice =
  /** The newest revision already holds this template: nothing changed. */
  | { action: 'reuse'; revision: KubeObject }
  /** An older revision holds it (a rollback): it gets the next revision number. */
  | { action: 'renumber'; revision: KubeObject; number: number }
  /** No revision holds it yet. */
  | { action: 'create'; revision: KubeObject };

/** Chooses the update revision for a candidate from newRevision against the sorted history. */
export function chooseUpdateRevision(sorted: readonly KubeObject[], candidate: KubeObject): UpdateRevisionChoice {
  const equal = sorted.filter((r) => revisionsEqual(r, candidate));
  const last = sorted.at(-1);
  if (last && equal.length && revisionsEqual(last, candidate)) return { action: 'reuse', revision: last };
  const older = equal.at(-1);
  if (older) return { action: 'renumber', revision: older, number: Number(candidate.revision) };
  return { action: 'create', revision: candidate };
}

/**
 * truncateHistory: the revisions to delete so that at most `limit` remain besides the live ones
 * (the current and update revisions and any revision a pod still carries), oldest first.
 */
export function revisionsToTrim(sorted: readonly KubeObject[], live: ReadonlySet<string>, limit: number): KubeObject[] {
  if (limit < 0) return [];
  const history = sorted.filter((r) => !live.has(r.metadata.name ?? ''));
  return history.slice(0, Math.max(history.length - limit, 0));
}
