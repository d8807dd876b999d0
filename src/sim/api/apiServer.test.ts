import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimApiServer } from './apiServer.js';
import { ResourceRegistry } from './resourceRegistry.js';
import { ObjectStore } from '../store/objectStore.js';
import { storeInfoFrom } from '../store/storeInfo.js';
import { SettingsHolder, defaultSimulationSettings } from '../simSettings.js';

// The HTTP layer against a bare store (no controllers): REST semantics and error shapes.
let server: SimApiServer;
let base: string;
let store: ObjectStore;
let settings: SettingsHolder;
const token = 't0ken';

async function call(method: string, path: string, body?: unknown, contentType = 'application/json', extra: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': contentType } : {}), ...extra },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
});

beforeAll(async () => {
  const registry = new ResourceRegistry();
  store = new ObjectStore(storeInfoFrom(registry));
  settings = new SettingsHolder(defaultSimulationSettings());
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  server = new SimApiServer({ store, registry, settings, token });
  base = await server.listen(0);
});

afterAll(async () => {
  await server.close();
});

describe('simulated API server', () => {
  it('forbidden rules answer 403 as RBAC does, an apply that creates needs create too, and SelfSubjectAccessReviews tell the same', async () => {
    const base0 = defaultSimulationSettings();
    settings.applyLive(base0, { forbidden: [{ resource: 'configmaps', verb: 'create' }, { resource: 'pods/eviction', verb: 'create' }] });
    try {
      const cm = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' } });
      const created = await call('PATCH', '/api/v1/namespaces/default/configmaps/rbac-new?fieldManager=t&force=true', cm('rbac-new'), 'application/apply-patch+yaml');
      expect([created.status, created.json.message]).toEqual([403, 'configmaps "rbac-new" is forbidden: User "sim-admin" cannot create resource "configmaps" in API group "" in the namespace "default"']);
      store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rbac-old', namespace: 'default' }, data: {} });
      expect((await call('PATCH', '/api/v1/namespaces/default/configmaps/rbac-old?fieldManager=t&force=true', cm('rbac-old'), 'application/apply-patch+yaml')).status).toBe(200);
      const review = (verb: string, resource: string, subresource?: string) => call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, subresource, namespace: 'default' } } });
      expect((await review('create', 'pods', 'eviction')).json.status.allowed).toBe(false);
      expect((await review('create', 'pods')).json.status.allowed).toBe(true);
      expect((await review('patch', 'configmaps')).json.status.allowed).toBe(true);
      expect(store.count('authorization.k8s.io/selfsubjectaccessreviews')).toBe(0);
    } finally {
      settings.applyLive(base0, {});
    }
  });

  it('requires the bearer token', async () => {
    const res = await fetch(`${base}/api/v1/pods`);
    expect(res.status).toBe(401);
  });

  it('serves discovery without v1beta1 RBAC', async () => {
    const groups = await call('GET', '/apis');
    const rbac = groups.json.groups.find((g: { name: string }) => g.name === 'rbac.authorization.k8s.io');
    expect(rbac.versions.map((v: { version: string }) => v.version)).toEqual(['v1']);
    expect((await call('GET', '/apis/rbac.authorization.k8s.io/v1beta1')).status).toBe(404);
    const core = await call('GET', '/api/v1');
    expect(core.json.resources.find((r: { name: string }) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction' });
  });

  it('creates, gets, lists with selectors and pages', async () => {
    for (const n of ['a', 'b', 'c']) expect((await call('POST', '/api/v1/namespaces/default/pods', pod(n, { app: n === 'c' ? 'other' : 'web' }))).status).toBe(201);
    const got = await call('GET', '/api/v1/namespaces/default/pods/a');
    expect(got.json.metadata.uid).toMatch(/[0-9a-f-]{36}/);
    const list = await call('GET', '/api/v1/pods?labelSelector=app%3Dweb');
    expect(list.json.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['a', 'b']);
    const page1 = await call('GET', '/api/v1/namespaces/default/pods?limit=2');
    expect(page1.json.items).toHaveLength(2);
    const page2 = await call('GET', `/api/v1/namespaces/default/pods?limit=2&continue=${encodeURIComponent(page1.json.metadata.continue)}`);
    expect(page2.json.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['c']);
    const byField = await call('GET', '/api/v1/pods?fieldSelector=metadata.name%3Db');
    expect(byField.json.items).toHaveLength(1);
  });

  it('answers 404, 409 and 422 with Kubernetes Status bodies', async () => {
    const missing = await call('GET', '/api/v1/namespaces/default/pods/nope');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
    const dup = await call('POST', '/api/v1/namespaces/default/pods', pod('a'));
    expect(dup.json).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const noName = await call('POST', '/api/v1/namespaces/default/pods', { ...pod('x'), metadata: {} });
    expect(noName.status).toBe(422);
    expect(noName.json.message).toContain('metadata.name: Required value: name or generateName is required');
    const badName = await call('POST', '/api/v1/namespaces/default/pods', pod('Bad_Name'));
    expect(badName.json.reason).toBe('Invalid');
    const noNs = await call('POST', '/api/v1/namespaces/ghost/pods', pod('z'));
    expect(noNs.json).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
  });

  it('refuses malformed bodies and unknown fields (strict) with 400 and keeps serving', async () => {
    const bad = await call('POST', '/api/v1/namespaces/default/pods', '{"kind": "Pod", nope');
    expect(bad.status).toBe(400);
    expect(bad.json.reason).toBe('BadRequest');
    const unknown = await call('POST', '/api/v1/namespaces/default/pods?fieldValidation=Strict', { ...pod('u'), spec: { ...pod('u').spec, bogus: 1 } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toContain('unknown field "spec.bogus"');
    const badSelector = await call('GET', '/api/v1/pods?labelSelector=a%20in%20(');
    expect(badSelector.status).toBe(400);
    expect((await call('GET', '/api/v1/namespaces/default/pods/a')).status).toBe(200);
  });

  it('detects a stale resourceVersion with 409 Conflict on update and merge patch', async () => {
    const cur = (await call('GET', '/api/v1/namespaces/default/pods/a')).json;
    const upd = await call('PUT', '/api/v1/namespaces/default/pods/a', { ...cur, metadata: { ...cur.metadata, labels: { x: '1' } } });
    expect(upd.status).toBe(200);
    const stale = await call('PUT', '/api/v1/namespaces/default/pods/a', { ...cur, metadata: { ...cur.metadata, labels: { x: '2' } } });
    expect(stale.json).toMatchObject({ code: 409, reason: 'Conflict' });
    const stalePatch = await call('PATCH', '/api/v1/namespaces/default/pods/a', { metadata: { resourceVersion: cur.metadata.resourceVersion, labels: { y: '1' } } }, 'application/merge-patch+json');
    expect(stalePatch.status).toBe(409);
  });

  it('applies merge, strategic and JSON patches and refuses unknown patch types', async () => {
    await call('PATCH', '/api/v1/namespaces/default/pods/b', { metadata: { labels: { tier: 'x' } } }, 'application/merge-patch+json');
    await call('PATCH', '/api/v1/namespaces/default/pods/b', { spec: { containers: [{ name: 'c', image: 'nginx:1.28' }] } }, 'application/strategic-merge-patch+json');
    await call('PATCH', '/api/v1/namespaces/default/pods/b', [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }], 'application/json-patch+json');
    const b = (await call('GET', '/api/v1/namespaces/default/pods/b')).json;
    expect(b.metadata.labels).toEqual({ app: 'web', tier: 'x' });
    expect(b.spec.containers[0].image).toBe('nginx:1.28');
    expect(b.metadata.annotations).toEqual({ a: 'b' });
    const bad = await call('PATCH', '/api/v1/namespaces/default/pods/b', { a: 1 }, 'text/plain');
    expect(bad.status).toBe(415);
  });

  it('server-side apply creates then updates a whole object', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data: { a: '1' } };
    const created = await call('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=test&force=true', JSON.stringify(cm), 'application/apply-patch+yaml');
    expect(created.status).toBe(201);
    const updated = await call('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=test&force=true', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "2"\n', 'application/apply-patch+yaml');
    expect(updated.json.data).toEqual({ a: '2' });
    const noManager = await call('PATCH', '/api/v1/namespaces/default/configmaps/ssa', JSON.stringify(cm), 'application/apply-patch+yaml');
    expect(noManager.status).toBe(422);
  });

  it('streams watch events from a resourceVersion and turns selector exits into DELETED', async () => {
    const rv = (await call('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion;
    const ctrl = new AbortController();
    const res = await fetch(`${base}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb`, { headers: { Authorization: `Bearer ${token}` }, signal: ctrl.signal });
    const reader = res.body!.getReader();
    const events: { type: string; object: { metadata: { name: string } } }[] = [];
    let buf = '';
    await call('PATCH', '/api/v1/namespaces/default/pods/b', { metadata: { labels: { app: 'gone' } } }, 'application/merge-patch+json');
    await call('POST', '/api/v1/namespaces/default/pods', pod('d', { app: 'web' }));
    const deadline = Date.now() + 10_000;
    while (events.length < 2 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) events.push(JSON.parse(l));
    }
    ctrl.abort();
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['DELETED b', 'ADDED d']);
  });

  it('injects configured API faults', async () => {
    settings.applyLive(defaultSimulationSettings(), { faults: [{ resource: 'configmaps', verb: 'list', share: 1, code: 500 }] });
    const res = await call('GET', '/api/v1/namespaces/default/configmaps');
    expect(res.status).toBe(500);
    expect((await call('GET', '/api/v1/namespaces/default/pods')).status).toBe(200);
    settings.applyLive(defaultSimulationSettings(), {});
    expect((await call('GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
  });

  it('meters answers (bytes per request key, latency) but not watches', async () => {
    const before = server.requestStats.summary();
    const list = await call('GET', '/api/v1/namespaces/default/configmaps');
    const after = server.requestStats.summary();
    expect(after.answers).toBe(before.answers + 1);
    expect((after.bytes['list configmaps'] ?? 0) - (before.bytes['list configmaps'] ?? 0)).toBe(Buffer.byteLength(list.text));
    const ac = new AbortController();
    const watch = await fetch(`${base}/api/v1/namespaces/default/configmaps?watch=true`, { headers: { Authorization: `Bearer ${token}` }, signal: ac.signal });
    expect(watch.status).toBe(200);
    ac.abort();
    expect(server.requestStats.summary().bytes['watch configmaps']).toBeUndefined();
  });
});
