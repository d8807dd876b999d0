/**
 * Loads a kubeconfig the way kubectl does, and refuses to guess where kubectl would not:
 * client-node's `loadFromDefault()` silently falls back to http://localhost:8080, merges
 * KUBECONFIG so that the *last* file's current-context wins, and throws on duplicate names.
 * This module does the lookup itself and hands client-node only the merged result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { isIPv6 } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { KubeconfigError } from './kubeErrors.js';

/** Where the configuration came from, for messages and `describeTarget`. */
export type KubeconfigSource =
  | { type: 'flag'; files: [string] }
  | { type: 'env'; files: string[] }
  | { type: 'home'; files: [string] }
  | { type: 'inCluster'; files: [] };

/** What the user asked for on the command line. */
export interface KubeconfigFlags {
  /** `--kubeconfig PATH`: this file only (it must exist). */
  kubeconfig?: string | undefined;
  /** `--context NAME`: use this context instead of current-context. */
  context?: string | undefined;
}

/** Where to look; defaults to the real environment. Tests pass their own. */
export interface KubeconfigEnvironment {
  /** The KUBECONFIG variable. */
  KUBECONFIG?: string | undefined;
  /** Home directory (for ~/.kube/config). */
  home?: string | undefined;
  /** KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT for in-cluster config. */
  serviceHost?: string | undefined;
  servicePort?: string | undefined;
  /** Directory holding the service account's token, ca.crt and namespace. */
  serviceAccountDir?: string | undefined;
  /** Base for relative paths (process.cwd()). */
  cwd?: string | undefined;
}

/** A loaded, validated kubeconfig with its context selected. */
export interface LoadedKubeconfig {
  kubeConfig: KubeConfig;
  source: KubeconfigSource;
  context: string;
  /** The context's namespace, or "default". */
  namespace: string;
}

/** The cluster a command will talk to: safe to print (no tokens, no keys). */
export interface ClusterTarget {
  server: string;
  context: string;
  user: string;
  cluster: string;
  namespace: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The process's own environment, as kubectl reads it. */
export function processKubeconfigEnvironment(): KubeconfigEnvironment {
  return {
    KUBECONFIG: process.env.KUBECONFIG,
    home: process.env.HOME ?? homedir(),
    serviceHost: process.env.KUBERNETES_SERVICE_HOST,
    servicePort: process.env.KUBERNETES_SERVICE_PORT,
    serviceAccountDir: SERVICE_ACCOUNT_DIR,
    cwd: process.cwd(),
  };
}

/**
 * Loads the kubeconfig like kubectl: `--kubeconfig`, else KUBECONFIG (merged; for each name the
 * first file that defines it wins, and so does the first current-context), else ~/.kube/config,
 * else the in-cluster service account. Throws KubeconfigError when none is configured or the
 * selected context is unusable.
 */
export function loadKubeconfig(flags: KubeconfigFlags = {}, env: KubeconfigEnvironment = processKubeconfigEnvironment()): LoadedKubeconfig {
  const { kubeConfig, source } = loadSource(flags, env);
  const context = selectContext(kubeConfig, flags.context, source);
  allowPlainHttp(kubeConfig);
  const namespace = kubeConfig.getContextObject(context)?.namespace || 'default';
  return { kubeConfig, source, context, namespace };
}

/** Server URL, context, user and namespace of the current context; never credentials. */
export function describeTarget(kc: KubeConfig): ClusterTarget {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  const cluster = kc.getCurrentCluster();
  return {
    server: cluster?.server ?? '(none)',
    context: ctx?.name ?? kc.getCurrentContext() ?? '(none)',
    user: ctx?.user || '(none)',
    cluster: ctx?.cluster ?? '(none)',
    namespace: ctx?.namespace || 'default',
  };
}

/**
 * client-node 1.4 refuses `http:` servers unless insecure-skip-tls-verify is set, although
 * there is no TLS to verify (kubectl accepts them: `kubectl proxy`, local simulators). Marking
 * such clusters skip-verify changes nothing on the wire and lets requests through.
 */
export function allowPlainHttp(kc: KubeConfig): void {
  if (!kc.clusters.some((c) => c.server.startsWith('http:') && !c.skipTLSVerify)) return;
  kc.clusters = kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c));
}

function loadSource(flags: KubeconfigFlags, env: KubeconfigEnvironment): { kubeConfig: KubeConfig; source: KubeconfigSource } {
  const cwd = env.cwd ?? process.cwd();
  if (flags.kubeconfig) {
    const file = resolve(cwd, flags.kubeconfig);
    if (!existsSync(file)) throw new KubeconfigError('unreadable', `--kubeconfig ${flags.kubeconfig}: no such file`);
    return { kubeConfig: mergeFiles([file]), source: { type: 'flag', files: [file] } };
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  // kubectl skips KUBECONFIG entries that do not exist; only an empty result falls through.
  const present = listed.map((f) => (isAbsolute(f) ? f : resolve(cwd, f))).filter((f) => existsSync(f));
  if (present.length > 0) {
    const kc = mergeFiles(present);
    if (kc.contexts.length > 0 || kc.clusters.length > 0) return { kubeConfig: kc, source: { type: 'env', files: present } };
  }
  if (listed.length === 0 && env.home) {
    const file = join(env.home, '.kube', 'config');
    if (existsSync(file)) return { kubeConfig: mergeFiles([file]), source: { type: 'home', files: [file] } };
  }
  const inCluster = loadInCluster(env);
  if (inCluster) return { kubeConfig: inCluster, source: { type: 'inCluster', files: [] } };
  const looked = listed.length > 0 ? `KUBECONFIG (${listed.join(delimiter)}) names no readable kubeconfig with a context` : `no ${env.home ? join(env.home, '.kube', 'config') : '~/.kube/config'}`;
  throw new KubeconfigError(
    'notConfigured',
    `no Kubernetes cluster configured: ${looked}, and not running inside a cluster. Pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config`,
  );
}

/** Merges files with kubectl's rule: the first definition of each name, and the first current-context, win. */
function mergeFiles(files: string[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const file of files) {
    const one = readOneFile(file);
    for (const c of one.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const x of one.contexts) if (!contexts.has(x.name)) contexts.set(x.name, x);
    if (!currentContext && one.currentContext) currentContext = one.currentContext;
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext });
  return kc;
}

function readOneFile(file: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KubeconfigError('unreadable', `kubeconfig ${file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
  return parseKubeconfig(text, file, dirname(file));
}

function parseKubeconfig(text: string, origin: string, baseDir: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (text.trim() === '') {
    kc.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
    return kc;
  }
  try {
    kc.loadFromString(text);
  } catch (e) {
    throw new KubeconfigError('invalid', `kubeconfig ${origin} is not valid: ${safeParseMessage(e)}`);
  }
  if (baseDir) kc.makePathsAbsolute(baseDir);
  return kc;
}

/**
 * Loads kubeconfig YAML held in memory (a simulated cluster's, a test's). `origin` names it in
 * messages; relative certificate paths resolve against `baseDir` when given.
 */
export function loadKubeconfigText(text: string, opts: { context?: string | undefined; origin?: string; baseDir?: string } = {}): LoadedKubeconfig {
  const origin = opts.origin ?? '<kubeconfig text>';
  const kubeConfig = parseKubeconfig(text, origin, opts.baseDir);
  const source: KubeconfigSource = { type: 'flag', files: [origin] };
  const context = selectContext(kubeConfig, opts.context, source);
  allowPlainHttp(kubeConfig);
  return { kubeConfig, source, context, namespace: kubeConfig.getContextObject(context)?.namespace || 'default' };
}

/**
 * A parse error's message without the source snippet js-yaml appends: the snippet could show a
 * token or key from the file.
 */
function safeParseMessage(e: unknown): string {
  const err = e as { name?: string; reason?: string; mark?: { line?: number; column?: number }; message?: string; code?: string; path?: string };
  if (err.code && err.path) return `${err.code} reading ${err.path}`;
  if (err.name === 'YAMLException') {
    const where = err.mark?.line !== undefined ? ` at line ${err.mark.line + 1}, column ${(err.mark.column ?? 0) + 1}` : '';
    return `YAML error${where}: ${err.reason ?? 'malformed'}`;
  }
  // client-node's own validation messages ("clusters[0].cluster.server is missing") hold no secrets.
  const msg = err.message ?? String(e);
  return /^(clusters|users|contexts)\[\d+\]/.test(msg) ? msg : 'not a kubeconfig document';
}

function loadInCluster(env: KubeconfigEnvironment): KubeConfig | undefined {
  const dir = env.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.serviceHost;
  const port = env.servicePort;
  const tokenFile = join(dir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const nsFile = join(dir, 'namespace');
  const namespace = existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined;
  const caFile = join(dir, 'ca.crt');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, skipTLSVerify: false, ...(existsSync(caFile) ? { caFile } : {}) }],
    // client-node's tokenFile provider re-reads the file once its copy is a minute old, so the
    // kubelet's rotations of a projected token (at 80% of its hour) keep working.
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', ...(namespace ? { namespace } : {}) }],
    currentContext: 'in-cluster',
  });
  return kc;
}

function selectContext(kc: KubeConfig, wanted: string | undefined, source: KubeconfigSource): string {
  const available = kc.contexts.map((c) => c.name);
  const where = source.type === 'inCluster' ? 'the in-cluster configuration' : source.files.join(delimiter);
  const list = available.length ? available.join(', ') : 'none';
  const name = wanted || kc.getCurrentContext();
  if (!name) {
    throw new KubeconfigError('noCurrentContext', `${where} sets no current-context; pass --context (available: ${list})`, available);
  }
  const ctx = kc.getContextObject(name);
  if (!ctx) {
    const how = wanted ? `--context "${name}"` : `current-context "${name}"`;
    throw new KubeconfigError('contextNotFound', `${how} is not defined in ${where} (available: ${list})`, available);
  }
  if (!kc.getCluster(ctx.cluster)) {
    throw new KubeconfigError('incompleteContext', `context "${name}" refers to cluster "${ctx.cluster}", which is not defined in ${where}`, available);
  }
  if (ctx.user && !kc.getUser(ctx.user)) {
    throw new KubeconfigError('incompleteContext', `context "${name}" refers to user "${ctx.user}", which is not defined in ${where}`, available);
  }
  kc.setCurrentContext(name);
  return name;
}
