import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimApiServer } from '../api/apiServer.js';
import { SimCluster } from '../simCluster.js';
import { ResourceRegistry } from '../api/resourceRegistry.js';
import { SettingsHolder, defaultSimulationSettings } from '../simSettings.js';
import type { WatchEvent } from '../store/kubeObject.js';
import { ObjectStore } from '../store/objectStore.js';
import { storeInfoFrom } from '../store/storeInfo.js';
import { HttpBackend, HttpBackendError, kubeconfigCredentials } from './httpBackend.js';

// HttpBackend against the simulator's HTTP server (no controllers, no model): the same REST the
// real control plane speaks. The 410/relist path runs against a scripted server.

const until = async (what: string, check: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('HttpBackend against the simulated API server', () => {
  let server: SimApiServer;
  let backend: HttpBackend;
  let store: ObjectStore;
  const token = 'secret-token';

  beforeAll(async () => {
    const registry = new ResourceRegistry();
    store = new ObjectStore(storeInfoFrom(registry));
    for (const name of ['default', 'kube-system', 'kube-node-lease']) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    server = new SimApiServer({ store, registry, settings: new SettingsHolder(defaultSimulationSettings()), token });
    const url = await server.listen(0);
    backend = new HttpBackend({ server: url, token });
  });

  afterAll(async () => {
    backend.close();
    await server.close();
  });

  it('maps resource keys to URLs through discovery', async () => {
    expect(await backend.resolve('pods')).toMatchObject({ base: '/api/v1', plural: 'pods', kind: 'Pod', namespaced: true, apiVersion: 'v1' });
    expect(await backend.resolve('nodes')).toMatchObject({ namespaced: false, kind: 'Node' });
    expect(await backend.resolve('apps/daemonsets')).toMatchObject({ base: '/apis/apps/v1', kind: 'DaemonSet' });
    expect(await backend.resolve('coordination.k8s.io/leases')).toMatchObject({ base: '/apis/coordination.k8s.io/v1', kind: 'Lease' });
    await expect(backend.resolve('k8s.cni.cncf.io/network-attachment-definitions')).rejects.toMatchObject({ status: 404 });
  });

  it('creates, gets, lists, patches, patches status and deletes', async () => {
    const created = await backend.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: '1' } } });
    expect(created.metadata.uid).toBeTruthy();
    await backend.patch('nodes', undefined, 'n1', { metadata: { labels: { b: '2', a: null } }, spec: { podCIDR: '10.244.0.0/24' } });
    await backend.patchStatus('nodes', undefined, 'n1', { conditions: [{ type: 'Ready', status: 'True' }] });
    const got = await backend.get('nodes', undefined, 'n1');
    expect(got?.metadata.labels).toEqual({ b: '2' });
    expect(got?.spec.podCIDR).toBe('10.244.0.0/24');
    expect(got?.status.conditions[0].status).toBe('True');
    expect(await backend.get('nodes', undefined, 'missing')).toBeUndefined();
    const lease = await backend.create('coordination.k8s.io/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1' } });
    expect(lease.metadata.namespace).toBe('kube-node-lease');
    const leases = await backend.list('coordination.k8s.io/leases', 'kube-node-lease');
    expect(leases.map((l) => [l.apiVersion, l.kind, l.metadata.name])).toEqual([['coordination.k8s.io/v1', 'Lease', 'n1']]);
    // A uid precondition that does not match is ignored, as is a missing object.
    await backend.delete('nodes', undefined, 'n1', { uid: 'not-the-uid' });
    expect(await backend.get('nodes', undefined, 'n1')).toBeDefined();
    await backend.delete('nodes', undefined, 'n1', { uid: created.metadata.uid! });
    expect(await backend.get('nodes', undefined, 'n1')).toBeUndefined();
    await backend.delete('nodes', undefined, 'n1');
  });

  it('reports API errors with status and reason', async () => {
    const e = await backend.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'nope' }, spec: { containers: [{ name: 'c', image: 'x' }] } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HttpBackendError);
    expect((e as HttpBackendError).status).toBe(404);
    expect((e as HttpBackendError).message).toContain('namespaces "nope" not found');
  });

  it('watches: initial ADDED, then changes with the old object, until stopped', async () => {
    store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before', namespace: 'default' }, data: { a: '1' } });
    const events: WatchEvent[] = [];
    const stop = await backend.watch('configmaps', (ev) => events.push(ev));
    expect(events.map((e) => [e.type, e.object.metadata.name, e.object.kind])).toEqual([['ADDED', 'before', 'ConfigMap']]);
    await backend.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', namespace: 'kube-system' } });
    await backend.patch('configmaps', 'default', 'before', { data: { a: '2' } });
    await backend.delete('configmaps', 'kube-system', 'after');
    await until('three more events', () => events.length >= 4);
    expect(events.slice(1).map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'after'],
      ['MODIFIED', 'before'],
      ['DELETED', 'after'],
    ]);
    expect(events[2]!.oldObject?.data).toEqual({ a: '1' });
    stop();
    await backend.patch('configmaps', 'default', 'before', { data: { a: '3' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(4);
  });

  it('watches a resource that is not served yet and picks it up when its CRD appears', async () => {
    const events: WatchEvent[] = [];
    const stop = await backend.watch('k8s.cni.cncf.io/network-attachment-definitions', (ev) => events.push(ev));
    expect(events).toEqual([]);
    await backend.create('apiextensions.k8s.io/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'network-attachment-definitions.k8s.cni.cncf.io' },
      spec: {
        group: 'k8s.cni.cncf.io',
        scope: 'Namespaced',
        names: { plural: 'network-attachment-definitions', singular: 'network-attachment-definition', kind: 'NetworkAttachmentDefinition', shortNames: ['net-attach-def'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    let served = false;
    await until('the NAD type is served', () => {
      void backend.resolve('k8s.cni.cncf.io/network-attachment-definitions').then(() => (served = true), () => {});
      return served;
    });
    await backend.create('k8s.cni.cncf.io/network-attachment-definitions', { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'cilium', namespace: 'kube-system' }, spec: { config: '{}' } });
    await until('ADDED of the NAD', () => events.length > 0, 8_000);
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'NetworkAttachmentDefinition', metadata: { name: 'cilium' } } });
    stop();
  });
});

describe('HttpBackend against a whole simulated cluster', () => {
  it("sees the cluster's pods, and its writes reach the model like the in-process backend's", async () => {
    const cluster = await SimCluster.start({ nodes: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'http-backend-'));
    writeFileSync(join(dir, 'kubeconfig'), cluster.kubeconfig());
    const backend = HttpBackend.fromKubeconfig(join(dir, 'kubeconfig'));
    try {
      await cluster.waitUntilSettled();
      const events: WatchEvent[] = [];
      const stop = await backend.watch('pods', (ev) => events.push(ev));
      const pods = cluster.store.list('pods').items;
      expect(events.map((e) => e.object.metadata.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
      const web = pods.find((p) => p.metadata.labels?.app === 'web')!;
      await backend.delete('pods', 'demo', web.metadata.name!, { gracePeriodSeconds: 5 });
      await until('the model stops the pod and it is gone', () => !cluster.store.get('pods', 'demo', web.metadata.name!), 10_000);
      await until('watch saw it deleted', () => events.some((e) => e.type === 'DELETED' && e.object.metadata.uid === web.metadata.uid));
      stop();
      await cluster.waitUntilSettled();
    } finally {
      backend.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HttpBackend watch recovery', () => {
  it('relists on 410 Gone and turns the difference into events', async () => {
    // A scripted API server: list v1 (a, b) → watch answers 410 → list v2 (b changed, c new) → quiet watch.
    const obj = (name: string, rv: string) => ({ metadata: { name, namespace: 'default', resourceVersion: rv, uid: `uid-${name}` }, data: {} });
    let lists = 0;
    const open: http.ServerResponse[] = [];
    const fake = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1') {
        res.end(JSON.stringify({ kind: 'APIResourceList', resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: [] }] }));
      } else if (url.pathname === '/api/v1/configmaps' && url.searchParams.get('watch') !== 'true') {
        lists++;
        const items = lists === 1 ? [obj('a', '1'), obj('b', '2')] : [obj('b', '7'), obj('c', '8')];
        res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: lists === 1 ? '2' : '8' }, items }));
      } else if (url.pathname === '/api/v1/configmaps') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (url.searchParams.get('resourceVersion') === '2') {
          res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 2 (5)', reason: 'Expired', code: 410 } })}\n`);
        } else {
          res.flushHeaders();
          open.push(res);
        }
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const backend = new HttpBackend({ server: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
    const events: WatchEvent[] = [];
    const stop = await backend.watch('configmaps', (ev) => events.push(ev));
    await until('relist events', () => events.length >= 5);
    expect(events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion])).toEqual([
      ['ADDED', 'a', '1'],
      ['ADDED', 'b', '2'],
      ['MODIFIED', 'b', '7'],
      ['ADDED', 'c', '8'],
      ['DELETED', 'a', '1'],
    ]);
    expect(events[0]!.object.kind).toBe('ConfigMap');
    stop();
    backend.close();
    for (const r of open) r.destroy();
    fake.closeAllConnections();
    await new Promise((r) => fake.close(r));
  });
});

describe('HttpBackend write ordering', () => {
  it('applies writes to one object in the order issued, even when the first is slow', async () => {
    const arrived: string[] = [];
    let first = true;
    const fake = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/api/v1') {
          res.end(JSON.stringify({ resources: [{ name: 'pods', namespaced: true, kind: 'Pod' }] }));
          return;
        }
        const body = Buffer.concat(chunks).toString();
        // The first status patch takes 150 ms to be applied; a second one must not overtake it.
        const delay = first ? 150 : 0;
        first = false;
        setTimeout(() => {
          arrived.push(`${req.method} ${req.url} ${body}`);
          res.end('{}');
        }, delay);
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const backend = new HttpBackend({ server: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
    await backend.resolve('pods');
    await Promise.all([
      backend.patchStatus('pods', 'default', 'p', { phase: 'Running' }),
      backend.patchStatus('pods', 'default', 'p', { phase: 'Running', ready: true }),
      backend.patchStatus('pods', 'default', 'other', { x: 1 }),
    ]);
    const forP = arrived.filter((a) => a.includes('/pods/p/'));
    expect(forP).toEqual([
      'PATCH /api/v1/namespaces/default/pods/p/status {"status":{"phase":"Running"}}',
      'PATCH /api/v1/namespaces/default/pods/p/status {"status":{"phase":"Running","ready":true}}',
    ]);
    // Other objects are not held up.
    expect(arrived[0]).toContain('/pods/other/');
    backend.close();
    fake.closeAllConnections();
    await new Promise((r) => fake.close(r));
  });
});

describe('kubeconfigCredentials', () => {
  it('reads the current context: server, CA and client cert by path (relative to the file) or inline, token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), 'CA');
      writeFileSync(
        join(dir, 'config'),
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '- {name: c, cluster: {server: "https://127.0.0.1:6443/", certificate-authority: ca.crt}}',
          'users:',
          `- {name: u, user: {client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key-data: ${Buffer.from('KEY').toString('base64')}, token: t}}`,
          'contexts:',
          '- {name: x, context: {cluster: c, user: u}}',
          'current-context: x',
        ].join('\n'),
      );
      const c = kubeconfigCredentials(join(dir, 'config'));
      expect(c.server).toBe('https://127.0.0.1:6443');
      expect(String(c.ca)).toBe('CA');
      expect(String(c.cert)).toBe('CERT');
      expect(String(c.key)).toBe('KEY');
      expect(c.token).toBe('t');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
