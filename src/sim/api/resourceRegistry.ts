/** The resource types the simulated API server serves, for routing, discovery and validation. */

export interface ResourceType {
  group: string; // "" for core
  version: string;
  /** Plural, lower-case resource name used in URLs, e.g. "daemonsets". */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served, e.g. ["status", "eviction", "proxy"]. */
  subresources: string[];
  /** Whether writes to the main resource ignore .status (types with a status subresource). */
  hasStatus: boolean;
  /** Whether metadata.generation is bumped when anything but metadata/status changes. */
  tracksGeneration: boolean;
  verbs: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function builtin(
  group: string,
  version: string,
  plural: string,
  kind: string,
  opts: Partial<Omit<ResourceType, 'group' | 'version' | 'plural' | 'kind'>> = {},
): ResourceType {
  return {
    group,
    version,
    plural,
    kind,
    singular: opts.singular ?? kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames,
    categories: opts.categories,
    subresources: opts.subresources ?? [],
    hasStatus: opts.hasStatus ?? (opts.subresources ?? []).includes('status'),
    tracksGeneration: opts.tracksGeneration ?? false,
    verbs: opts.verbs ?? ALL_VERBS,
  };
}

/** Built-in types, at the versions current Kubernetes serves (no v1beta1 RBAC, no extensions/v1beta1). */
export const BUILTIN_RESOURCES: ResourceType[] = [
  builtin('', 'v1', 'namespaces', 'Namespace', { namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  builtin('', 'v1', 'nodes', 'Node', { namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'] }),
  builtin('', 'v1', 'pods', 'Pod', {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'eviction', 'proxy', 'binding', 'log'],
  }),
  builtin('', 'v1', 'services', 'Service', { shortNames: ['svc'], categories: ['all'], subresources: ['status', 'proxy'] }),
  builtin('', 'v1', 'endpoints', 'Endpoints', { singular: 'endpoints', shortNames: ['ep'] }),
  builtin('', 'v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  builtin('', 'v1', 'secrets', 'Secret'),
  builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  builtin('', 'v1', 'events', 'Event', { shortNames: ['ev'] }),
  builtin('', 'v1', 'persistentvolumes', 'PersistentVolume', { namespaced: false, shortNames: ['pv'], subresources: ['status'] }),
  builtin('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', { shortNames: ['pvc'], subresources: ['status'] }),
  builtin('apps', 'v1', 'daemonsets', 'DaemonSet', {
    shortNames: ['ds'],
    categories: ['all'],
    subresources: ['status'],
    tracksGeneration: true,
  }),
  builtin('apps', 'v1', 'deployments', 'Deployment', {
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    tracksGeneration: true,
  }),
  builtin('apps', 'v1', 'replicasets', 'ReplicaSet', {
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    tracksGeneration: true,
  }),
  builtin('apps', 'v1', 'statefulsets', 'StatefulSet', {
    shortNames: ['sts'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    tracksGeneration: true,
  }),
  builtin('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  builtin('networking.k8s.io', 'v1', 'servicecidrs', 'ServiceCIDR', { namespaced: false, subresources: ['status'] }),
  builtin('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', { shortNames: ['netpol'] }),
  builtin('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', {
    shortNames: ['pdb'],
    subresources: ['status'],
    tracksGeneration: true,
  }),
  builtin('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  builtin('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', { namespaced: false }),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', { namespaced: false }),
  builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    subresources: ['status'],
    tracksGeneration: true,
  }),
  builtin('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  // Answered by the API server itself (apiServer.ts), never stored.
  builtin('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', { namespaced: false, verbs: ['create'] }),
  builtin('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', { namespaced: false }),
  builtin('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', { namespaced: false }),
  builtin('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
];

/** Store key of a resource: "pods", "apps/daemonsets". */
export function resourceKey(group: string, plural: string): string {
  return group ? `${group}/${plural}` : plural;
}

/** apiVersion string for a group/version. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Looks up resource types by URL parts or by apiVersion+kind; CRDs add entries at run time. */
export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceType>();
  private readonly listeners = new Set<() => void>();

  constructor(initial: ResourceType[] = BUILTIN_RESOURCES) {
    for (const r of initial) this.add(r);
  }

  /** Registers (or replaces) a resource type served at group/version/plural. */
  add(type: ResourceType): void {
    this.byKey.set(`${type.group}/${type.version}/${type.plural}`, type);
    for (const l of this.listeners) l();
  }

  /** Removes every version of a resource (a deleted CRD). */
  removeResource(group: string, plural: string): void {
    for (const [k, t] of this.byKey) if (t.group === group && t.plural === plural) this.byKey.delete(k);
    for (const l of this.listeners) l();
  }

  /** Called whenever the set of served types changes (discovery caches). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** The type served at /apis/group/version/plural, if any. */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byKey.get(`${group}/${version}/${plural}`);
  }

  /** The type for an object's apiVersion and kind, if served. */
  lookupKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    for (const t of this.byKey.values()) if (t.group === group && t.version === version && t.kind === kind) return t;
    return undefined;
  }

  /** Every served type. */
  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  /** Served group versions: "" group first, then named groups, each with its versions. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.byKey.values()) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }
}
