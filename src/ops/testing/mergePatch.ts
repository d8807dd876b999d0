/** RFC 7386 JSON merge patch and a small RFC 6902 JSON Patch, for the in-memory fake cluster. */
import type { JsonPatchOperation } from '../../kube/clusterClient.js';

/** Applies a merge patch: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const base: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = applyMergePatch(base[k], v);
  }
  return base;
}

/** Applies add/remove/replace operations (enough for the tests); throws on a missing path. */
export function applyJsonPatch<T>(target: T, ops: JsonPatchOperation[]): T {
  const doc = structuredClone(target) as unknown as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error(`bad JSON Patch path ${op.path}`);
    let node: Record<string, unknown> = doc;
    for (const p of parts) {
      const next = node[p];
      if (next === null || typeof next !== 'object') throw new Error(`JSON Patch path ${op.path} does not exist`);
      node = next as Record<string, unknown>;
    }
    if (op.op === 'remove') {
      if (!(last in node)) throw new Error(`JSON Patch path ${op.path} does not exist`);
      delete node[last];
    } else if (op.op === 'add' || op.op === 'replace') {
      node[last] = structuredClone(op.value);
    } else {
      throw new Error(`JSON Patch op ${op.op} is not supported by the fake`);
    }
  }
  return doc as unknown as T;
}
