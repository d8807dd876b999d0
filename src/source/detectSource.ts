import type { DaemonSet, KubeObject, Node } from '../kube/kubeTypes.js';
import { cidrCovers, formatCidr, parseCidr } from '../net/ipv4.js';
import {
  argvOf,
  configMapFileOf,
  containersOf,
  declaresEnv,
  envValue,
  flagValue,
  hostPathOf,
  imageRepository,
  templateSpecOf,
  type ConfigMapData,
  type TemplateContainer,
  type TemplateSpec,
} from './podTemplateReader.js';
import type { IpAutodetection, SourceDescription, SourceInstall, SourceKind, SourceOverlay, Sourced } from './sourceTypes.js';

// Which CNI a cluster runs today, read from its objects alone: the agent DaemonSet (Canal, Calico
// by manifest or by the Tigera operator, Flannel), the ConfigMaps and Calico resources it reads,
// and the nodes. Pure: the reader (readSourceInventory.ts) fetches, this decides.

/** What the reader collected. */
export interface SourceInventory {
  /** Every DaemonSet in the cluster. */
  daemonSets: DaemonSet[];
  /** ConfigMaps the candidate DaemonSets reference, with their namespaces. */
  configMaps: KubeObject[];
  /** operator.tigera.io/v1 Installations; undefined when the kind is not served. */
  installations?: KubeObject[] | undefined;
  /** Calico IPPools (projectcalico.org/v3 or crd.projectcalico.org/v1); undefined when not served. */
  ipPools?: KubeObject[] | undefined;
  /** Calico FelixConfigurations; undefined when not served. */
  felixConfigurations?: KubeObject[] | undefined;
  nodes: Node[];
}

/** What detection concluded. */
export type SourceDetection =
  | { ok: true; source: SourceDescription }
  | { ok: false; problem: 'none' | 'several' | 'unreadable'; message: string; candidates: string[] };

/** A DaemonSet that runs a CNI agent we know. */
interface Candidate {
  ds: DaemonSet;
  kind: SourceKind;
  calicoNode?: TemplateContainer | undefined;
  flannel?: TemplateContainer | undefined;
}

const FLANNEL_DEFAULT_VXLAN_PORT = 8472;
const FLANNEL_DEFAULT_VNI = 1;
const CALICO_DEFAULT_VXLAN_PORT = 4789;
const CALICO_DEFAULT_VNI = 4096;
const CALICO_DEFAULT_POOL = '192.168.0.0/16';
const CALICO_DEFAULT_CONF_FILE = '10-calico.conflist';
/** Where Calico's installer (and Canal's) writes inside its container. */
const CALICO_INSTALL_DIR = '/host/etc/cni/net.d';
/** What flanneld reads unless --net-config-path says otherwise. */
const FLANNEL_NET_CONF = '/etc/kube-flannel/net-conf.json';

/** Whether a container is calico-node (Calico's agent: felix, BIRD, confd). */
export function isCalicoNode(c: TemplateContainer): boolean {
  const repo = imageRepository(c.image);
  return c.name === 'calico-node' || (/(^|\/)calico\//.test(repo) && repo.endsWith('/node'));
}

/** Whether a container runs flanneld. */
export function isFlannel(c: TemplateContainer): boolean {
  const repo = imageRepository(c.image);
  const last = repo.slice(repo.lastIndexOf('/') + 1);
  const runsFlanneld = argvOf(c).some((a) => a === 'flanneld' || a.endsWith('/flanneld'));
  // The flannel image also runs the install-cni init containers (cp): only the daemon counts.
  return !c.init && (runsFlanneld || c.name === 'kube-flannel' || (last === 'flannel' && !argvOf(c).includes('cp')));
}

function candidateOf(ds: DaemonSet): Candidate | undefined {
  const containers = containersOf(templateSpecOf(ds));
  const calicoNode = containers.find((c) => !c.init && isCalicoNode(c));
  const flannel = containers.find(isFlannel);
  if (calicoNode && flannel) return { ds, kind: 'canal', calicoNode, flannel };
  if (calicoNode) return { ds, kind: 'calico', calicoNode };
  if (flannel) return { ds, kind: 'flannel', flannel };
  return undefined;
}

const dsName = (ds: DaemonSet) => `${ds.metadata.namespace ?? ''}/${ds.metadata.name ?? ''}`;

/** cni.kind: the agent containers by what they do, where their images are not ones we know. */
function withRoles(c: Candidate, kind: SourceKind): Candidate {
  const spec = templateSpecOf(c.ds);
  const mains = containersOf(spec).filter((x) => !x.init);
  const readsNetConf = (x: TemplateContainer) => configMapFileOf(spec, x, flagValue(argvOf(x), '--net-config-path') ?? FLANNEL_NET_CONF) !== undefined;
  const flannel = kind === 'calico' ? undefined : (c.flannel ?? mains.find(readsNetConf));
  const others = mains.filter((x) => x !== flannel);
  const calicoNode = kind === 'flannel' ? undefined : (c.calicoNode ?? others.find((x) => declaresEnv(x, 'CALICO_NETWORKING_BACKEND') || declaresEnv(x, 'IP')) ?? others[0]);
  return { ds: c.ds, kind, calicoNode, flannel };
}

/**
 * Finds the one source CNI. `only` restricts the search to one DaemonSet (the cni.daemonSet
 * setting), which then counts as the agent even with unfamiliar images when `kind` is given.
 */
export function detectSource(inv: SourceInventory, opts: { only?: { namespace: string; name: string }; kind?: SourceKind } = {}): SourceDetection {
  let pool = inv.daemonSets;
  if (opts.only) {
    pool = pool.filter((d) => d.metadata.namespace === opts.only!.namespace && d.metadata.name === opts.only!.name);
    if (!pool.length) return { ok: false, problem: 'none', message: `DaemonSet ${opts.only.namespace}/${opts.only.name} (cni.daemonSet) does not exist`, candidates: [] };
  }
  let candidates = pool.map(candidateOf).filter((c): c is Candidate => c !== undefined);
  if (opts.only && !candidates.length && opts.kind) candidates = [{ ds: pool[0]!, kind: opts.kind, calicoNode: undefined, flannel: undefined }];
  if (opts.only && !candidates.length) {
    const message = `DaemonSet ${opts.only.namespace}/${opts.only.name} (cni.daemonSet) runs neither calico-node nor flanneld; if it is the source CNI, say which with cni.kind (canal, calico or flannel)`;
    return { ok: false, problem: 'none', message, candidates: [] };
  }
  if (opts.kind && candidates.length) candidates = candidates.map((c) => withRoles(c, opts.kind!));
  if (candidates.length === 0) return { ok: false, problem: 'none', message: noneMessage(inv), candidates: [] };
  if (candidates.length > 1) {
    const list = candidates.map((c) => `${c.kind} (DaemonSet ${dsName(c.ds)})`);
    return {
      ok: false,
      problem: 'several',
      message: `found more than one source CNI: ${list.join(', ')}; a cluster being migrated must run exactly one. Remove the stale one, or name the one in use with cni.daemonSet (namespace/name) in the config`,
      candidates: list,
    };
  }
  const c = candidates[0]!;
  try {
    return { ok: true, source: describeCandidate(c, inv) };
  } catch (e) {
    if (e instanceof UnreadableSource) return { ok: false, problem: 'unreadable', message: e.message, candidates: [`${c.kind} (DaemonSet ${dsName(c.ds)})`] };
    throw e;
  }
}

function noneMessage(inv: SourceInventory): string {
  const flannelAnnotated = inv.nodes.filter((n) => Object.keys(n.metadata.annotations ?? {}).some((k) => k.startsWith('flannel.alpha.coreos.com/')));
  const looked = 'looked for a DaemonSet running calico-node (Canal, Calico) or flanneld (Flannel) in every namespace';
  if (flannelAnnotated.length) {
    return `no source CNI DaemonSet found, but ${flannelAnnotated.length} node(s) carry flannel annotations (e.g. ${flannelAnnotated[0]!.metadata.name}): flannel embedded in the node agent (k3s, RKE2) is not supported; ${looked}`;
  }
  const seen = inv.daemonSets.map(dsName);
  return `no source CNI found: ${looked}; the cluster has ${seen.length ? `DaemonSets ${seen.slice(0, 8).join(', ')}${seen.length > 8 ? ', …' : ''}` : 'no DaemonSets'}`;
}

/** The source's objects are there but a fact the migration needs cannot be read from them. */
class UnreadableSource extends Error {}

function describeCandidate(c: Candidate, inv: SourceInventory): SourceDescription {
  if (c.kind !== 'calico' && !c.flannel) throw new UnreadableSource(`DaemonSet ${dsName(c.ds)} (cni.kind ${c.kind}): no container runs flanneld or reads its net-conf.json from a ConfigMap`);
  if (c.kind !== 'flannel' && !c.calicoNode) throw new UnreadableSource(`DaemonSet ${dsName(c.ds)} (cni.kind ${c.kind}): no container to read calico-node's settings from`);
  const namespace = c.ds.metadata.namespace ?? 'default';
  const spec = templateSpecOf(c.ds);
  const cms: ConfigMapData = (name) => {
    const cm = inv.configMaps.find((o) => o.metadata.namespace === namespace && o.metadata.name === name);
    return cm ? ((cm as { data?: Record<string, string> }).data ?? {}) : undefined;
  };
  const installation = operatorInstallation(c, inv);
  const install: SourceInstall = installation ? 'operator' : 'manifest';
  const warnings: string[] = [];
  const cni = c.kind === 'flannel' ? flannelCniFile(spec, cms, c.ds) : calicoCniFile(spec, cms, c.ds);
  const net = c.kind === 'calico' ? calicoNetwork(c, cms, inv, installation, warnings) : flannelNetwork(c, spec, cms, inv, warnings);
  const mtu = c.kind === 'flannel' ? net.mtu : calicoMtu(spec, cms, installation);
  return {
    kind: c.kind,
    install,
    daemonSet: { namespace, name: c.ds.metadata.name ?? '' },
    installation: installation ? { name: installation.metadata.name ?? 'default' } : undefined,
    confDir: cni.confDir,
    confFile: cni.confFile,
    networkName: cni.networkName,
    podCIDRs: net.podCIDRs,
    overlay: net.overlay,
    mtu,
    ipAutodetection: c.kind === 'calico' ? calicoAutodetection(c, cms, installation) : undefined,
    policyEnforcement: c.kind === 'flannel' ? 'none' : 'calico',
    warnings,
  };
}

function operatorInstallation(c: Candidate, inv: SourceInventory): KubeObject | undefined {
  if (c.kind === 'flannel') return undefined;
  const owned = (c.ds.metadata.ownerReferences ?? []).find((o) => o.kind === 'Installation');
  const all = inv.installations ?? [];
  return all.find((i) => i.metadata.name === owned?.name) ?? (c.ds.metadata.namespace === 'calico-system' ? (all.find((i) => i.metadata.name === 'default') ?? all[0]) : undefined);
}

// ---- the CNI config file ------------------------------------------------------------------------

interface CniFile {
  confDir: Sourced<string>;
  confFile: Sourced<string>;
  networkName: Sourced<string>;
}

/** Canal and Calico: the install-cni init container writes CNI_NETWORK_CONFIG as CNI_CONF_NAME. */
function calicoCniFile(spec: TemplateSpec, cms: ConfigMapData, ds: DaemonSet): CniFile {
  const installer = containersOf(spec).find((c) => declaresEnv(c, 'CNI_NETWORK_CONFIG') || declaresEnv(c, 'CNI_NETWORK_CONFIG_FILE') || declaresEnv(c, 'CNI_CONF_NAME'));
  if (!installer) throw new UnreadableSource(`DaemonSet ${dsName(ds)}: no container installs the CNI configuration (none sets CNI_NETWORK_CONFIG or CNI_CONF_NAME); set cni.confDir, cni.confFile and cni.networkName`);
  const name = envValue(installer, 'CNI_CONF_NAME', cms);
  const confFile: Sourced<string> = name && name.value ? { value: name.value, from: name.from } : { value: CALICO_DEFAULT_CONF_FILE, from: `Calico's default (container ${installer.name} sets no CNI_CONF_NAME)` };
  const host = hostPathOf(spec, installer, CALICO_INSTALL_DIR);
  if (!host) throw new UnreadableSource(`DaemonSet ${dsName(ds)}: container ${installer.name} writes into ${CALICO_INSTALL_DIR}, which is not a hostPath mount; set cni.confDir`);
  const template = envValue(installer, 'CNI_NETWORK_CONFIG', cms);
  const network = template ? networkNameOf(template.value) : undefined;
  if (!template || !network) throw new UnreadableSource(`DaemonSet ${dsName(ds)}: cannot read the CNI network name from CNI_NETWORK_CONFIG of container ${installer.name}${template ? ` (${template.from})` : ''}; set cni.networkName`);
  return {
    confDir: { value: host.hostPath, from: `hostPath of volume ${host.volume} mounted at ${CALICO_INSTALL_DIR} in container ${installer.name}` },
    confFile,
    networkName: { value: network, from: `"name" of the CNI config in ${template.from}` },
  };
}

/** Flannel: the install-cni init container copies cni-conf.json into the CNI directory with cp. */
function flannelCniFile(spec: TemplateSpec, cms: ConfigMapData, ds: DaemonSet): CniFile {
  for (const c of containersOf(spec)) {
    const copy = cpOf(argvOf(c));
    if (!copy || !/\.(conflist|conf|json)$/.test(copy.dst.endsWith('/') ? copy.src : copy.dst)) continue;
    const dstIsDir = copy.dst.endsWith('/');
    const dir = dstIsDir ? copy.dst : copy.dst.slice(0, copy.dst.lastIndexOf('/')) || '/';
    const file = dstIsDir ? copy.src.slice(copy.src.lastIndexOf('/') + 1) : copy.dst.slice(copy.dst.lastIndexOf('/') + 1);
    const host = hostPathOf(spec, c, dir);
    if (!host) continue;
    const source = configMapFileOf(spec, c, copy.src);
    const content = source ? cms(source.configMap)?.[source.key] : undefined;
    const network = content ? networkNameOf(content) : undefined;
    if (!network) throw new UnreadableSource(`DaemonSet ${dsName(ds)}: container ${c.name} copies ${copy.src}, whose CNI network name cannot be read${source ? ` (ConfigMap ${source.configMap} key ${source.key})` : ''}; set cni.networkName`);
    return {
      confDir: { value: host.hostPath, from: `hostPath of volume ${host.volume}, where container ${c.name} copies ${file}` },
      confFile: { value: file, from: `cp destination of container ${c.name}` },
      networkName: { value: network, from: `"name" in ConfigMap ${source!.configMap} key ${source!.key}` },
    };
  }
  throw new UnreadableSource(`DaemonSet ${dsName(ds)}: no container copies a CNI configuration into a hostPath; set cni.confDir, cni.confFile and cni.networkName`);
}

/** `cp [-f] SRC DST` (or flannel ≥0.28.6's `install-conf SRC DST`) anywhere in an argv, also inside `sh -c "…"`. */
function cpOf(argv: string[]): { src: string; dst: string } | undefined {
  const words = argv.flatMap((a) => (/\s/.test(a) ? a.split(/[\s;&|]+/) : [a])).filter((w) => w !== '');
  const at = words.findIndex((w) => ['cp', 'install-conf'].includes(w.slice(w.lastIndexOf('/') + 1)));
  if (at < 0) return undefined;
  const operands = words.slice(at + 1).filter((w) => !w.startsWith('-'));
  return operands.length >= 2 ? { src: operands[0]!, dst: operands[1]! } : undefined;
}

/** The top-level "name" of a CNI network config; Calico's templates hold unquoted __PLACEHOLDERS__. */
export function networkNameOf(text: string): string | undefined {
  try {
    const v = JSON.parse(text.replace(/__[A-Z0-9_]+__/g, (m, offset: number) => (text[offset - 1] === '"' ? m : '0'))) as unknown;
    const name = v && typeof v === 'object' ? (v as { name?: unknown }).name : undefined;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}

// ---- addresses and overlay ----------------------------------------------------------------------

interface NetworkFacts {
  podCIDRs: Sourced<string[]>;
  overlay: Sourced<SourceOverlay>;
  mtu?: Sourced<number> | undefined;
}

/** Canal and Flannel: flanneld's net-conf.json. */
function flannelNetwork(c: Candidate, spec: TemplateSpec, cms: ConfigMapData, inv: SourceInventory, warnings: string[]): NetworkFacts {
  const flannel = c.flannel!;
  const path = flagValue(argvOf(flannel), '--net-config-path') ?? FLANNEL_NET_CONF;
  const file = configMapFileOf(spec, flannel, path);
  const text = file ? cms(file.configMap)?.[file.key] : undefined;
  const where = file ? `net-conf.json in ConfigMap ${file.configMap} key ${file.key}` : '';
  if (!text) throw new UnreadableSource(`DaemonSet ${dsName(c.ds)}: flanneld reads ${path}, which is not a readable ConfigMap file; set cni.podCIDR`);
  let conf: { Network?: unknown; Backend?: { Type?: unknown; Port?: unknown; VNI?: unknown; MTU?: unknown } };
  try {
    conf = JSON.parse(text) as typeof conf;
  } catch (e) {
    throw new UnreadableSource(`${where}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const network = typeof conf.Network === 'string' ? parseCidr(conf.Network) : undefined;
  if (!network) throw new UnreadableSource(`${where}: "Network" is not an IPv4 CIDR`);
  const type = (typeof conf.Backend?.Type === 'string' ? conf.Backend.Type : 'vxlan').toLowerCase();
  let overlay: SourceOverlay;
  if (type === 'vxlan') {
    const port = Number(conf.Backend?.Port ?? 0);
    const vni = Number(conf.Backend?.VNI ?? 0);
    overlay = { type: 'vxlan', port: port > 0 ? port : FLANNEL_DEFAULT_VXLAN_PORT, vni: vni > 0 ? vni : FLANNEL_DEFAULT_VNI, crossSubnet: false };
  } else if (type === 'host-gw') overlay = { type: 'host-gw' };
  else overlay = { type: 'other', backend: type };
  const cidr = formatCidr(network);
  for (const n of inv.nodes) {
    const p = n.spec?.podCIDR ? parseCidr(n.spec.podCIDR) : undefined;
    if (p && !cidrCovers(network, p)) {
      warnings.push(`node ${n.metadata.name} has spec.podCIDR ${n.spec?.podCIDR}, outside flannel's network ${cidr}`);
    }
  }
  const mtu = Number(conf.Backend?.MTU ?? 0);
  return {
    podCIDRs: { value: [cidr], from: `"Network" of ${where}` },
    overlay: { value: overlay, from: `"Backend" of ${where}` },
    mtu: mtu > 0 ? { value: mtu, from: `"Backend.MTU" of ${where}` } : undefined,
  };
}

interface PoolFacts {
  cidr: string;
  ipip: string;
  vxlan: string;
}

/** Plain Calico: IPPools (the truth once calico-node started), else the Installation, else calico-node's env. */
function calicoNetwork(c: Candidate, cms: ConfigMapData, inv: SourceInventory, installation: KubeObject | undefined, warnings: string[]): NetworkFacts {
  const node = c.calicoNode!;
  let pools: PoolFacts[] = [];
  let from = '';
  const crPools = (inv.ipPools ?? []).filter((p) => !(p as { spec?: { disabled?: boolean } }).spec?.disabled);
  if (crPools.length) {
    pools = crPools.map((p) => {
      const s = (p as { spec?: { cidr?: string; ipipMode?: string; vxlanMode?: string } }).spec ?? {};
      return { cidr: s.cidr ?? '', ipip: s.ipipMode ?? 'Never', vxlan: s.vxlanMode ?? 'Never' };
    });
    from = `enabled IPPools ${crPools.map((p) => p.metadata.name).join(', ')}`;
  } else if (installation) {
    const ip = ((installation as { spec?: { calicoNetwork?: { ipPools?: { cidr?: string; encapsulation?: string }[] } } }).spec?.calicoNetwork?.ipPools ?? []).filter((p) => p.cidr && !p.cidr.includes(':'));
    pools = ip.map((p) => {
      const enc = p.encapsulation ?? 'IPIP';
      return { cidr: p.cidr!, ipip: enc.startsWith('IPIP') ? (enc.endsWith('CrossSubnet') ? 'CrossSubnet' : 'Always') : 'Never', vxlan: enc.startsWith('VXLAN') ? (enc.endsWith('CrossSubnet') ? 'CrossSubnet' : 'Always') : 'Never' };
    });
    from = `spec.calicoNetwork.ipPools of Installation ${installation.metadata.name}`;
  }
  if (!pools.length) {
    const env = (n: string) => envValue(node, n, cms)?.value;
    const cidr = env('CALICO_IPV4POOL_CIDR');
    pools = [{ cidr: cidr ?? CALICO_DEFAULT_POOL, ipip: calicoEnvMode(env('CALICO_IPV4POOL_IPIP')), vxlan: calicoEnvMode(env('CALICO_IPV4POOL_VXLAN')) }];
    from = cidr ? `env CALICO_IPV4POOL_CIDR of container ${node.name}` : `Calico's default pool (no IPPool readable, container ${node.name} sets no CALICO_IPV4POOL_CIDR)`;
    warnings.push(`no Calico IPPool could be read; the pod CIDR ${pools[0]!.cidr} and encapsulation come from calico-node's environment`);
  }
  const cidrs = pools.map((p) => parseCidr(p.cidr)).filter((p) => p !== undefined).map(formatCidr);
  if (!cidrs.length) throw new UnreadableSource(`${from}: no IPv4 CIDR`);
  const felix = (inv.felixConfigurations ?? []).find((f) => f.metadata.name === 'default') as { spec?: { vxlanPort?: number; vxlanVNI?: number } } | undefined;
  const vx = pools.find((p) => p.vxlan !== 'Never');
  const ipip = pools.find((p) => p.ipip !== 'Never');
  const backend = envValue(node, 'CALICO_NETWORKING_BACKEND', cms)?.value;
  let overlay: SourceOverlay;
  let overlayFrom = from;
  if (vx) {
    overlay = { type: 'vxlan', port: felix?.spec?.vxlanPort ?? CALICO_DEFAULT_VXLAN_PORT, vni: felix?.spec?.vxlanVNI ?? CALICO_DEFAULT_VNI, crossSubnet: vx.vxlan === 'CrossSubnet' };
    overlayFrom = `vxlanMode ${vx.vxlan} of ${from}; port and VNI from ${felix?.spec?.vxlanPort ? 'FelixConfiguration default' : "Felix's defaults"}`;
  } else if (ipip) overlay = { type: 'ipip', crossSubnet: ipip.ipip === 'CrossSubnet' };
  else if (backend === 'none') overlay = { type: 'other', backend: 'none (no Calico networking)' };
  else overlay = { type: 'bgp' };
  return { podCIDRs: { value: cidrs, from }, overlay: { value: overlay, from: overlayFrom } };
}

/** calico-node's reading of CALICO_IPV4POOL_IPIP/_VXLAN (startup.go createIPPool): any case, unset or "off" = Never. */
function calicoEnvMode(v: string | undefined): string {
  const m = (v ?? '').toLowerCase();
  if (m === '' || m === 'off' || m === 'never') return 'Never';
  if (m === 'crosssubnet' || m === 'cross-subnet') return 'CrossSubnet';
  return m === 'always' ? 'Always' : (v ?? '');
}

function calicoMtu(spec: TemplateSpec, cms: ConfigMapData, installation: KubeObject | undefined): Sourced<number> | undefined {
  const opMtu = (installation as { spec?: { calicoNetwork?: { mtu?: number } } } | undefined)?.spec?.calicoNetwork?.mtu;
  if (opMtu) return { value: opMtu, from: `spec.calicoNetwork.mtu of Installation ${installation!.metadata.name}` };
  for (const c of containersOf(spec)) {
    const v = envValue(c, 'CNI_MTU', cms);
    if (v && Number(v.value) > 0) return { value: Number(v.value), from: v.from };
  }
  return undefined;
}

/** The cilium_host hazard (cilium#31273): does Calico's autodetection pick Cilium's interface? */
function calicoAutodetection(c: Candidate, cms: ConfigMapData, installation: KubeObject | undefined): IpAutodetection {
  if (installation) {
    const setting = `spec.calicoNetwork.nodeAddressAutodetectionV4 of Installation ${installation.metadata.name}`;
    const a = (installation as { spec?: { calicoNetwork?: { nodeAddressAutodetectionV4?: Record<string, unknown> } } }).spec?.calicoNetwork?.nodeAddressAutodetectionV4;
    if (!a || a.firstFound === true || Object.keys(a).filter((k) => k !== 'firstFound').length === 0) return { method: 'first-found', setting, picksCiliumHost: true };
    if (a.kubernetes) return { method: `kubernetes: ${JSON.stringify(a.kubernetes)}`, setting, picksCiliumHost: false };
    if (typeof a.interface === 'string') return { method: `interface: ${a.interface}`, setting, picksCiliumHost: regexMatches(a.interface, 'cilium_host') };
    if (typeof a.skipInterface === 'string') return { method: `skipInterface: ${a.skipInterface}`, setting, picksCiliumHost: !regexMatches(a.skipInterface, 'cilium_host') };
    const key = Object.keys(a).find((k) => k !== 'firstFound')!;
    return { method: `${key}: ${JSON.stringify(a[key])}`, setting, picksCiliumHost: false };
  }
  const node = c.calicoNode!;
  const setting = `env IP_AUTODETECTION_METHOD of container ${node.name} in DaemonSet ${dsName(c.ds)}`;
  const ip = envValue(node, 'IP', cms)?.value;
  if (ip !== undefined && ip !== '' && ip !== 'autodetect') return { method: 'literal', setting, picksCiliumHost: false };
  const method = envValue(node, 'IP_AUTODETECTION_METHOD', cms)?.value || 'first-found';
  if (method === 'first-found') return { method, setting, picksCiliumHost: true };
  const [kind, arg = ''] = method.split('=', 2) as [string, string?];
  // calico-node splits the list on /\s*,\s*/ (autodetection.AutoDetectCIDR).
  if (kind === 'interface') return { method, setting, picksCiliumHost: arg.split(/\s*,\s*/).some((r) => regexMatches(r, 'cilium_host')) };
  if (kind === 'skip-interface') return { method, setting, picksCiliumHost: !arg.split(/\s*,\s*/).some((r) => regexMatches(r, 'cilium_host')) };
  return { method, setting, picksCiliumHost: false };
}

function regexMatches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return false;
  }
}
