import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/kubeTypes.js';
import { applyManifests, crdEstablished, orderManifests } from './applyManifests.js';
import { Deadline } from './deadline.js';
import { ApplyError, WaitTimeoutError } from './opsErrors.js';
import type { OpsEvent } from './opsEvents.js';
import { FakeCluster } from './testing/fakeCluster.js';
import { FakeClock } from './testing/fakeClock.js';

const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cilium-test' } };
const crd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'ciliumnodes.cilium.io' },
  spec: {
    group: 'cilium.io',
    names: { kind: 'CiliumNode', plural: 'ciliumnodes' },
    scope: 'Cluster',
    versions: [{ name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};
const cr: KubeObject = { apiVersion: 'cilium.io/v2', kind: 'CiliumNode', metadata: { name: 'n1', namespace: 'cilium-test' }, spec: {} };
const ds: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'cilium', namespace: 'kube-system' }, spec: { template: {} } };
const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'cilium-test' }, data: { a: '1' } };

describe('orderManifests', () => {
  it('puts Namespaces first, then CRDs, then the rest in file order', () => {
    const o = orderManifests([cr, ds, crd, cm, ns]);
    expect(o.namespaces).toEqual([ns]);
    expect(o.crds).toEqual([crd]);
    expect(o.rest).toEqual([cr, ds, cm]);
  });

  it('crdEstablished reads the conditions', () => {
    expect(crdEstablished({ metadata: {}, status: { conditions: [{ type: 'Established', status: 'True' }] } }).done).toBe(true);
    expect(crdEstablished({ metadata: {} })).toEqual({ done: false, status: 'not Established yet' });
    expect(crdEstablished({ metadata: {}, status: { conditions: [{ type: 'NamesAccepted', status: 'False', message: 'plural taken' }] } }).status).toBe('names not accepted: plural taken');
  });
});

describe('applyManifests', () => {
  it('applies in order and waits for the CRD before applying its custom resources', async () => {
    const fake = new FakeCluster();
    fake.crdEstablishAfterGets = 2;
    const clock = new FakeClock();
    const seen: OpsEvent[] = [];
    const out = await applyManifests(fake, [cr, ds, crd, cm, ns], { deadline: Deadline.in(30_000, clock), clock, events: (e) => seen.push(e) });
    expect(out.map((o) => o.metadata.name)).toEqual(['cilium-test', 'ciliumnodes.cilium.io', 'n1', 'cilium', 'cilium-config']);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'applyObject',
      'applyObject',
      'getCustomResourceDefinition',
      'getCustomResourceDefinition',
      'getCustomResourceDefinition',
      'applyObject',
      'applyObject',
      'applyObject',
    ]);
    // unknown fields (x-kubernetes-*) travel untouched
    expect(fake.peek('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'ciliumnodes.cilium.io')?.spec).toEqual(crd.spec);
    expect(seen.filter((e) => e.type === 'applied').map((e) => (e.type === 'applied' ? e.object : ''))).toEqual([
      'Namespace cilium-test',
      'CustomResourceDefinition ciliumnodes.cilium.io',
      'CiliumNode cilium-test/n1',
      'DaemonSet kube-system/cilium',
      'ConfigMap cilium-test/cilium-config',
    ]);
  });

  it('is idempotent: applying twice leaves the same objects', async () => {
    const fake = new FakeCluster();
    const clock = new FakeClock();
    await applyManifests(fake, [ns, cm], { deadline: Deadline.in(1000, clock), clock });
    const uid = fake.peek('v1', 'ConfigMap', 'cilium-config', 'cilium-test')?.metadata.uid;
    await applyManifests(fake, [ns, cm], { deadline: Deadline.in(1000, clock), clock });
    expect(fake.peek('v1', 'ConfigMap', 'cilium-config', 'cilium-test')?.metadata.uid).toBe(uid);
  });

  it('times out when a CRD never becomes Established', async () => {
    const fake = new FakeCluster();
    fake.crdEstablishAfterGets = Infinity;
    const clock = new FakeClock();
    const err = await applyManifests(fake, [crd, cr], { deadline: Deadline.in(5000, clock), clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe('timed out after 5s waiting for CustomResourceDefinition ciliumnodes.cilium.io to be Established: not Established yet');
    expect(fake.callsOf('applyObject')).toHaveLength(1);
  });

  it('names the object whose apply failed', async () => {
    const fake = new FakeCluster();
    const clock = new FakeClock();
    const err = await applyManifests(fake, [cr], { deadline: Deadline.in(1000, clock), clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as Error).message).toBe('applying CiliumNode cilium-test/n1: no matches for kind "CiliumNode" in version "cilium.io/v2" (is the CRD installed and Established?)');
  });
});
