import type { ResourceRegistry, ResourceType } from './resourceRegistry.js';

// A minimal OpenAPI v3 surface. kubectl (apply, create, patch) asks /openapi/v3 whether a kind's
// PATCH endpoint takes the fieldValidation parameter; when it does, kubectl leaves validation to
// the server (fieldValidation=Strict) instead of downloading the whole v2 schema. Schemas are
// not served, so kubectl computes strategic merge patches from its compiled-in types, as it
// does for any server whose OpenAPI lacks them.

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** GET /openapi/v3: the group-version index. */
export function openApiV3Root(registry: ResourceRegistry): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of registry.groups()) {
    for (const v of versions) {
      const p = gvPath(group, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hashOf(registry, group, v)}` };
    }
  }
  return { paths };
}

/** GET /openapi/v3/api/v1 or /openapi/v3/apis/{group}/{version}, or undefined when not served. */
export function openApiV3GroupVersion(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const t of types) paths[itemPath(t)] = { patch: patchOperation(t) };
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.35.0' }, paths, components: { schemas: {} } };
}

function itemPath(t: ResourceType): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}/{name}` : `${base}/${t.plural}/{name}`;
}

function patchOperation(t: ResourceType): object {
  const query = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  return {
    operationId: `patch${t.kind}`,
    parameters: [query('dryRun'), query('fieldManager'), query('fieldValidation'), { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }],
    requestBody: {
      content: {
        'application/apply-patch+yaml': { schema: { type: 'object' } },
        'application/json-patch+json': { schema: { type: 'object' } },
        'application/merge-patch+json': { schema: { type: 'object' } },
      },
      required: true,
    },
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
  };
}

function hashOf(registry: ResourceRegistry, group: string, version: string): string {
  const names = registry
    .all()
    .filter((t) => t.group === group && t.version === version)
    .map((t) => t.plural)
    .sort()
    .join(',');
  let h = 0;
  for (const c of names) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0');
}
