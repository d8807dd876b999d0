import { ApiError, badRequest } from './apiError.js';
import { MESSAGES, ROOT_MESSAGES, type ProtoField } from './protobufMessages.generated.js';

// Typed Go clients send application/vnd.kubernetes.protobuf bodies: kubectl create (namespace,
// configmap, secret, deployment, service, poddisruptionbudget, role, …), Helm's release Secrets
// and the DeleteOptions of every delete it makes, evictions with theirs. This decodes the
// Kubernetes protobuf envelope and the messages of the kinds the simulator serves, from the field
// table generated from upstream's generated.proto files (protobufMessages.generated.ts), into the
// JSON the same client would have sent. Other kinds get 415 with a hint to send JSON.

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** True when a body is in the Kubernetes protobuf envelope. */
export function isKubeProtobuf(contentType: string, body: Buffer): boolean {
  return contentType.startsWith('application/vnd.kubernetes.protobuf') || body.subarray(0, 4).equals(MAGIC);
}

/** Decodes a protobuf-encoded object into its JSON form. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body without the k8s envelope');
  // runtime.Unknown: typeMeta, raw.
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(bytesOf(unknown.get(1)?.[0]));
  const apiVersion = text(typeMeta.get(1)?.[0]);
  const kind = text(typeMeta.get(2)?.[0]);
  const message = ROOT_MESSAGES[kind];
  if (!message) {
    throw new ApiError(415, 'UnsupportedMediaType', `the simulated API server decodes protobuf only for ${Object.keys(ROOT_MESSAGES).join(', ')}; send ${kind || 'this object'} as JSON (for example with kubectl apply)`);
  }
  const obj = decodeMessage(bytesOf(unknown.get(2)?.[0]), message) as Record<string, unknown>;
  return { ...(apiVersion ? { apiVersion } : {}), kind, ...obj };
}

type Raw = bigint | Buffer;

/** The raw values of each field number, in order. */
function fields(buf: Buffer): Map<number, Raw[]> {
  const out = new Map<number, Raw[]>();
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
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw badRequest('truncated protobuf body');
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    let value: Raw;
    if (wire === 0) value = varint();
    else if (wire === 2) value = take(Number(varint()));
    else if (wire === 1) value = take(8);
    else if (wire === 5) value = take(4);
    else throw badRequest(`unsupported protobuf wire type ${wire}`);
    const num = key >>> 3;
    const list = out.get(num);
    if (list) list.push(value);
    else out.set(num, [value]);
  }
  return out;
}

const bytesOf = (v: Raw | undefined): Buffer => (v instanceof Buffer ? v : Buffer.alloc(0));
const text = (v: Raw | undefined): string => bytesOf(v).toString('utf8');
const int = (v: Raw | undefined): number => (typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0);

/** A message as JSON; the well-known apimachinery types as their JSON forms (undefined: omitted). */
function decodeMessage(buf: Buffer, name: string): unknown {
  const f = fields(buf);
  switch (name) {
    case `${META}.Time`:
    case `${META}.MicroTime`: {
      const seconds = int(f.get(1)?.[0]);
      const nanos = int(f.get(2)?.[0]);
      // A zero time marshals to null in JSON: leave it out.
      if (!seconds && !nanos) return undefined;
      const iso = new Date(seconds * 1000).toISOString();
      return name.endsWith('MicroTime') ? iso.replace(/\.\d{3}Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`) : iso.replace(/\.\d{3}Z$/, 'Z');
    }
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return int(f.get(1)?.[0]) === 1 ? text(f.get(3)?.[0]) : int(f.get(2)?.[0]);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return text(f.get(1)?.[0]);
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
    case `${META}.FieldsV1`: {
      const raw = text(f.get(1)?.[0]);
      try {
        return raw ? (JSON.parse(raw) as unknown) : undefined;
      } catch {
        throw badRequest(`${name.split('.').pop()} holds no JSON`);
      }
    }
  }
  const schema = MESSAGES[name];
  if (!schema) throw badRequest(`no protobuf schema for message ${name}`);
  const out: Record<string, unknown> = {};
  for (const [num, values] of f) {
    const field = schema[num];
    if (!field) continue;
    const [jsonName, type, repeated, keepZero] = field;
    if (type.startsWith('map:')) {
      const valueType = type.split(':')[2]!;
      const map: Record<string, unknown> = (out[jsonName] as Record<string, unknown> | undefined) ?? {};
      for (const v of values) {
        const entry = fields(bytesOf(v));
        map[text(entry.get(1)?.[0])] = scalarOrMessage(valueType, entry.get(2)?.[0]) ?? '';
      }
      out[jsonName] = map;
      continue;
    }
    const decoded = values.map((v) => scalarOrMessage(type, v));
    if (repeated) out[jsonName] = decoded.filter((d) => d !== undefined);
    else {
      const last = decoded[decoded.length - 1];
      // Go's protobuf encoding writes every non-pointer scalar; JSON omits the omitempty ones at zero.
      if (last !== undefined && (keepZero || (last !== '' && last !== 0 && last !== false))) out[jsonName] = last;
    }
  }
  return out;
}

function scalarOrMessage(type: ProtoField[1], v: Raw | undefined): unknown {
  switch (type) {
    case 'string':
      return text(v);
    case 'bytes':
      return bytesOf(v).toString('base64');
    case 'bool':
      return typeof v === 'bigint' ? v !== 0n : false;
    case 'int32':
    case 'int64':
      return int(v);
    case 'double':
      return bytesOf(v).length === 8 ? bytesOf(v).readDoubleLE(0) : 0;
    case 'float':
      return bytesOf(v).length === 4 ? bytesOf(v).readFloatLE(0) : 0;
    default:
      return decodeMessage(bytesOf(v), type);
  }
}
