/**
 * Strategic merge patch for the built-in types the tool and kubectl touch. Lists with a patch
 * merge key are merged by that key; lists without one are replaced; primitive lists with the
 * "merge" strategy (finalizers) are unioned. Directives handled: $patch (delete/replace/merge),
 * $retainKeys, $deleteFromPrimitiveList/<field>, $setElementOrder/<field> (order only, ignored).
 */

/** Merge keys by field name, as in k8s.io/api struct tags (field name is unique enough for our types). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  addresses: 'type',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  podIPs: 'ip',
  hostIPs: 'ip',
};

/** Service ports merge by "port", container ports by "containerPort". */
function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    const first = items.find((i) => i && typeof i === 'object') as Record<string, unknown> | undefined;
    if (first && 'containerPort' in first) return 'containerPort';
    if (first && 'port' in first) return 'port';
    return 'containerPort';
  }
  return MERGE_KEYS[field];
}

const MERGE_PRIMITIVE_LISTS = new Set(['finalizers']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Applies a strategic merge patch to a JSON value. */
export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  return mergeMap(isObj(original) ? structuredClone(original) : {}, isObj(patch) ? patch : {});
}

function mergeMap(target: Obj, patch: Obj): Obj {
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest) as Obj;
  }
  if (patch.$patch === 'delete') return {};
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const cur = target[field];
      if (Array.isArray(cur) && Array.isArray(value)) target[field] = cur.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) {
      delete target[key];
      continue;
    }
    const cur = target[key];
    if (Array.isArray(value)) target[key] = mergeList(key, Array.isArray(cur) ? cur : [], value);
    else if (isObj(value)) target[key] = isObj(cur) ? mergeMap(cur, value) : stripDirectives(value);
    else target[key] = value;
  }
  if (retain) for (const k of Object.keys(target)) if (!retain.includes(k)) delete target[k];
  return target;
}

function mergeList(field: string, current: unknown[], patch: unknown[]): unknown[] {
  const key = mergeKeyFor(field, [...patch, ...current]);
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObj(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  if (!key) {
    if (MERGE_PRIMITIVE_LISTS.has(field)) {
      const out = [...current];
      for (const v of patch) if (!out.includes(v)) out.push(v);
      return out;
    }
    return patch.map(stripDirectives);
  }
  const out = current.map((c) => structuredClone(c));
  for (const p of patch) {
    if (!isObj(p)) continue;
    const idx = out.findIndex((c) => isObj(c) && c[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = mergeMap(out[idx] as Obj, p);
    else out.push(stripDirectives(p));
  }
  return out;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}
