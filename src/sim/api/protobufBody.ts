import { ApiError, badRequest } from './apiError.js';

// kubectl's typed clients (kubectl create namespace/configmap/secret/serviceaccount) send
// application/vnd.kubernetes.protobuf bodies. This decodes the Kubernetes protobuf envelope and
// the few kinds those commands create; other kinds get 415 with a hint to use JSON/apply.

type Field = { kind: 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'message' | 'map' | 'mapBytes'; name: string; repeated?: boolean; schema?: Schema };
type Schema = Record<number, Field>;

const TIME: Schema = { 1: { kind: 'int', name: 'seconds' }, 2: { kind: 'int', name: 'nanos' } };
const OWNER_REF: Schema = {
  1: { kind: 'string', name: 'kind' },
  3: { kind: 'string', name: 'name' },
  4: { kind: 'string', name: 'uid' },
  5: { kind: 'string', name: 'apiVersion' },
  6: { kind: 'bool', name: 'controller' },
  7: { kind: 'bool', name: 'blockOwnerDeletion' },
};
const OBJECT_META: Schema = {
  1: { kind: 'string', name: 'name' },
  2: { kind: 'string', name: 'generateName' },
  3: { kind: 'string', name: 'namespace' },
  5: { kind: 'string', name: 'uid' },
  6: { kind: 'string', name: 'resourceVersion' },
  7: { kind: 'int', name: 'generation' },
  8: { kind: 'time', name: 'creationTimestamp', schema: TIME },
  11: { kind: 'map', name: 'labels' },
  12: { kind: 'map', name: 'annotations' },
  13: { kind: 'message', name: 'ownerReferences', repeated: true, schema: OWNER_REF },
  14: { kind: 'string', name: 'finalizers', repeated: true },
};
const LOCAL_REF: Schema = { 1: { kind: 'string', name: 'name' } };
const KINDS: Record<string, Schema> = {
  Namespace: {
    1: { kind: 'message', name: 'metadata', schema: OBJECT_META },
    2: { kind: 'message', name: 'spec', schema: { 1: { kind: 'string', name: 'finalizers', repeated: true } } },
  },
  ConfigMap: {
    1: { kind: 'message', name: 'metadata', schema: OBJECT_META },
    2: { kind: 'map', name: 'data' },
    3: { kind: 'mapBytes', name: 'binaryData' },
    4: { kind: 'bool', name: 'immutable' },
  },
  Secret: {
    1: { kind: 'message', name: 'metadata', schema: OBJECT_META },
    2: { kind: 'mapBytes', name: 'data' },
    3: { kind: 'string', name: 'type' },
    4: { kind: 'map', name: 'stringData' },
    5: { kind: 'bool', name: 'immutable' },
  },
  ServiceAccount: {
    1: { kind: 'message', name: 'metadata', schema: OBJECT_META },
    3: { kind: 'message', name: 'imagePullSecrets', repeated: true, schema: LOCAL_REF },
    4: { kind: 'bool', name: 'automountServiceAccountToken' },
  },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** True when a body is in the Kubernetes protobuf envelope. */
export function isKubeProtobuf(contentType: string, body: Buffer): boolean {
  return contentType.startsWith('application/vnd.kubernetes.protobuf') || body.subarray(0, 4).equals(MAGIC);
}

/** Decodes a protobuf-encoded object into its JSON form. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body without the k8s envelope');
  const unknown = decode(body.subarray(4), {
    1: { kind: 'message', name: 'typeMeta', schema: { 1: { kind: 'string', name: 'apiVersion' }, 2: { kind: 'string', name: 'kind' } } },
    2: { kind: 'bytes', name: 'raw' },
  });
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = KINDS[typeMeta.kind ?? ''];
  if (!schema) {
    throw new ApiError(415, 'UnsupportedMediaType', `the simulated API server decodes protobuf only for ${Object.keys(KINDS).join(', ')}; send ${typeMeta.kind ?? 'this object'} as JSON (for example with kubectl apply)`);
  }
  const obj = decode(unknown.raw as Buffer, schema);
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...obj };
}

function decode(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw badRequest('truncated protobuf body');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const num = key >>> 3;
    const wire = key & 7;
    let value: unknown;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw badRequest(`unsupported protobuf wire type ${wire}`);
    const field = schema[num];
    if (!field || value === undefined) continue;
    const converted = convert(field, value);
    // Go's protobuf encoding writes empty optional strings; JSON omits them.
    if (converted === '' && !field.repeated) continue;
    if (field.kind === 'map' || field.kind === 'mapBytes') {
      const [k, v] = converted as [string, string];
      out[field.name] = { ...((out[field.name]) ?? {}), [k]: v };
    } else if (field.repeated) {
      out[field.name] = [...((out[field.name] as unknown[]) ?? []), converted];
    } else out[field.name] = converted;
  }
  return out;
}

function convert(field: Field, value: unknown): unknown {
  const bytes = value as Buffer;
  switch (field.kind) {
    case 'string':
      return bytes.toString('utf8');
    case 'bytes':
      return bytes;
    case 'int':
      return Number(value);
    case 'bool':
      return (value as bigint) !== 0n;
    case 'time': {
      const t = decode(bytes, TIME) as { seconds?: number };
      return new Date((t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'message':
      return decode(bytes, field.schema ?? {});
    case 'map':
    case 'mapBytes': {
      const e = decode(bytes, { 1: { kind: 'string', name: 'k' }, 2: { kind: field.kind === 'map' ? 'string' : 'bytes', name: 'v' } });
      const v = e.v instanceof Buffer ? e.v.toString('base64') : (e.v ?? '');
      return [e.k ?? '', v];
    }
  }
}
