import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTarget, loadKubeconfig, loadKubeconfigText, type KubeconfigEnvironment } from './kubeconfig.js';
import { KubeconfigError } from './kubeErrors.js';

const SECRET = 'tok-DO-NOT-PRINT-123';

/** A kubeconfig with the given clusters (name → server), one user per cluster, and contexts (name → cluster). */
function config(o: { clusters: Record<string, string>; contexts: Record<string, string>; current?: string; namespace?: string }): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
  for (const [name, server] of Object.entries(o.clusters)) lines.push(`- name: ${name}`, '  cluster:', `    server: ${server}`);
  lines.push('users:');
  for (const name of Object.keys(o.clusters)) lines.push(`- name: user-${name}`, '  user:', `    token: ${SECRET}`);
  lines.push('contexts:');
  for (const [name, cluster] of Object.entries(o.contexts)) {
    lines.push(`- name: ${name}`, '  context:', `    cluster: ${cluster}`, `    user: user-${cluster}`, ...(o.namespace ? [`    namespace: ${o.namespace}`] : []));
  }
  if (o.current) lines.push(`current-context: ${o.current}`);
  return `${lines.join('\n')}\n`;
}

let dir: string;
let env: KubeconfigEnvironment;

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function loadError(flags: Parameters<typeof loadKubeconfig>[0], e: KubeconfigEnvironment = env): KubeconfigError {
  try {
    loadKubeconfig(flags, e);
  } catch (err) {
    expect(err).toBeInstanceOf(KubeconfigError);
    return err as KubeconfigError;
  }
  throw new Error('expected a KubeconfigError');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  // An empty home and no service account: nothing configured unless a test says so.
  env = { home: join(dir, 'home'), KUBECONFIG: undefined, serviceAccountDir: join(dir, 'sa'), cwd: dir };
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadKubeconfig', () => {
  it('--kubeconfig loads that file only', () => {
    const f = write('a.yaml', config({ clusters: { a: 'https://a:6443' }, contexts: { ctxA: 'a' }, current: 'ctxA', namespace: 'team' }));
    write('b.yaml', config({ clusters: { b: 'https://b:6443' }, contexts: { ctxB: 'b' }, current: 'ctxB' }));
    const r = loadKubeconfig({ kubeconfig: 'a.yaml' }, { ...env, KUBECONFIG: join(dir, 'b.yaml') });
    expect(r.source).toEqual({ type: 'flag', files: [f] });
    expect(r.context).toBe('ctxA');
    expect(r.namespace).toBe('team');
    expect(describeTarget(r.kubeConfig)).toEqual({ server: 'https://a:6443', context: 'ctxA', user: 'user-a', cluster: 'a', namespace: 'team' });
  });

  it('--kubeconfig naming a missing file is an error, not a fallback', () => {
    const e = loadError({ kubeconfig: 'nope.yaml' });
    expect(e.problem).toBe('unreadable');
    expect(e.message).toBe('--kubeconfig nope.yaml: no such file');
  });

  it('KUBECONFIG merges files: the first current-context and the first definition of each name win', () => {
    const a = write('a.yaml', config({ clusters: { shared: 'https://first:6443' }, contexts: { one: 'shared' }, current: 'one' }));
    const b = write('b.yaml', config({ clusters: { shared: 'https://second:6443', b: 'https://b:6443' }, contexts: { two: 'b', one: 'b' }, current: 'two' }));
    const r = loadKubeconfig({}, { ...env, KUBECONFIG: [a, join(dir, 'missing.yaml'), b].join(delimiter) });
    expect(r.source).toEqual({ type: 'env', files: [a, b] });
    expect(r.context).toBe('one');
    expect(describeTarget(r.kubeConfig).server).toBe('https://first:6443');
    expect(r.kubeConfig.contexts.map((c) => c.name)).toEqual(['one', 'two']);
    const two = loadKubeconfig({ context: 'two' }, { ...env, KUBECONFIG: [a, b].join(delimiter) });
    expect(describeTarget(two.kubeConfig).server).toBe('https://b:6443');
  });

  it('falls back to ~/.kube/config', () => {
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    const f = join(dir, 'home', '.kube', 'config');
    writeFileSync(f, config({ clusters: { h: 'https://home:6443' }, contexts: { home: 'h' }, current: 'home' }));
    const r = loadKubeconfig({}, env);
    expect(r.source).toEqual({ type: 'home', files: [f] });
    expect(r.context).toBe('home');
  });

  it('falls back to the in-cluster service account', () => {
    mkdirSync(join(dir, 'sa'));
    writeFileSync(join(dir, 'sa', 'token'), SECRET);
    writeFileSync(join(dir, 'sa', 'namespace'), 'kube-system\n');
    writeFileSync(join(dir, 'sa', 'ca.crt'), 'not really a cert');
    const r = loadKubeconfig({}, { ...env, serviceHost: 'fd00::1', servicePort: '443' });
    expect(r.source.type).toBe('inCluster');
    expect(r.namespace).toBe('kube-system');
    expect(describeTarget(r.kubeConfig)).toMatchObject({ server: 'https://[fd00::1]:443', context: 'in-cluster' });
    expect(r.kubeConfig.getCurrentUser()?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: join(dir, 'sa', 'token') } });
  });

  it('never falls back to localhost:8080: nothing configured is a typed error saying what to do', () => {
    const e = loadError({});
    expect(e.problem).toBe('notConfigured');
    expect(e.message).toContain('no Kubernetes cluster configured');
    expect(e.message).toContain('--kubeconfig');
    expect(e.message).not.toContain('localhost:8080');
    // service host set but no token file: still not configured
    expect(loadError({}, { ...env, serviceHost: '10.0.0.1', servicePort: '443' }).problem).toBe('notConfigured');
  });

  it('--context must exist; the error lists the contexts there are', () => {
    const f = write('a.yaml', config({ clusters: { a: 'https://a', b: 'https://b' }, contexts: { alpha: 'a', beta: 'b' }, current: 'alpha' }));
    const e = loadError({ kubeconfig: f, context: 'gamma' });
    expect(e.problem).toBe('contextNotFound');
    expect(e.availableContexts).toEqual(['alpha', 'beta']);
    expect(e.message).toBe(`--context "gamma" is not defined in ${f} (available: alpha, beta)`);
  });

  it('no current-context and no --context is an error listing contexts', () => {
    const f = write('a.yaml', config({ clusters: { a: 'https://a' }, contexts: { alpha: 'a' } }));
    expect(loadError({ kubeconfig: f }).message).toBe(`${f} sets no current-context; pass --context (available: alpha)`);
  });

  it('a context pointing at an undefined cluster is an error', () => {
    const f = write('a.yaml', ['clusters: []', 'users: []', 'contexts:', '- name: x', '  context: {cluster: gone, user: u}', 'current-context: x'].join('\n'));
    expect(loadError({ kubeconfig: f }).message).toBe(`context "x" refers to cluster "gone", which is not defined in ${f}`);
  });

  it('a malformed file is named without echoing its contents', () => {
    const f = write('bad.yaml', `users:\n- name: u\n  user:\n    token: ${SECRET}\n  : [oops\n`);
    const e = loadError({ kubeconfig: f });
    expect(e.problem).toBe('invalid');
    expect(e.message).toContain(`kubeconfig ${f} is not valid: YAML error at line`);
    expect(e.message).not.toContain(SECRET);
  });

  it('describeTarget never includes credentials', () => {
    const r = loadKubeconfigText(config({ clusters: { a: 'https://a' }, contexts: { alpha: 'a' }, current: 'alpha' }));
    expect(JSON.stringify(describeTarget(r.kubeConfig))).not.toContain(SECRET);
  });

  it('http: servers are accepted (client-node 1.4 refuses them without skip-verify)', async () => {
    const r = loadKubeconfigText(config({ clusters: { a: 'http://127.0.0.1:1' }, contexts: { alpha: 'a' }, current: 'alpha' }));
    const opts: { headers?: Record<string, string> } = {};
    await r.kubeConfig.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe(`Bearer ${SECRET}`);
  });
});
