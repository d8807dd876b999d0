import type { KubeObject } from '../store/kubeObject.js';
import { matchesLabelSelector, type LabelSelectorObject } from '../store/labelSelector.js';
import { WATCHED_CUSTOM, type CustomResourceLookup } from './clusterCache.js';
import { resolveContainerEnv, type ConfigMapLookup } from './containerEnv.js';
import { argvOf, baseName, flagValue, normalizePath, podSpecOf, type Container, type PodSpec } from './podSpec.js';

// `cilium-dbg build-config` (cilium-dbg/cmd/build-config.go, pkg/option/resolver/resolver.go), the
// agent DaemonSet's "config" init container since Cilium 1.13: it resolves the agent's options
// from its sources and writes them, one file per key, into a directory the agent then reads
// through --config-dir (the chart's /tmp/cilium/config-map on the "tmp" emptyDir). Default
// sources: the cilium-config ConfigMap, then every CiliumNodeConfig of the agent's namespace
// whose nodeSelector matches the node. Later sources override earlier ones key by key.

/** Where the CiliumNodeConfig annotation/label source (`node:<name>`) takes keys from. */
const NODE_CONFIG_PREFIX = 'config.cilium.io';
const DEFAULT_DEST = '/tmp/cilium/config-map';

/** The options an agent's build-config init container resolves for its node. */
export interface BuiltConfig {
  /** Key → value, as the files in the destination directory hold them (plus "config-sources"). */
  options: Map<string, string>;
  /** The sources that contributed, as the resolver lists them in "config-sources". */
  sources: string[];
  /** The init container that ran build-config. */
  initContainer: string;
}

/** Node facts build-config reads: the Node object (labels for CNC selectors, config.cilium.io/* for `node:` sources). */
export interface BuildConfigContext {
  nodeName: string;
  node?: KubeObject | undefined;
  customResources?: CustomResourceLookup | undefined;
}

/**
 * The configuration a `cilium-dbg build-config` (or `cilium build-config`) init container writes
 * into `dir` of container `agent`, or undefined when no init container fills that directory.
 * The init container and the agent must share the volume: the same volume and the same path in it.
 */
export function buildConfigFor(pod: KubeObject, agent: Container, dir: string, configMaps: ConfigMapLookup, ctx: BuildConfigContext): BuiltConfig | undefined {
  const spec = podSpecOf(pod);
  const target = volumeLocation(spec, agent, dir);
  if (!target) return undefined;
  for (const init of spec.initContainers ?? []) {
    const argv = argvOf(init);
    const at = buildConfigIndex(argv);
    if (at < 0) continue;
    const flags = argv.slice(at + 2);
    const dest = flagValue(flags, '--dest') ?? DEFAULT_DEST;
    if (volumeLocation(spec, init, dest) !== target) continue;
    const env = resolveContainerEnv(pod, init, configMaps).env;
    const namespace = env.get('CILIUM_K8S_NAMESPACE') ?? '';
    const nodeName = flagValue(flags, '--node-name') ?? env.get('K8S_NODE_NAME') ?? ctx.nodeName;
    const sourceSpecs = listFlag(flags, '--source');
    const sources = (sourceSpecs.length ? sourceSpecs : ['config-map:cilium-config', `cilium-node-config:${namespace}`]).flatMap((s) => parseSource(s, namespace, nodeName));
    const allow = new Set(listFlag(flags, '--allow-config-keys'));
    const deny = new Set(listFlag(flags, '--deny-config-keys'));
    return { ...resolveSources(sources, { configMaps, ctx, nodeName, allow, deny }), initContainer: init.name };
  }
  return undefined;
}

// Index of "build-config" after a cilium-dbg / cilium executable, so argv[at] is the executable.
function buildConfigIndex(argv: readonly string[]): number {
  for (let i = 0; i + 1 < argv.length; i++) {
    const exe = baseName(argv[i]!);
    if ((exe === 'cilium-dbg' || exe === 'cilium') && argv[i + 1] === 'build-config') return i;
  }
  return -1;
}

type Source = { kind: 'config-map'; namespace: string; name: string } | { kind: 'cilium-node-config'; namespace: string; name?: string } | { kind: 'node'; name: string };

// build-config's source syntax: "config-map:[<ns>/]<name>", "cilium-node-config:<ns>[/<name>]", "node:<name>".
function parseSource(spec: string, namespace: string, nodeName: string): Source[] {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const parts = rest ? rest.split('/') : [];
  switch (kind) {
    case 'config-map':
      if (parts.length >= 2) return [{ kind, namespace: parts[0]!, name: parts.slice(1).join('/') }];
      return [{ kind, namespace, name: parts[0] || 'cilium-config' }];
    case 'cilium-node-config':
      if (parts.length >= 2) return [{ kind, namespace: parts[0]!, name: parts.slice(1).join('/') }];
      return [{ kind, namespace: parts[0] || namespace }];
    case 'node':
      return [{ kind, name: parts.join('/') || nodeName }];
    default:
      // build-config fails on an unknown kind; the agent then never starts. Ignore it here.
      return [];
  }
}

interface ResolveContext {
  configMaps: ConfigMapLookup;
  ctx: BuildConfigContext;
  nodeName: string;
  allow: Set<string>;
  deny: Set<string>;
}

// ResolveConfigurations: sources in order, later keys win; keys of every source but the first pass
// the allow list (if any) or else the deny list; empty sources contribute nothing.
function resolveSources(sources: Source[], r: ResolveContext): { options: Map<string, string>; sources: string[] } {
  const options = new Map<string, string>();
  const used: string[] = [];
  sources.forEach((source, i) => {
    const { values, descriptions } = readSource(source, r);
    if (i > 0) {
      for (const k of [...values.keys()]) {
        const overridable = r.allow.size ? r.allow.has(k) : !r.deny.has(k);
        if (!overridable) values.delete(k);
      }
    }
    if (!values.size) return;
    for (const [k, v] of values) options.set(k, v);
    used.push(...descriptions);
  });
  options.set('config-sources', used.join(','));
  return { options, sources: used };
}

function readSource(source: Source, r: ResolveContext): { values: Map<string, string>; descriptions: string[] } {
  switch (source.kind) {
    case 'config-map': {
      const data = r.configMaps(source.namespace, source.name) ?? {};
      return { values: new Map(Object.entries(data)), descriptions: [`config-map:${source.namespace}/${source.name}`] };
    }
    case 'cilium-node-config':
      return readNodeConfigs(source.namespace, source.name, r);
    case 'node': {
      const node = source.name === r.ctx.nodeName ? r.ctx.node : undefined;
      const values = new Map<string, string>();
      for (const map of [node?.metadata.labels, node?.metadata.annotations]) {
        for (const [k, v] of Object.entries(map ?? {})) {
          if (!k.startsWith(NODE_CONFIG_PREFIX)) continue;
          const key = k.split('/').slice(1).join('/');
          if (key && isConfigMapKey(key)) values.set(key, v);
        }
      }
      return { values, descriptions: [`node:${source.name}`] };
    }
  }
}

/**
 * CiliumNodeConfigs of a namespace ("" = every namespace) that apply to the node: by name when one
 * is given, else those whose spec.nodeSelector matches the node's labels (no selector matches no
 * node, {} every node). Empty spec.defaults are skipped; several matches merge in lexical order of
 * their names, the last name winning a key. cilium.io/v2 and v2alpha1 are one resource (one CRD).
 */
export function matchingNodeConfigs(customResources: CustomResourceLookup | undefined, namespace: string, nodeLabels: Readonly<Record<string, string>> | undefined, name?: string): KubeObject[] {
  return (customResources?.(WATCHED_CUSTOM.ciliumNodeConfigs) ?? [])
    .filter((o) => (namespace === '' || (o.metadata.namespace ?? '') === namespace) && (name === undefined || o.metadata.name === name))
    .filter((o) => Object.keys(defaultsOf(o)).length > 0)
    .filter((o) => name !== undefined || matchesLabelSelector({ ...(nodeLabels ?? {}) }, ((o.spec ?? {}) as { nodeSelector?: LabelSelectorObject | null }).nodeSelector))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0));
}

function readNodeConfigs(namespace: string, name: string | undefined, r: ResolveContext): { values: Map<string, string>; descriptions: string[] } {
  const values = new Map<string, string>();
  const descriptions: string[] = [];
  for (const cnc of matchingNodeConfigs(r.ctx.customResources, namespace, r.ctx.node?.metadata.labels, name)) {
    for (const [k, v] of Object.entries(defaultsOf(cnc))) if (isConfigMapKey(k)) values.set(k, v);
    descriptions.push(`cilium-node-config:${cnc.metadata.namespace ?? ''}/${cnc.metadata.name ?? ''}`);
  }
  return { values, descriptions };
}

function defaultsOf(cnc: KubeObject): Record<string, string> {
  const d = ((cnc.spec ?? {}) as { defaults?: unknown }).defaults;
  if (!d || typeof d !== 'object') return {};
  return Object.fromEntries(Object.entries(d as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

// apimachinery IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253 characters, not "." or "..", not starting "..".
function isConfigMapKey(key: string): boolean {
  return key.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(key) && key !== '.' && !key.startsWith('..');
}

// A pflag StringSlice: every occurrence, each split on commas.
function listFlag(argv: readonly string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
    else if (arg === flag && i + 1 < argv.length) value = argv[++i];
    if (value !== undefined) out.push(...value.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return out;
}

/**
 * The volume and path inside it that a container path lands in (longest mountPath prefix wins,
 * subPath applied), as "volume:path"; undefined when no volume is mounted there (the container's
 * own filesystem, which no other container sees).
 */
function volumeLocation(spec: PodSpec, c: Container, path: string): string | undefined {
  const target = normalizePath(path);
  let best: { mountPath: string; name: string; subPath?: string } | undefined;
  for (const m of c.volumeMounts ?? []) {
    const mountPath = normalizePath(m.mountPath);
    if (target !== mountPath && !target.startsWith(mountPath === '/' ? '/' : `${mountPath}/`)) continue;
    if (best && best.mountPath.length >= mountPath.length) continue;
    if ((spec.volumes ?? []).some((v) => v.name === m.name)) best = { mountPath, name: m.name, subPath: m.subPath };
  }
  if (!best) return undefined;
  const rest = target.slice(best.mountPath.length).replace(/^\//, '');
  return `${best.name}:${normalizePath(`/${[best.subPath ?? '', rest].filter((s) => s !== '').join('/')}`)}`;
}
