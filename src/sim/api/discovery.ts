import type { ResourceRegistry, ResourceType } from './resourceRegistry.js';

// Discovery documents as kube-apiserver serves them (aggregated discovery is not offered, so
// clients fall back to these legacy endpoints — kubectl and client-node both do).

const SUBRESOURCE_KINDS: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  proxy: { kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  log: { kind: 'Pod', verbs: ['get'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  finalize: { kind: 'Namespace', verbs: ['update'] },
};

/** GET /api */
export function apiVersions(): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  };
}

function groupDoc(group: string, versions: string[]): object {
  const gv = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: gv, preferredVersion: gv[0] };
}

/** GET /apis */
export function apiGroupList(registry: ResourceRegistry): object {
  const groups = [...registry.groups().entries()].filter(([g]) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([g, v]) => groupDoc(g, v)) };
}

/** GET /apis/{group}, or undefined when the group is not served. */
export function apiGroup(registry: ResourceRegistry, group: string): object | undefined {
  const versions = registry.groups().get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, versions) };
}

/** GET /api/v1 or /apis/{group}/{version}, or undefined when not served. */
export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: object[] = [];
  for (const t of types.sort((a, b) => a.plural.localeCompare(b.plural))) {
    resources.push(resourceEntry(t));
    for (const sub of t.subresources) {
      const info = SUBRESOURCE_KINDS[sub];
      if (!info) continue;
      resources.push({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(info.group !== undefined ? { group: info.group, version: info.version } : {}),
        kind: info.kind || t.kind,
        verbs: info.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function resourceEntry(t: ResourceType): object {
  return {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories?.length ? { categories: t.categories } : {}),
    storageVersionHash: Buffer.from(`${t.group}/${t.version}/${t.kind}`).toString('base64').slice(0, 11),
  };
}

/** GET /version: a current Kubernetes version, so clients do not warn about skew. */
export function versionInfo(): object {
  return {
    major: '1',
    minor: '35',
    gitVersion: 'v1.35.0-cni-migration-sim',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.26.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
