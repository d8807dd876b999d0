import { badRequest } from './apiError.js';
import { matchesFields, parseFieldSelector, type FieldRequirement } from './fieldSelector.js';
import { matchesRequirements, parseLabelSelector, type Requirement } from '../store/labelSelector.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { StoreQuery } from '../store/objectStore.js';

/** The filters of a list or watch request. */
export interface ListFilter {
  labels: Requirement[];
  fields: FieldRequirement[];
}

/** Parses labelSelector and fieldSelector query parameters for a resource. */
export function parseListFilter(resource: string, query: URLSearchParams): ListFilter {
  return {
    labels: parseLabelSelector(query.get('labelSelector') ?? ''),
    fields: parseFieldSelector(resource.includes('/') ? resource : resource, query.get('fieldSelector') ?? ''),
  };
}

/** True when an object passes both selectors. */
export function passesFilter(obj: KubeObject, filter: ListFilter): boolean {
  return matchesRequirements(obj.metadata.labels, filter.labels) && matchesFields(obj, filter.fields);
}

/**
 * The part of a list or watch request the store's indexes can narrow by: the namespace (from the
 * URL, else an equality field selector), the label selector and, for pods, an equality selector on
 * spec.nodeName (what every kubelet and node drain asks for). The caller still applies the whole filter.
 */
export function storeQueryOf(resource: string, namespace: string | undefined, filter: ListFilter): StoreQuery {
  const equal = (field: string) => filter.fields.find((f) => f.field === field && f.equal)?.value;
  return {
    namespace: namespace ?? equal('metadata.namespace'),
    labels: filter.labels,
    ...(resource === 'pods' ? { nodeName: equal('spec.nodeName') } : {}),
  };
}

/** A page of a list: limit/continue as the API server does them (continue = opaque token of the last key). */
export function paginate(items: KubeObject[], query: URLSearchParams, resourceVersion: string): { items: KubeObject[]; continue?: string; remainingItemCount?: number } {
  const limit = Number(query.get('limit') ?? '0');
  const token = query.get('continue');
  let start = 0;
  if (token) {
    let decoded: { k?: string };
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { k?: string };
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
    }
    const after = decoded.k ?? '';
    start = items.findIndex((o) => keyOf(o) > after);
    if (start < 0) start = items.length;
  }
  if (!Number.isFinite(limit) || limit <= 0) return { items: items.slice(start) };
  const page = items.slice(start, start + limit);
  const rest = items.length - (start + page.length);
  if (rest <= 0) return { items: page };
  const last = page[page.length - 1]!;
  const next = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(resourceVersion), k: keyOf(last) })).toString('base64');
  return { items: page, continue: next, remainingItemCount: rest };
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}
