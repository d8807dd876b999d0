import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationConfig } from '../config/configSchema.js';
import { ConfigError } from '../config/loadConfig.js';
import { ManifestError, parseManifestDocuments } from '../kube/manifestParser.js';
import type { KubeObject } from '../kube/kubeTypes.js';
import { cidrsOverlap, formatCidr, parseCidr } from '../net/ipv4.js';
import { describeOverlay, overlayUdpPorts, type SourceDescription } from '../source/sourceTypes.js';
import { mirrorImage } from './imageReference.js';

// The Cilium and Multus manifests the migration applies at prepare (DESIGN §2): the bundled
// templates under manifests/ with the configuration's images, node labels, pod CIDR and overlay,
// and the discovered source's CNI directory, file and network names filled in, or the user's own
// files (config paths.cilium / paths.multus).
// Placeholders are filled in the parsed objects, not in the text, so no value can change the YAML.

/** A manifest object ready to apply: apiVersion and kind are always set. */
export type ManifestObject = KubeObject & { apiVersion: string; kind: string };

/** The two bundles prepare applies. */
export interface BundledManifests {
  cilium: ManifestObject[];
  multus: ManifestObject[];
}

/** Which bundle. */
export type ManifestBundle = keyof BundledManifests;

// src/manifests/ or dist/manifests/ → the package root, where manifests/ lives.
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of a bundled template (manifests/cilium/cilium.yaml, manifests/multus/multus.yaml). */
export function bundledManifestPath(bundle: ManifestBundle): string {
  return join(PACKAGE_ROOT, 'manifests', bundle, `${bundle}.yaml`);
}

/** Cilium's default port per tunnel protocol; VXLAN moves off 8472, which Flannel's VXLAN holds. */
const DEFAULT_TUNNEL_PORTS: Readonly<Record<'geneve' | 'vxlan', number>> = { geneve: 6081, vxlan: 8473 };

/** Cilium's overlay: the configured one, else the strategy's default protocol, on its default port. */
export function ciliumTunnel(config: MigrationConfig, defaultProtocol: 'geneve' | 'vxlan'): { protocol: 'geneve' | 'vxlan'; port: number } {
  const protocol = config.cilium.tunnelProtocol ?? defaultProtocol;
  return { protocol, port: config.cilium.tunnelPort ?? DEFAULT_TUNNEL_PORTS[protocol] };
}
/** Each node's share of Cilium's pool. */
const NODE_MASK_SIZE = 24;

/** The placeholders of the bundled templates, by name ("CILIUM_IMAGE" is written __CILIUM_IMAGE__). */
export const PLACEHOLDER_NAMES = [
  'CILIUM_IMAGE',
  'CILIUM_OPERATOR_IMAGE',
  'MULTUS_IMAGE',
  'CNI_PLUGINS_IMAGE',
  'LABEL_CANAL_CILIUM',
  'LABEL_CILIUM',
  'LABEL_PRIORITY_CANAL',
  'LABEL_PRIORITY_CILIUM',
  'LABEL_VALUE',
  'CILIUM_POD_CIDR',
  'CILIUM_NODE_MASK_SIZE',
  'CILIUM_TUNNEL_PROTOCOL',
  'CILIUM_TUNNEL_PORT',
  'CNI_CONF_DIR',
  'SOURCE_NETWORK',
  'SOURCE_SECONDARY_NETWORK',
  'SOURCE_CONF_FILE',
] as const;

/** A placeholder name. */
export type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];

/** How a strategy renders: its default Cilium tunnel, and whether clashes with the source are refused here (else its preflight judges them). */
export interface RenderOptions {
  defaultTunnel?: 'geneve' | 'vxlan';
  checkAgainstSource?: boolean;
}

/** The network Multus attaches beside Cilium once Cilium is primary: flannel's own (99-flannel.conflist) for Canal, else the source's. */
export function secondaryNetworkOf(source: SourceDescription): string {
  return source.kind === 'canal' ? 'cbr0' : source.networkName.value;
}

/**
 * The value of every placeholder for a configuration and a source. Checks the values it uses
 * (they end up in label selectors, JSON and a shell script) and throws ConfigError naming the key.
 */
export function placeholderValues(config: MigrationConfig, source: SourceDescription, configFile = 'configuration', opts: RenderOptions = {}): Readonly<Record<PlaceholderName, string>> {
  const fail = (keyPath: string, detail: string) => new ConfigError(configFile, keyPath, detail);
  const mirror = config.images.registryMirror;
  if (mirror !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:-]*(\/[A-Za-z0-9._-]+)*\/?$/.test(mirror)) throw fail('images.registryMirror', `"${mirror}" is not a registry host (e.g. registry.local:5000 or registry.local/mirror)`);
  const image = (key: 'cilium' | 'ciliumOperator' | 'multus' | 'cniPlugins') => {
    const ref = config.images[key];
    if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(ref)) throw fail(`images.${key}`, `"${ref}" is not an image reference`);
    return mirrorImage(ref, mirror);
  };
  const label = (key: 'canal-cilium' | 'cilium' | 'cni-priority-canal' | 'cni-priority-cilium') => {
    const k = config.labels[key];
    if (!isLabelKey(k)) throw fail(`labels.${key}`, `"${k}" is not a valid label key (an optional DNS-subdomain prefix and "/", then at most 63 of [A-Za-z0-9-_.])`);
    return k;
  };
  if (!isLabelValue(config.labels.value)) throw fail('labels.value', `"${config.labels.value}" is not a valid label value (at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends)`);
  const parsed = parseCidr(config.cilium.podCIDR);
  const cidr = parsed ? { canonical: formatCidr(parsed), prefix: parsed.prefix } : undefined;
  if (!cidr) throw fail('cilium.podCIDR', `"${config.cilium.podCIDR}" is not an IPv4 CIDR such as 172.29.0.0/16`);
  if (cidr.canonical !== config.cilium.podCIDR.trim()) throw fail('cilium.podCIDR', `"${config.cilium.podCIDR}" has host bits set; did you mean ${cidr.canonical}?`);
  if (cidr.prefix >= NODE_MASK_SIZE) throw fail('cilium.podCIDR', `${cidr.canonical} is too small: each node gets a /${NODE_MASK_SIZE} of it, so use a /${NODE_MASK_SIZE - 1} or larger`);
  const own = parsed!;
  const check = opts.checkAgainstSource ?? true;
  for (const sourceCidr of check ? source.podCIDRs.value : []) {
    const other = parseCidr(sourceCidr);
    if (other && cidrsOverlap(own, other)) throw fail('cilium.podCIDR', `${cidr.canonical} overlaps the ${source.kind} pod CIDR ${formatCidr(other)} (${source.podCIDRs.from}): Cilium's pool must be a range of its own`);
  }
  const { protocol, port } = ciliumTunnel(config, opts.defaultTunnel ?? 'geneve');
  if (check && overlayUdpPorts(source.overlay.value).includes(port)) {
    throw fail(config.cilium.tunnelPort !== undefined ? 'cilium.tunnelPort' : 'cilium.tunnelProtocol', `UDP ${port} is the ${source.kind} overlay's port (${describeOverlay(source.overlay.value)}, ${source.overlay.from}): two overlays cannot share a UDP port; use GENEVE (6081) or another cilium.tunnelPort`);
  }
  const confDir = source.confDir.value;
  // It lands in JSON strings and a shell script: keep to plain path characters.
  if (!/^\/[A-Za-z0-9._\-/]*$/.test(confDir)) throw fail('cni.confDir', `"${confDir}" (${source.confDir.from}) must be an absolute path of letters, digits and . _ - /`);
  const plainName = (key: string, v: string) => {
    if (!/^[A-Za-z0-9._-]+$/.test(v)) throw fail(key, `"${v}" must be letters, digits and . _ -`);
    return v;
  };
  return {
    CILIUM_IMAGE: image('cilium'),
    CILIUM_OPERATOR_IMAGE: image('ciliumOperator'),
    MULTUS_IMAGE: image('multus'),
    CNI_PLUGINS_IMAGE: image('cniPlugins'),
    LABEL_CANAL_CILIUM: label('canal-cilium'),
    LABEL_CILIUM: label('cilium'),
    LABEL_PRIORITY_CANAL: label('cni-priority-canal'),
    LABEL_PRIORITY_CILIUM: label('cni-priority-cilium'),
    LABEL_VALUE: config.labels.value,
    CILIUM_POD_CIDR: cidr.canonical,
    CILIUM_NODE_MASK_SIZE: String(NODE_MASK_SIZE),
    CILIUM_TUNNEL_PROTOCOL: protocol,
    CILIUM_TUNNEL_PORT: String(port),
    CNI_CONF_DIR: confDir.length > 1 ? confDir.replace(/\/+$/, '') : confDir,
    SOURCE_NETWORK: plainName('cni.networkName', source.networkName.value),
    SOURCE_SECONDARY_NETWORK: plainName('cni.networkName', secondaryNetworkOf(source)),
    SOURCE_CONF_FILE: plainName('cni.confFile', source.confFile.value),
  };
}

/**
 * Fits the rendered Multus bundle to the source: only Canal needs the extra flannel network
 * (99-flannel.conflist, flannel's plugin on Canal's flanneld); Calico and Flannel sources are
 * attached beside Cilium through their own configuration file, which Multus finds by name.
 */
export function fitMultusToSource(objects: ManifestObject[], source: SourceDescription): ManifestObject[] {
  if (source.kind === 'canal') return objects;
  return objects.map((o) => {
    if (o.kind !== 'DaemonSet') return o;
    const spec = (o as { spec?: { template?: { spec?: { initContainers?: { name: string }[]; volumes?: { name: string }[] } } } }).spec?.template?.spec;
    if (!spec?.initContainers?.some((c) => c.name === 'install-flannel-conf')) return o;
    const copy = structuredClone(o);
    const s = (copy as typeof o & { spec: { template: { spec: { initContainers: { name: string }[]; volumes?: { name: string }[] } } } }).spec.template.spec;
    s.initContainers = s.initContainers.filter((c) => c.name !== 'install-flannel-conf');
    s.volumes = (s.volumes ?? []).filter((v) => v.name !== 'flannel-conf');
    return copy;
  });
}

/** The bundled latent Cilium of the dual-overlay strategy. */
export function dualOverlayCiliumPath(): string {
  return join(PACKAGE_ROOT, 'manifests', 'cilium-dual-overlay', 'cilium.yaml');
}

/** The Cilium the dual-overlay strategy applies: the user's paths.cilium, else the bundled latent one. */
export function loadDualOverlayCilium(config: MigrationConfig, source: SourceDescription, opts: { configFile?: string; baseDir?: string } = {}): ManifestObject[] {
  const render: RenderOptions = { defaultTunnel: 'vxlan', checkAgainstSource: false };
  const own = config.paths.cilium;
  if (own === undefined) return renderTemplate(dualOverlayCiliumPath(), placeholderValues(config, source, opts.configFile, render));
  const file = isAbsolute(own) ? own : resolve(opts.baseDir ?? process.cwd(), own);
  return loadUserManifests(file, { config, source, configFile: opts.configFile, render });
}

/** Renders both bundled templates for a configuration and a source. */
export function renderBundledManifests(config: MigrationConfig, source: SourceDescription, opts: { configFile?: string } = {}): BundledManifests {
  const values = placeholderValues(config, source, opts.configFile);
  return { cilium: renderTemplate(bundledManifestPath('cilium'), values), multus: fitMultusToSource(renderTemplate(bundledManifestPath('multus'), values), source) };
}

/** Parses a template file and fills its placeholders; any placeholder left unfilled is an error. */
export function renderTemplate(file: string, values: Readonly<Record<string, string>>): ManifestObject[] {
  return readManifestObjects(file, (value, index) => {
    const filled = fillPlaceholders(value, values);
    const left = placeholdersIn(filled);
    if (left.length) throw new ManifestError(file, index, `unknown placeholder ${left.map((p) => `__${p}__`).join(', ')}`);
    return filled;
  });
}

/**
 * Reads the user's own manifests (the seed's paths.cilium / paths.multus), relative to `baseDir`
 * (default: the working directory). Given a configuration, the bundled templates' placeholders
 * are filled as for them, so a copy of a bundled template can be used; without one, a bundled
 * placeholder left in the file is an error.
 */
export function loadUserManifests(path: string, opts: { config?: MigrationConfig; source?: SourceDescription; configFile?: string; baseDir?: string; render?: RenderOptions } = {}): ManifestObject[] {
  const file = isAbsolute(path) ? path : resolve(opts.baseDir ?? process.cwd(), path);
  const known = new Set<string>(PLACEHOLDER_NAMES);
  let values: Readonly<Record<string, string>> | undefined;
  return readManifestObjects(file, (value, index) => {
    // Only this project's names count: other "__X__" strings (Calico's CNI templates…) are content.
    const wanted = placeholdersIn(value).filter((p) => known.has(p));
    if (!wanted.length) return value;
    if (!opts.config || !opts.source) throw new ManifestError(file, index, `placeholder ${wanted.map((p) => `__${p}__`).join(', ')} left unfilled`);
    // Checked only when needed: a file without placeholders does not depend on these settings.
    values ??= placeholderValues(opts.config, opts.source, opts.configFile, opts.render);
    return fillPlaceholders(value, values);
  });
}

/** The manifests prepare applies: the user's files where paths.* names them, else the bundled ones. */
export function loadMigrationManifests(config: MigrationConfig, source: SourceDescription, opts: { configFile?: string; baseDir?: string } = {}): BundledManifests & { sources: Record<ManifestBundle, string> } {
  const load = (bundle: ManifestBundle): { objects: ManifestObject[]; source: string } => {
    const own = config.paths[bundle];
    if (own === undefined) return { objects: renderTemplate(bundledManifestPath(bundle), placeholderValues(config, source, opts.configFile)), source: 'bundled' };
    const file = isAbsolute(own) ? own : resolve(opts.baseDir ?? process.cwd(), own);
    return { objects: loadUserManifests(file, { config, source, configFile: opts.configFile }), source: file };
  };
  const cilium = load('cilium');
  const multus = load('multus');
  return { cilium: cilium.objects, multus: fitMultusToSource(multus.objects, source), sources: { cilium: cilium.source, multus: multus.source } };
}

function readManifestObjects(file: string, transform: (value: unknown, index: number) => unknown): ManifestObject[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestError(file, undefined, code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? (e as Error).message}`);
  }
  return parseManifestDocuments(text, file).map((doc) => {
    const obj = transform(doc.value, doc.index) as Record<string, unknown>;
    const metadata = obj.metadata as Record<string, unknown> | undefined;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof metadata?.name !== 'string') {
      throw new ManifestError(file, doc.index, 'every object needs apiVersion, kind and metadata.name', doc.line);
    }
    return obj as ManifestObject;
  });
}

const PLACEHOLDER = /__([A-Z][A-Z0-9_]*?)__/g;

/** Replaces __NAME__ in every string and mapping key with values[NAME]; unknown names stay. */
export function fillPlaceholders(value: unknown, values: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (m, name: string) => values[name] ?? m);
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, values));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[fillPlaceholders(k, values) as string] = fillPlaceholders(v, values);
    return out;
  }
  return value;
}

/** Names of the __NAME__ placeholders anywhere in a value (strings and mapping keys). */
export function placeholdersIn(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) found.add(m[1]!);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        visit(k);
        visit(x);
      }
    }
  };
  visit(value);
  return [...found].sort();
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes label key syntax: [prefix/]name. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  return LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
}

/** Kubernetes label value syntax (empty allowed). */
export function isLabelValue(value: string): boolean {
  return value === '' || LABEL_NAME.test(value);
}
