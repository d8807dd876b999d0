import { badRequest } from './apiError.js';
import type { KubeObject } from '../store/kubeObject.js';

/** One field requirement: path = value or path != value. */
export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

// Field labels each resource supports, as registered by kube-apiserver's AddFieldLabelConversionFunc.
const COMMON = ['metadata.name', 'metadata.namespace'];
const SUPPORTED: Record<string, string[]> = {
  pods: [
    ...COMMON,
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ],
  nodes: [...COMMON, 'spec.unschedulable'],
  events: [...COMMON, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  namespaces: [...COMMON, 'status.phase'],
  secrets: [...COMMON, 'type'],
  'apps/replicasets': [...COMMON, 'status.replicas'],
};

/** Parses "a=b,c!=d" (also "=="), checking that each field is supported for the resource. */
export function parseFieldSelector(resource: string, input: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  if (input.trim() === '') return reqs;
  for (const part of input.split(',')) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${part}'`);
    const [, field, op, value] = m;
    const supported = SUPPORTED[resource] ?? COMMON;
    if (!supported.includes(field!)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field: field!, equal: op !== '!=', value: value ?? '' });
  }
  return reqs;
}

/** True when the object satisfies every field requirement. */
export function matchesFields(obj: KubeObject, reqs: FieldRequirement[]): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === r.equal);
}

function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'status.podIPs') return String(obj.status?.podIPs?.[0]?.ip ?? '');
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[part];
    else return '';
  }
  if (cur === undefined || cur === null) return field === 'spec.unschedulable' || field === 'spec.hostNetwork' ? 'false' : '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return JSON.stringify(cur);
}
