import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeCluster, openClusterFromText } from './cluster.js';
import { ClusterUnreachableError, KubeApiError, KubeRequestTimeoutError, NoKindMatchError } from './kubeErrors.js';
import { DEFAULT_RETRY_POLICY, type RetryNotice } from './requestRetry.js';
import { statusBody, TestApiServer, tokenKubeconfig, type RecordedRequest, type ScriptedResponse } from './testing/testApiServer.js';

const TOKEN = 'sekret-token-0123456789';

const APPS_V1 = {
  kind: 'APIResourceList',
  groupVersion: 'apps/v1',
  resources: [
    { name: 'daemonsets', namespaced: true, kind: 'DaemonSet', verbs: ['get', 'patch'] },
    { name: 'daemonsets/status', namespaced: true, kind: 'DaemonSet', verbs: ['get'] },
  ],
};
const CORE_V1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['get'] },
    { name: 'pods', namespaced: true, kind: 'Pod', verbs: ['get'] },
    { name: 'pods/eviction', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  ],
};

let server: TestApiServer;
let client: KubeCluster;

function answer(routes: Record<string, ScriptedResponse | ((r: RecordedRequest) => ScriptedResponse)>): void {
  server.respond((r) => {
    const hit = routes[`${r.method} ${r.path}`];
    if (!hit) return { status: 404, text: '404 page not found\n' };
    return typeof hit === 'function' ? hit(r) : hit;
  });
}

beforeEach(async () => {
  server = await TestApiServer.start();
  client = openClusterFromText(tokenKubeconfig(server.url, TOKEN, { namespace: 'team' }), { requestTimeoutMs: 2000 }).client;
});

afterEach(async () => {
  client.close();
  await server.stop();
});

describe('KubeCluster over HTTP', () => {
  it('describes its target without credentials and sends the bearer token', async () => {
    expect(client.target).toEqual({ server: server.url, context: 'ctx1', user: 'u1' });
    answer({ 'GET /api/v1/nodes/n1': { status: 200, json: { kind: 'Node', metadata: { name: 'n1', unknownField: 1 } } } });
    const node = await client.getNode('n1');
    expect(node.metadata).toEqual({ name: 'n1', unknownField: 1 });
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0]?.headers.accept).toBe('application/json');
  });

  it('patches nodes as merge patches, with the resourceVersion in the body for optimistic locking', async () => {
    answer({ 'PATCH /api/v1/nodes/n1': { status: 200, json: { metadata: { name: 'n1' } } } });
    await client.patchNode('n1', { spec: { taints: [] } }, { resourceVersion: '42' });
    await client.patchNode('n1', { metadata: { labels: { a: null } } });
    const [withRv, plain] = server.requests;
    expect(withRv?.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(withRv?.body ?? '')).toEqual({ spec: { taints: [] }, metadata: { resourceVersion: '42' } });
    expect(JSON.parse(plain?.body ?? '')).toEqual({ metadata: { labels: { a: null } } });
  });

  it('maps a 409 to KubeApiError with code, reason, message and causes', async () => {
    answer({ 'PATCH /api/v1/nodes/n1': { status: 409, json: statusBody(409, 'Conflict', 'the object has been modified', [{ reason: 'FieldValueInvalid', message: 'x' }]) } });
    const e = (await client.patchNode('n1', {}, { resourceVersion: '1' }).catch((x: unknown) => x)) as KubeApiError;
    expect(e).toBeInstanceOf(KubeApiError);
    expect({ code: e.code, reason: e.reason, message: e.message, causes: e.causes, request: e.request }).toEqual({
      code: 409,
      reason: 'Conflict',
      message: 'the object has been modified',
      causes: [{ reason: 'FieldValueInvalid', message: 'x' }],
      request: 'PATCH /api/v1/nodes/n1',
    });
  });

  it('lists pods across pages with the field and label selectors', async () => {
    answer({
      'GET /api/v1/pods': (r) =>
        r.query.continue === 'tok'
          ? { status: 200, json: { items: [{ metadata: { name: 'b' } }], metadata: {} } }
          : { status: 200, json: { items: [{ metadata: { name: 'a' } }], metadata: { continue: 'tok' } } },
      'GET /api/v1/namespaces/demo/pods': { status: 200, json: { items: [] } },
    });
    const pods = await client.listPods({ fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=web' });
    expect(pods.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect(server.requests.map((r) => r.query)).toEqual([
      { labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: '500' },
      { labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: '500', continue: 'tok' },
    ]);
    await client.listPods({ namespace: 'demo' });
    expect(server.requests[2]?.path).toBe('/api/v1/namespaces/demo/pods');
  });

  it('evicts through policy/v1 and returns every outcome as data', async () => {
    const replies: ScriptedResponse[] = [
      { status: 201, json: { kind: 'Status', status: 'Success' } },
      { status: 404, json: statusBody(404, 'NotFound', 'pods "p" not found') },
      {
        status: 429,
        json: statusBody(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", [
          { reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' },
        ]),
      },
      { status: 429, json: statusBody(429, 'TooManyRequests', 'rate limited'), headers: { 'Retry-After': '3' } },
      { status: 403, json: statusBody(403, 'Forbidden', 'namespace demo is terminating', [{ reason: 'NamespaceTerminating', message: 'demo' }]) },
      { status: 500, json: statusBody(500, 'InternalError', 'This pod has more than one PodDisruptionBudget') },
    ];
    answer({ 'POST /api/v1/namespaces/demo/pods/p/eviction': () => replies.shift() ?? { status: 500, text: '' } });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await client.evictPod('demo', 'p', i === 0 ? { gracePeriodSeconds: 30 } : {}));
    expect(results).toEqual([
      { outcome: 'evicted' },
      { outcome: 'notFound' },
      {
        outcome: 'blockedByPdb',
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
        causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }],
      },
      { outcome: 'tooManyRequests', message: 'rate limited', retryAfterSeconds: 3 },
      { outcome: 'namespaceTerminating', message: 'namespace demo is terminating' },
      { outcome: 'failed', code: 500, reason: 'InternalError', message: 'This pod has more than one PodDisruptionBudget' },
    ]);
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'p', namespace: 'demo' },
      deleteOptions: { gracePeriodSeconds: 30 },
    });
    expect(JSON.parse(server.requests[1]?.body ?? '')).not.toHaveProperty('deleteOptions');
  });

  it('deletes with DeleteOptions (grace period, UID precondition) and reports 404 as notFound', async () => {
    let first = true;
    answer({
      'DELETE /api/v1/namespaces/demo/pods/p': () => {
        const r: ScriptedResponse = first ? { status: 200, json: {} } : { status: 404, json: statusBody(404, 'NotFound', 'gone') };
        first = false;
        return r;
      },
    });
    expect(await client.deletePod('demo', 'p', { gracePeriodSeconds: 0, uid: 'u-1' })).toBe('deleted');
    expect(await client.deletePod('demo', 'p')).toBe('notFound');
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'u-1' } });
  });

  it('patches workloads with the content type of each patch type', async () => {
    answer({ 'PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/canal': { status: 200, json: { metadata: { name: 'canal' } } } });
    await client.patchWorkload('DaemonSet', 'kube-system', 'canal', { type: 'merge', body: { spec: {} } });
    await client.patchWorkload('DaemonSet', 'kube-system', 'canal', { type: 'strategic', body: { spec: {} } });
    await client.patchWorkload('DaemonSet', 'kube-system', 'canal', { type: 'json', body: [{ op: 'remove', path: '/spec/template/spec/nodeSelector' }] });
    expect(server.requests.map((r) => r.headers['content-type'])).toEqual([
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/json-patch+json',
    ]);
  });

  it('server-side applies raw: discovery resolves the resource, unknown fields survive, server-set metadata is dropped', async () => {
    answer({
      'GET /apis/apps/v1': { status: 200, json: APPS_V1 },
      'PATCH /apis/apps/v1/namespaces/team/daemonsets/cilium': (r) => ({ status: 200, json: JSON.parse(r.body) as unknown }),
    });
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', resourceVersion: '9', uid: 'x', managedFields: [{}], labels: { a: 'b' } },
      spec: { template: { spec: { futureField: { 'x-kubernetes-int-or-string': true } } } },
    };
    await client.applyObject(ds);
    await client.applyObject(ds);
    const patch = server.requests.filter((r) => r.method === 'PATCH');
    expect(patch).toHaveLength(2);
    expect(patch[0]?.query).toEqual({ fieldManager: 'cni-migration', force: 'true' });
    expect(patch[0]?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(JSON.parse(patch[0]?.body ?? '')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'team', labels: { a: 'b' } },
      spec: { template: { spec: { futureField: { 'x-kubernetes-int-or-string': true } } } },
    });
    // discovery is cached
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
  });

  it('applies cluster-scoped objects without a namespace, and refetches discovery once for a new kind', async () => {
    let crdServed = false;
    answer({
      'GET /api/v1': { status: 200, json: CORE_V1 },
      'PATCH /api/v1/namespaces/kube-system': { status: 200, json: {} },
      'GET /apis/cilium.io/v2': () => (crdServed ? { status: 200, json: { resources: [{ name: 'ciliumnodes', namespaced: false, kind: 'CiliumNode' }] } } : { status: 404, text: 'not found' }),
      'PATCH /apis/cilium.io/v2/ciliumnodes/n1': { status: 200, json: {} },
    });
    await client.applyObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system', namespace: 'ignored' } });
    expect(JSON.parse(server.requests.at(-1)?.body ?? '').metadata).toEqual({ name: 'kube-system' });
    const err = await client.applyObject({ apiVersion: 'cilium.io/v2', kind: 'CiliumNode', metadata: { name: 'n1' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoKindMatchError);
    expect(server.requests.filter((r) => r.path === '/apis/cilium.io/v2')).toHaveLength(2);
    crdServed = true;
    await client.applyObject({ apiVersion: 'cilium.io/v2', kind: 'CiliumNode', metadata: { name: 'n1' } });
    expect(server.requests.at(-1)?.path).toBe('/apis/cilium.io/v2/ciliumnodes/n1');
  });

  it('reads discovery for pods/eviction like kubectl', async () => {
    answer({ 'GET /api/v1': { status: 200, json: CORE_V1 } });
    expect(await client.hasPodEviction()).toBe(true);
    answer({ 'GET /api/v1': { status: 200, json: { resources: [{ name: 'pods/eviction', kind: 'Eviction', namespaced: true }] } } });
    const fresh = openClusterFromText(tokenKubeconfig(server.url, TOKEN)).client;
    expect(await fresh.hasPodEviction()).toBe(false);
    fresh.close();
  });

  it('proxies GETs to a pod port and returns status and raw body, errors included', async () => {
    answer({
      'GET /api/v1/namespaces/probe/pods/agent-1:8080/proxy/v1/results': (r) => ({ status: 200, text: `ok ${r.query.since ?? ''}`, headers: { 'Content-Type': 'text/plain' } }),
      'GET /api/v1/namespaces/probe/pods/agent-2:8080/proxy/healthz': {
        status: 503,
        json: statusBody(503, 'ServiceUnavailable', 'error trying to reach service: dial tcp 10.0.0.9:8080: connect: connection refused'),
      },
    });
    expect(await client.proxyPodGet('probe', 'agent-1', 8080, '/v1/results', { query: { since: '5' } })).toEqual({ status: 200, body: 'ok 5', contentType: 'text/plain' });
    const bad = await client.proxyPodGet('probe', 'agent-2', 8080, 'healthz');
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body)).toMatchObject({ reason: 'ServiceUnavailable' });
  });

  it('turns non-JSON error bodies into KubeApiError with the reason of the code', async () => {
    const e = (await client.getPod('x', 'y').catch((x: unknown) => x)) as KubeApiError;
    expect([e.code, e.reason, e.message]).toEqual([404, 'NotFound', '404 page not found']);
  });

  it('times out a request that gets no answer', async () => {
    server.respond(() => 'hang');
    const slow = openClusterFromText(tokenKubeconfig(server.url, TOKEN), { requestTimeoutMs: 100, retry: { ...DEFAULT_RETRY_POLICY, attempts: 1 } }).client;
    const e = await slow.getNode('n1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeRequestTimeoutError);
    expect((e as Error).message).toBe(`GET /api/v1/nodes/n1 to ${server.url} got no answer within 100 ms`);
    slow.close();
  });

  it('honours a path prefix in the server URL', async () => {
    answer({ 'GET /k8s/clusters/c-1/api/v1/nodes/n1': { status: 200, json: { metadata: { name: 'n1' } } } });
    const prefixed = openClusterFromText(tokenKubeconfig(`${server.url}/k8s/clusters/c-1`, TOKEN)).client;
    expect((await prefixed.getNode('n1')).metadata.name).toBe('n1');
    prefixed.close();
  });
});

describe('transient failures', () => {
  const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 50 };
  function retrying(extra: { requestTimeoutMs?: number } = {}): { c: KubeCluster; notices: RetryNotice[] } {
    const notices: RetryNotice[] = [];
    const c = openClusterFromText(tokenKubeconfig(server.url, TOKEN), { retry: fast, onRetry: (n) => notices.push(n), ...extra }).client;
    return { c, notices };
  }
  /** Answers from a script, one per request, the last one repeated. */
  function script(...answers: ScriptedResponse[]): void {
    let i = 0;
    server.respond(() => answers[Math.min(i++, answers.length - 1)]!);
  }

  it('a write answered 500, then dropped, then 200 is sent again and succeeds, each retry told', async () => {
    script({ status: 500, json: statusBody(500, 'InternalError', 'etcdserver: leader changed') }, 'reset', { status: 200, json: { metadata: { name: 'n1', labels: { a: 'b' } } } });
    const { c, notices } = retrying();
    const node = await c.patchNode('n1', { metadata: { labels: { a: 'b' } } });
    expect(node.metadata.labels).toEqual({ a: 'b' });
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual(Array(3).fill('PATCH /api/v1/nodes/n1 {"metadata":{"labels":{"a":"b"}}}'));
    expect(notices.map((n) => [n.request, n.attempt, n.why, n.message])).toEqual([
      ['PATCH /api/v1/nodes/n1', 1, 'the API server failed the request (500)', 'etcdserver: leader changed'],
      ['PATCH /api/v1/nodes/n1', 2, 'the connection broke (ECONNRESET)', `cannot reach the Kubernetes API server at ${server.url} (ECONNRESET): socket hang up`],
    ]);
    c.close();
  });

  it("waits as long as a 429's Retry-After asks (capped)", async () => {
    script({ status: 429, json: statusBody(429, 'TooManyRequests', 'slow down'), headers: { 'Retry-After': '1' } }, { status: 200, json: { items: [] } });
    const { c, notices } = retrying();
    expect(await c.listNodes()).toEqual([]);
    expect(notices.map((n) => n.delayMs)).toEqual([50]);
    c.close();
  });

  it('a persistent failure stops after the last attempt with its own error, type kept, and how long it was tried', async () => {
    script({ status: 503, json: statusBody(503, 'ServiceUnavailable', 'the server is currently unable to handle the request') });
    const { c, notices } = retrying();
    const e = (await c.getNode('n1').catch((x: unknown) => x)) as KubeApiError;
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.code).toBe(503);
    expect(e.message).toMatch(/^the server is currently unable to handle the request \(tried 4 times over \d+\.\d s\)$/);
    expect(server.requests).toHaveLength(4);
    expect(notices.map((n) => n.attempt)).toEqual([1, 2, 3]);
    c.close();
  });

  it('a timeout is retried; an answer that would repeat (404, 409) is not', async () => {
    script('hang', { status: 200, json: { metadata: { name: 'n1' } } });
    const { c } = retrying({ requestTimeoutMs: 100 });
    expect((await c.getNode('n1')).metadata.name).toBe('n1');
    expect(server.requests).toHaveLength(2);
    script({ status: 409, json: statusBody(409, 'Conflict', 'the object has been modified') });
    const e = (await c.patchNode('n1', {}, { resourceVersion: '7' }).catch((x: unknown) => x)) as KubeApiError;
    expect([e.code, e.message]).toEqual([409, 'the object has been modified']);
    expect(server.requests).toHaveLength(3);
    c.close();
  });

  it("evictions are not retried here: a 500 comes back as data for the drain's own pacing", async () => {
    script({ status: 500, json: statusBody(500, 'InternalError', 'boom') });
    const { c, notices } = retrying();
    expect(await c.evictPod('demo', 'web-a')).toEqual({ outcome: 'failed', code: 500, reason: 'InternalError', message: 'boom' });
    expect(server.requests).toHaveLength(1);
    expect(notices).toEqual([]);
    c.close();
  });

  it('a server that answered before and now refuses (restarting) is waited for; refused on first contact fails at once', async () => {
    const port = await freePort();
    const first = openClusterFromText(tokenKubeconfig(`http://127.0.0.1:${port}`, TOKEN), { retry: fast }).client;
    const started = Date.now();
    expect(await first.listNodes().catch((x: unknown) => (x as ClusterUnreachableError).code)).toBe('ECONNREFUSED');
    first.close();
    script({ status: 200, json: { metadata: { name: 'n1' } } });
    const notices: RetryNotice[] = [];
    const c = openClusterFromText(tokenKubeconfig(server.url, TOKEN), { retry: { ...fast, attempts: 50, baseDelayMs: 20, maxDelayMs: 20 }, onRetry: (n) => notices.push(n) }).client;
    await c.getNode('n1');
    const url = server.url;
    await server.stop();
    const restarted = c.getNode('n1');
    // Back on the same port once the client has been refused at least once (a kept-alive
    // connection may first break with ECONNRESET).
    const refused = 'the API server refused the connection (restarting?)';
    await waitUntil(() => notices.some((n) => n.why === refused));
    server = await TestApiServer.start(() => ({ status: 200, json: { metadata: { name: 'n1' } } }), Number(new URL(url).port));
    expect((await restarted).metadata.name).toBe('n1');
    expect(Date.now() - started).toBeLessThan(10_000);
    c.close();
  });
});

describe('unreachable servers', () => {
  it('connection refused names the server and never the token', async () => {
    const port = await freePort();
    const c = openClusterFromText(tokenKubeconfig(`http://127.0.0.1:${port}`, TOKEN)).client;
    const e = await c.listNodes().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterUnreachableError);
    expect((e as ClusterUnreachableError).code).toBe('ECONNREFUSED');
    expect((e as Error).message).toContain(`cannot reach the Kubernetes API server at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(JSON.stringify(e) + String(e)).not.toContain(TOKEN);
  });

  it('a TLS failure (https against a plain HTTP server) is unreachable too', async () => {
    const s = await TestApiServer.start();
    const c = openClusterFromText(tokenKubeconfig(s.url.replace('http:', 'https:'), TOKEN)).client;
    const e = await c.listNodes().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterUnreachableError);
    expect((e as Error).message).not.toContain(TOKEN);
    c.close();
    await s.stop();
  });

  it('an unknown host is unreachable', async () => {
    const c = openClusterFromText(tokenKubeconfig('https://no-such-host.invalid:6443', TOKEN)).client;
    const e = await c.listNodes().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterUnreachableError);
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((e as ClusterUnreachableError).code);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
