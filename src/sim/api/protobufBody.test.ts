import { describe, expect, it } from 'vitest';
import { ApiError } from './apiError.js';
import { decodeKubeProtobuf } from './protobufBody.js';

// A minimal protobuf writer for the fields these tests need (varint and length-delimited), so
// the bodies are built from field numbers, not copied from a capture.
const varint = (n: bigint): number[] => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const int = (field: number, n: number | bigint) => Buffer.from([...varint(BigInt(field << 3)), ...varint(BigInt(n))]);
const bytes = (field: number, b: Buffer | string) => {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([Buffer.from([...varint(BigInt((field << 3) | 2)), ...varint(BigInt(buf.length))]), buf]);
};
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), bytes(1, Buffer.concat([bytes(1, apiVersion), bytes(2, kind)])), bytes(2, raw)]);

describe('decodeKubeProtobuf', () => {
  it('decodes the DeleteOptions a typed client sends (grace 0 kept, preconditions, dryRun)', () => {
    const raw = Buffer.concat([int(1, 0), bytes(2, Buffer.concat([bytes(1, 'uid-1'), bytes(2, '42')])), bytes(4, 'Background'), bytes(5, 'All')]);
    expect(decodeKubeProtobuf(envelope('v1', 'DeleteOptions', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid: 'uid-1', resourceVersion: '42' },
      propagationPolicy: 'Background',
      dryRun: ['All'],
    });
  });

  it('decodes an Eviction with its DeleteOptions, and a negative int64 as negative', () => {
    const raw = Buffer.concat([bytes(1, Buffer.concat([bytes(1, 'web-0'), bytes(3, 'shop')])), bytes(2, int(1, -1))]);
    expect(decodeKubeProtobuf(envelope('policy/v1', 'Eviction', raw))).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-0', namespace: 'shop' },
      deleteOptions: { gracePeriodSeconds: -1 },
    });
  });

  it('decodes a Deployment as kubectl create sends it: labels, selector, pod template, ports, IntOrString, zero times left out', () => {
    const labels = bytes(11, Buffer.concat([bytes(1, 'app'), bytes(2, 'web')]));
    const zeroTime = bytes(8, Buffer.alloc(0));
    const meta = Buffer.concat([bytes(1, 'web'), labels, zeroTime]);
    const port = Buffer.concat([int(2, 0), int(3, 80), bytes(4, 'TCP')]);
    const container = Buffer.concat([bytes(1, 'nginx'), bytes(2, 'nginx:1.27'), bytes(3, 'nginx'), bytes(3, '-g'), bytes(6, port), bytes(8, Buffer.alloc(0))]);
    const template = Buffer.concat([bytes(1, Buffer.concat([labels, zeroTime])), bytes(2, bytes(2, container))]);
    const rolling = Buffer.concat([bytes(1, Buffer.concat([int(1, 1), bytes(3, '25%')])), bytes(2, Buffer.concat([int(1, 0), int(2, 1)]))]);
    const spec = Buffer.concat([int(1, 2), bytes(2, bytes(1, Buffer.concat([bytes(1, 'app'), bytes(2, 'web')]))), bytes(3, template), bytes(4, Buffer.concat([bytes(1, 'RollingUpdate'), bytes(2, rolling)])), int(99, 7)]);
    expect(decodeKubeProtobuf(envelope('apps/v1', 'Deployment', Buffer.concat([bytes(1, meta), bytes(2, spec), bytes(3, Buffer.alloc(0))])))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', command: ['nginx', '-g'], ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {} }] },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
      },
      status: {},
    });
  });

  it('refuses a kind it cannot decode with 415 naming the kinds it can', () => {
    let err: unknown;
    try {
      decodeKubeProtobuf(envelope('batch/v1', 'Job', Buffer.alloc(0)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(415);
    expect((err as ApiError).message).toMatch(/decodes protobuf only for DeleteOptions, Namespace, .*Deployment.*; send Job as JSON/);
  });
});
