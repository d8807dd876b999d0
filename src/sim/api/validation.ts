import { badRequest, invalid, type StatusCause } from './apiError.js';
import type { ResourceType } from './resourceRegistry.js';
import type { KubeObject } from '../store/kubeObject.js';
import { parseCidr } from '../../net/ipv4.js';

// Structural checks kube-apiserver applies before storing: names, namespaces, required fields, and
// strict decoding of fields it does not know (kubectl sends fieldValidation=Strict by default).

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

// Known top-level and spec fields of the built-in kinds the tool and kubectl write.
const TOP_LEVEL: Record<string, string[]> = {
  Pod: ['spec', 'status'],
  Node: ['spec', 'status'],
  Namespace: ['spec', 'status'],
  Service: ['spec', 'status'],
  Endpoints: ['subsets'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  DaemonSet: ['spec', 'status'],
  Deployment: ['spec', 'status'],
  ReplicaSet: ['spec', 'status'],
  StatefulSet: ['spec', 'status'],
  ControllerRevision: ['data', 'revision'],
  PodDisruptionBudget: ['spec', 'status'],
  Role: ['rules'],
  ClusterRole: ['rules', 'aggregationRule'],
  RoleBinding: ['subjects', 'roleRef'],
  ClusterRoleBinding: ['subjects', 'roleRef'],
  CustomResourceDefinition: ['spec', 'status'],
  Lease: ['spec'],
  EndpointSlice: ['addressType', 'endpoints', 'ports'],
  Eviction: ['deleteOptions'],
};

const SPEC_FIELDS: Record<string, string[]> = {
  Pod: [
    'volumes', 'initContainers', 'containers', 'ephemeralContainers', 'restartPolicy', 'terminationGracePeriodSeconds',
    'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector', 'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken',
    'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'securityContext', 'imagePullSecrets', 'hostname',
    'subdomain', 'affinity', 'schedulerName', 'tolerations', 'hostAliases', 'priorityClassName', 'priority', 'dnsConfig',
    'readinessGates', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints',
    'setHostnameAsFQDN', 'os', 'hostUsers', 'schedulingGates', 'resourceClaims', 'resources',
  ],
  DaemonSet: ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'],
  Deployment: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'],
  ReplicaSet: ['replicas', 'minReadySeconds', 'selector', 'template'],
  StatefulSet: ['replicas', 'selector', 'template', 'volumeClaimTemplates', 'serviceName', 'podManagementPolicy', 'updateStrategy', 'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals'],
  Service: ['ports', 'selector', 'clusterIP', 'clusterIPs', 'type', 'externalIPs', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges', 'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses', 'sessionAffinityConfig', 'ipFamilies', 'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution'],
  Node: ['podCIDR', 'podCIDRs', 'providerID', 'unschedulable', 'taints', 'configSource', 'externalID'],
  PodDisruptionBudget: ['minAvailable', 'selector', 'maxUnavailable', 'unhealthyPodEvictionPolicy'],
};

/** Validates an object about to be created or updated; throws 400/422 as kube-apiserver would. */
export function validateObject(obj: KubeObject, type: ResourceType, opts: { strict: boolean; urlNamespace?: string }): void {
  const name = obj.metadata?.name ?? '';
  if (opts.strict) checkUnknownFields(obj, type);
  const causes: StatusCause[] = [];
  if (!obj.metadata?.name && !obj.metadata?.generateName) {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else if (obj.metadata.name && !nameValid(type, obj.metadata.name)) {
    const what = type.kind === 'Namespace' || type.kind === 'Service' ? 'RFC 1123 label' : 'RFC 1123 subdomain';
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${obj.metadata.name}": a lowercase ${what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (type.namespaced && !obj.metadata?.namespace && !opts.urlNamespace) {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' });
  }
  causes.push(...kindSpecificCauses(obj));
  if (causes.length) throw invalid(type.kind, type.group, name, causes);
}

function nameValid(type: ResourceType, name: string): boolean {
  if (type.kind === 'Namespace' || type.kind === 'Service') return DNS1123_LABEL.test(name) && name.length <= 63;
  if (type.group === 'rbac.authorization.k8s.io') return !name.includes('/') && name !== '.' && name !== '..';
  if (type.kind === 'CustomResourceDefinition') return DNS1123_SUBDOMAIN.test(name);
  return DNS1123_SUBDOMAIN.test(name) && name.length <= 253;
}

function checkUnknownFields(obj: KubeObject, type: ResourceType): void {
  const unknown: string[] = [];
  const top = TOP_LEVEL[type.kind];
  if (top) {
    for (const k of Object.keys(obj)) if (!['apiVersion', 'kind', 'metadata', ...top].includes(k)) unknown.push(k);
  }
  for (const k of Object.keys(obj.metadata ?? {})) if (!OBJECT_META_FIELDS.has(k)) unknown.push(`metadata.${k}`);
  const specFields = SPEC_FIELDS[type.kind];
  if (specFields && obj.spec && typeof obj.spec === 'object') {
    for (const k of Object.keys(obj.spec as object)) if (!specFields.includes(k)) unknown.push(`spec.${k}`);
  }
  const podSpec = type.kind === 'Pod' ? obj.spec : ['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'].includes(type.kind) ? obj.spec?.template?.spec : undefined;
  const prefix = type.kind === 'Pod' ? 'spec' : 'spec.template.spec';
  if (podSpec && typeof podSpec === 'object') {
    for (const k of Object.keys(podSpec as object)) if (!SPEC_FIELDS.Pod!.includes(k)) unknown.push(`${prefix}.${k}`);
  }
  if (unknown.length) {
    const list = unknown.map((u) => `unknown field "${u}"`).join(', ');
    throw badRequest(`strict decoding error: ${list}`);
  }
}

function kindSpecificCauses(obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const podSpec = obj.kind === 'Pod' ? obj.spec : ['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'].includes(obj.kind) ? obj.spec?.template?.spec : undefined;
  const prefix = obj.kind === 'Pod' ? 'spec' : 'spec.template.spec';
  if (podSpec !== undefined) {
    const containers = (podSpec as { containers?: unknown[] }).containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      causes.push({ reason: 'FieldValueRequired', field: `${prefix}.containers`, message: 'Required value' });
    } else {
      containers.forEach((c, i) => {
        const cont = c as { name?: string; image?: string };
        if (!cont.name) causes.push({ reason: 'FieldValueRequired', field: `${prefix}.containers[${i}].name`, message: 'Required value' });
        if (!cont.image) causes.push({ reason: 'FieldValueRequired', field: `${prefix}.containers[${i}].image`, message: 'Required value' });
      });
    }
  }
  if (['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'].includes(obj.kind) && obj.apiVersion.startsWith('apps/')) {
    const sel = obj.spec?.selector;
    if (!sel) causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    else {
      const labels = (obj.spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
      const ml = (sel.matchLabels ?? {}) as Record<string, string>;
      if (Object.entries(ml).some(([k, v]) => labels[k] !== v)) {
        causes.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\`` });
      }
    }
  }
  if (obj.kind === 'Node' && Array.isArray(obj.spec?.taints)) {
    (obj.spec.taints as { key?: string; effect?: string }[]).forEach((t, i) => {
      if (!t.key) causes.push({ reason: 'FieldValueRequired', field: `spec.taints[${i}].key`, message: 'Required value' });
      if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect ?? '')) {
        causes.push({ reason: 'FieldValueNotSupported', field: `spec.taints[${i}].effect`, message: `Unsupported value: "${t.effect ?? ''}": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"` });
      }
    });
  }
  if (obj.kind === 'NetworkPolicy' && obj.apiVersion === 'networking.k8s.io/v1') causes.push(...networkPolicyCauses(obj.spec ?? {}));
  return causes;
}

const CIDR_HINT = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

// ValidateNetworkPolicySpec (pkg/apis/networking/validation): policyTypes, peers, ipBlocks, ports.
function networkPolicyCauses(spec: Record<string, unknown>): StatusCause[] {
  const causes: StatusCause[] = [];
  const add = (reason: string, field: string, message: string) => causes.push({ reason, field, message });
  const types = Array.isArray(spec.policyTypes) ? (spec.policyTypes as unknown[]) : [];
  if (types.length > 2) add('FieldValueInvalid', 'spec.policyTypes', `Invalid value: ${JSON.stringify(types)}: may not specify more than two policyTypes`);
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') add('FieldValueNotSupported', `spec.policyTypes[${i}]`, `Unsupported value: "${String(t)}": supported values: "Ingress", "Egress"`);
  });
  for (const [dir, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    const rules = Array.isArray(spec[dir]) ? (spec[dir] as Record<string, unknown>[]) : [];
    rules.forEach((rule, i) => {
      const base = `spec.${dir}[${i}]`;
      const ports = Array.isArray(rule?.ports) ? (rule.ports as Record<string, unknown>[]) : [];
      ports.forEach((port, j) => policyPortCauses(port ?? {}, `${base}.ports[${j}]`, add));
      const peers = Array.isArray(rule?.[peersKey]) ? (rule[peersKey] as Record<string, unknown>[]) : [];
      peers.forEach((peer, j) => {
        const path = `${base}.${peersKey}[${j}]`;
        const count = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peer?.[k] !== undefined && peer[k] !== null).length;
        if (count === 0) add('FieldValueRequired', path, 'Required value: must specify a peer');
        else if (count > 1 && peer.ipBlock) add('FieldValueForbidden', path, 'Forbidden: may not specify both ipBlock and another peer');
        if (peer?.ipBlock) ipBlockCauses(peer.ipBlock, `${path}.ipBlock`, add);
      });
    });
  }
  return causes;
}

function ipBlockCauses(block: { cidr?: string; except?: string[] }, path: string, add: (reason: string, field: string, message: string) => void): void {
  if (!block.cidr) return add('FieldValueRequired', `${path}.cidr`, 'Required value');
  const cidr = parseCidr(block.cidr);
  if (!cidr || !/^[\d.]+\/\d+$/.test(block.cidr)) return add('FieldValueInvalid', `${path}.cidr`, `Invalid value: "${block.cidr}": ${CIDR_HINT}`);
  (block.except ?? []).forEach((e, i) => {
    const ex = parseCidr(String(e));
    if (!ex) return add('FieldValueInvalid', `${path}.except[${i}]`, `Invalid value: "${String(e)}": ${CIDR_HINT}`);
    const inside = ex.prefix > cidr.prefix && Math.floor(ex.base / 2 ** (32 - cidr.prefix)) === Math.floor(cidr.base / 2 ** (32 - cidr.prefix));
    if (!inside) add('FieldValueInvalid', `${path}.except[${i}]`, `Invalid value: "${String(e)}": must be a strict subset of \`cidr\``);
  });
}

function policyPortCauses(port: Record<string, unknown>, path: string, add: (reason: string, field: string, message: string) => void): void {
  const protocol = port.protocol === undefined ? undefined : JSON.stringify(port.protocol).replace(/^"|"$/g, '');
  if (protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(protocol)) add('FieldValueNotSupported', `${path}.protocol`, `Unsupported value: "${protocol}": supported values: "SCTP", "TCP", "UDP"`);
  const p = port.port;
  const endPort = port.endPort === undefined ? undefined : JSON.stringify(port.endPort);
  if (p === undefined || p === null) {
    if (endPort !== undefined) add('FieldValueInvalid', `${path}.endPort`, `Invalid value: ${endPort}: may not be specified when \`port\` is not specified`);
    return;
  }
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 1 || p > 65535) add('FieldValueInvalid', `${path}.port`, `Invalid value: ${p}: must be between 1 and 65535, inclusive`);
    if (typeof port.endPort === 'number' && port.endPort < p) add('FieldValueInvalid', `${path}.endPort`, `Invalid value: ${p}: must be greater than or equal to \`port\``);
  } else if (endPort !== undefined) add('FieldValueInvalid', `${path}.endPort`, `Invalid value: ${endPort}: may not be specified when \`port\` is non-numeric`);
}
