import { ApiError, badRequest } from '../apiError.js';

/** One RFC 6902 operation. */
interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** Applies an RFC 6902 JSON patch; bad operations are 422 like kube-apiserver's "the server rejected our request". */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out = structuredClone(doc);
  for (const raw of patch as Operation[]) {
    if (!raw || typeof raw !== 'object' || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw invalidPatch('missing op or path');
    }
    out = applyOp(out, raw);
  }
  return out;
}

function invalidPatch(msg: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw invalidPatch(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, tokens: string[]): unknown {
  let cur: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[t];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: unknown; key: string } {
  const parent = getAt(doc, tokens.slice(0, -1));
  if (parent === undefined || parent === null || typeof parent !== 'object') {
    throw invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  return { parent, key: tokens[tokens.length - 1]! };
}

function applyOp(doc: unknown, op: Operation): unknown {
  const tokens = pointer(op.path);
  switch (op.op) {
    case 'add':
      return add(doc, tokens, structuredClone(op.value), op.path);
    case 'remove':
      return remove(doc, tokens, op.path);
    case 'replace': {
      if (tokens.length === 0) return structuredClone(op.value);
      if (getAt(doc, tokens) === undefined) throw invalidPatch(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
      const removed = remove(doc, tokens, op.path);
      return add(removed, tokens, structuredClone(op.value), op.path);
    }
    case 'move': {
      const from = pointer(op.from ?? '');
      const value = getAt(doc, from);
      if (value === undefined) throw invalidPatch(`move operation does not apply: doc is missing from path: ${op.from}`);
      return add(remove(doc, from, op.from ?? ''), tokens, value, op.path);
    }
    case 'copy': {
      const value = getAt(doc, pointer(op.from ?? ''));
      if (value === undefined) throw invalidPatch(`copy operation does not apply: doc is missing from path: ${op.from}`);
      return add(doc, tokens, structuredClone(value), op.path);
    }
    case 'test': {
      if (JSON.stringify(getAt(doc, tokens)) !== JSON.stringify(op.value)) throw invalidPatch(`testing value ${op.path} failed: test failed`);
      return doc;
    }
    default:
      throw invalidPatch(`Unexpected kind: ${op.op}`);
  }
}

function add(doc: unknown, tokens: string[], value: unknown, path: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const idx = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw invalidPatch(`add operation does not apply: index out of bounds: ${path}`);
    parent.splice(idx, 0, value);
  } else {
    (parent as Record<string, unknown>)[key] = value;
  }
  return doc;
}

function remove(doc: unknown, tokens: string[], path: string): unknown {
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const idx = Number(key);
    if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length) throw invalidPatch(`remove operation does not apply: doc is missing key: ${path}: missing value`);
    parent.splice(idx, 1);
  } else {
    const rec = parent as Record<string, unknown>;
    if (!(key in rec)) throw invalidPatch(`remove operation does not apply: doc is missing key: ${path}: missing value`);
    delete rec[key];
  }
  return doc;
}
