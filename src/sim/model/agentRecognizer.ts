import type { KubeObject } from '../store/kubeObject.js';
import { configMapDirectory, mountedConfigMaps, resolveContainerPath } from './containerPaths.js';
import { resolveContainerEnv, type ConfigMapLookup } from './containerEnv.js';
import { argvOf, baseName, flagValue, normalizePath, podSpecOf, type Container, type PodSpec } from './podSpec.js';
import { WATCHED_CUSTOM, type CustomResourceLookup } from './clusterCache.js';
import { parseFileCopies } from './shellCopies.js';
import { buildConfigFor } from './ciliumBuildConfig.js';

// Decides, from a pod as applied (its containers, mounts, env and the ConfigMaps they reference),
// whether it is a CNI agent and what it does on its node. Nothing here knows about the migration:
// the same rules read Canal, the seed's Cilium 1.7 / Multus 3.4 manifests and current ones.

/** How a network carries pod traffic between nodes. */
export type Overlay =
  /**
   * Encapsulation on a transport port (VXLAN, GENEVE, flannel's udp/wireguard) or an IP protocol
   * (IPIP). `control`: a session the tunnel routes depend on (Calico IPIP's routes come from BGP).
   */
  | { kind: 'tunnel'; mode: string; protocol: 'udp' | 'tcp' | 'ip'; port: number; control?: { protocol: 'tcp'; port: number } }
  /**
   * Plain routing (flannel host-gw, Cilium native routing, Calico BGP or cross-subnet modes
   * between nodes of one subnet). `binds`: a tunnel device that exists anyway and holds a port
   * (Calico's vxlan.calico in CrossSubnet mode); `control`: a session the routes depend on (BGP).
   */
  | { kind: 'native'; mode: string; binds?: { protocol: 'udp'; port: number }; control?: { protocol: 'tcp'; port: number } };

/** Where a network's per-node pod addresses come from. */
export interface PoolSpec {
  /** The network's whole range (flannel's Network, Cilium's cluster pool or --ipv4-range). */
  cidr: string;
  /** Prefix length of each node's share of the range. */
  nodePrefix: number;
  /** Use node.spec.podCIDR when it lies in the range (flannel --kube-subnet-mgr, Cilium ipam kubernetes). */
  useNodePodCidr: boolean;
}

/** The datapath an agent provides on its node. */
export interface DatapathSpec {
  /** Datapath name pods' interfaces refer to: "flannel", "cilium". */
  network: string;
  pool: PoolSpec;
  overlay: Overlay;
  /** Where the settings were read from, for the debug view. */
  source: string;
  /** Cilium's IPAM mode ("cluster-pool": cilium-operator hands each node its share of the pool in a CiliumNode). */
  ipam?: string;
  /** Cilium's enable-policy (default, always, never). */
  policyMode?: 'default' | 'always' | 'never';
  /** Pod traffic towards other networks is masqueraded (flannel --ip-masq, the Calico pool's natOutgoing). */
  masquerades?: boolean;
}

/** A CNI config file an agent writes into the kubelet's CNI directory. */
export interface AgentFile {
  name: string;
  /** File content; empty when `generate` builds it at write time. */
  content: string;
  /** Container that writes it. */
  writtenBy: string;
  /** Written once the pod runs, or only once the agent is ready (Cilium's write-cni-conf-when-ready). */
  when: 'running' | 'ready';
  /** Removed again when the agent exits (Cilium's preStop cni-uninstall, Multus --cleanup-config-on-exit). */
  removeOnExit: boolean;
  /** Multus "auto": the config is generated from the lexically first other config at write time. */
  generate?: 'multus-auto';
  /**
   * Written by Cilium's in-agent CNI config manager (write-cni-conf-when-ready, Cilium ≥1.14):
   * writing it renames a legacy 05-cilium.conf away and, when `exclusive` (cni-exclusive), every
   * other *.conf/*.conflist/*.json; an exclusive manager also watches the directory and, while
   * the agent runs, redoes the write and the renames after every change another writer makes.
   */
  manager?: { exclusive: boolean };
}

/** A write the agent makes that the kubelet will never see, and why. */
export interface IgnoredWrite {
  container: string;
  path: string;
  reason: string;
}

/** What a CNI agent pod does on its node. */
export interface AgentSpec {
  datapath?: DatapathSpec;
  files: AgentFile[];
  /** Renames other CNI configs out of the way when writing its own (Cilium cni-exclusive). */
  exclusive: boolean;
  ignoredWrites: IgnoredWrite[];
  /** The policy engine it runs for its node's pods (felix in calico-node, in Canal and plain Calico). */
  policyEngine?: 'felix';
}

/** Node facts the recogniser needs. */
export interface RecognizeContext {
  /** The kubelet's CNI config directory (settings.cniConfDir). */
  cniConfDir: string;
  nodeName: string;
  /** Fallback range for flannel when no net-conf.json can be found. */
  clusterCIDR: string;
  /** Custom resources agents read (Calico's IPPools, FelixConfigurations, Cilium's CiliumNodeConfigs); none when omitted. */
  customResources?: CustomResourceLookup | undefined;
  /** The Node object the pod runs on (its labels select CiliumNodeConfigs); when omitted, only `{}` selectors match. */
  node?: KubeObject | undefined;
}

const FLANNEL_DEFAULT_PORTS: Record<string, number> = { vxlan: 8472, udp: 8285, wireguard: 51820 };
/** Felix's defaults: VXLAN port, IPAM block size, the pool calico-node creates when told none. */
const CALICO_VXLAN_PORT = 4789;
const CALICO_BLOCK_SIZE = 26;
const CALICO_DEFAULT_POOL = '192.168.0.0/16';
const BGP_PORT = 179;
const CILIUM_TUNNEL_PORTS: Record<string, number> = { vxlan: 8472, geneve: 6081 };

/**
 * The datapath network a pod's main containers provide ("flannel", "cilium"), judged from images
 * and commands only, so it can be asked of pending pods before their ConfigMaps are read.
 */
export function datapathNetworkOf(pod: KubeObject): string | undefined {
  const kinds = (podSpecOf(pod).containers ?? []).map(datapathKindOf);
  // Canal runs calico-node beside flanneld: flannel carries its pods, felix only enforces policy.
  if (kinds.includes('flannel')) return 'flannel';
  return kinds.find((k) => k !== undefined);
}

/** Recognises a CNI agent: its datapath and the CNI config files it writes; undefined for other pods. */
export function recognizeAgent(pod: KubeObject, configMaps: ConfigMapLookup, ctx: RecognizeContext): AgentSpec | undefined {
  const spec = podSpecOf(pod);
  const namespace = pod.metadata.namespace ?? 'default';
  const lookup = (name: string) => configMaps(namespace, name);
  const out: AgentSpec = { files: [], exclusive: false, ignoredWrites: [] };
  const writer = new FileWriter(spec, ctx, out);
  const containers = spec.containers ?? [];
  const withFlannel = containers.some((c) => datapathKindOf(c) === 'flannel');
  for (const c of containers) {
    const kind = datapathKindOf(c);
    if (kind === 'flannel') out.datapath ??= flannelDatapath(spec, c, lookup, ctx);
    if (kind === 'calico' && !withFlannel) out.datapath ??= calicoDatapath(pod, c, configMaps, ctx);
    if (kind === 'calico' && resolveContainerEnv(pod, c, configMaps).env.get('FELIX_POLICYENABLED')?.toLowerCase() !== 'false') out.policyEngine = 'felix';
    if (kind === 'cilium') recognizeCilium(pod, spec, c, configMaps, ctx, out, writer);
    if (flagValue(argvOf(c), '--multus-conf-file') !== undefined) recognizeMultus(spec, c, lookup, writer);
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    recognizeCalicoInstall(pod, c, configMaps, ctx, writer);
    for (const copy of parseFileCopies(argvOf(c))) writer.copy(c, copy.src, copy.dst, lookup);
  }
  if (!out.datapath && !out.files.length && !out.ignoredWrites.length && !out.policyEngine) return undefined;
  return out;
}

function datapathKindOf(c: Container): 'flannel' | 'cilium' | 'calico' | undefined {
  const repo = imageRepository(c.image ?? '');
  const last = repo.slice(repo.lastIndexOf('/') + 1);
  const cmd = baseName(c.command?.[0] ?? '');
  if (last === 'flannel' || last.endsWith('-flannel') || cmd === 'flanneld') return 'flannel';
  if (last === 'cilium' || last === 'cilium-dev' || cmd === 'cilium-agent') return 'cilium';
  // calico/node: felix, BIRD and confd in one container.
  if (c.name === 'calico-node' || (last === 'node' && /(^|\/)calico\//.test(repo))) return 'calico';
  return undefined;
}

// "docker.io/cilium/cilium:v1.7.4" → "docker.io/cilium/cilium" (tag and digest dropped, registry port kept).
function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] ?? '';
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** Collects file writes, keeping only those that land in the kubelet's CNI directory. */
class FileWriter {
  private readonly confDir: string;
  constructor(
    private readonly spec: PodSpec,
    ctx: RecognizeContext,
    private readonly out: AgentSpec,
  ) {
    this.confDir = normalizePath(ctx.cniConfDir);
  }

  /** Records a write of `name` into container directory `dir`. */
  write(c: Container, dir: string, name: string, file: Omit<AgentFile, 'name' | 'writtenBy'>): void {
    const path = `${normalizePath(dir)}/${name}`;
    const target = resolveContainerPath(this.spec, c, dir);
    if (target.kind !== 'host') {
      this.out.ignoredWrites.push({ container: c.name, path, reason: `${normalizePath(dir)} is not on a hostPath volume` });
      return;
    }
    if (target.hostPath !== this.confDir) {
      this.out.ignoredWrites.push({ container: c.name, path, reason: `lands in ${target.hostPath} on the node, but the kubelet reads ${this.confDir}` });
      return;
    }
    const existing = this.out.files.findIndex((f) => f.name === name);
    const entry: AgentFile = { name, writtenBy: c.name, ...file };
    if (existing >= 0) this.out.files[existing] = entry;
    else this.out.files.push(entry);
  }

  /** Records `cp SRC DST` / `cat SRC > DST` where SRC is a ConfigMap file. */
  copy(c: Container, src: string, dst: string, lookup: (name: string) => Readonly<Record<string, string>> | undefined): void {
    const from = resolveContainerPath(this.spec, c, src);
    if (from.kind !== 'configMap') return;
    const content = lookup(from.configMap)?.[from.key];
    if (content === undefined) return;
    const dstIsDir = dst.endsWith('/') || (c.volumeMounts ?? []).some((m) => normalizePath(m.mountPath) === normalizePath(dst));
    const dir = dstIsDir ? dst : dst.slice(0, dst.lastIndexOf('/')) || '/';
    const name = dstIsDir ? baseName(src) : baseName(dst);
    this.write(c, dir, name, { content, when: 'running', removeOnExit: false });
  }
}

function flannelDatapath(spec: PodSpec, c: Container, lookup: (name: string) => Readonly<Record<string, string>> | undefined, ctx: RecognizeContext): DatapathSpec {
  const argv = argvOf(c);
  const confPath = flagValue(argv, '--net-config-path') ?? '/etc/kube-flannel/net-conf.json';
  let text: string | undefined;
  let source = 'defaults (no net-conf.json found)';
  const at = resolveContainerPath(spec, c, confPath);
  if (at.kind === 'configMap') {
    text = lookup(at.configMap)?.[at.key];
    if (text !== undefined) source = `net-conf.json from ConfigMap ${at.configMap}`;
  }
  if (text === undefined) {
    // Fall back to any mounted ConfigMap carrying a net-conf.json key (canal-config, kube-flannel-cfg).
    for (const m of mountedConfigMaps(spec)) {
      const t = lookup(m.configMap)?.['net-conf.json'];
      if (t !== undefined) {
        text = t;
        source = `net-conf.json from ConfigMap ${m.configMap}`;
        break;
      }
    }
  }
  const conf = parseJsonObject(text ?? '') ?? {};
  const backend = (typeof conf.Backend === 'object' && conf.Backend !== null ? conf.Backend : {}) as Record<string, unknown>;
  const type = (typeof backend.Type === 'string' ? backend.Type : 'vxlan').toLowerCase();
  const portValue = Number(backend.Port ?? backend.ListenPort ?? 0);
  let overlay: Overlay;
  if (type === 'host-gw' || type === 'alloc') overlay = { kind: 'native', mode: type };
  else if (type === 'ipip') overlay = { kind: 'tunnel', mode: 'ipip', protocol: 'ip', port: 4 };
  else overlay = { kind: 'tunnel', mode: type, protocol: 'udp', port: portValue > 0 ? portValue : (FLANNEL_DEFAULT_PORTS[type] ?? 8472) };
  return {
    network: 'flannel',
    pool: {
      cidr: typeof conf.Network === 'string' ? conf.Network : ctx.clusterCIDR,
      nodePrefix: typeof conf.SubnetLen === 'number' ? conf.SubnetLen : 24,
      // With the Kubernetes subnet manager flannel takes each node's spec.podCIDR.
      useNodePodCidr: argv.includes('--kube-subnet-mgr') || argv.includes('--kube-subnet-mgr=true'),
    },
    overlay,
    source,
    masquerades: argv.includes('--ip-masq') || argv.includes('--ip-masq=true'),
  };
}

interface CalicoPool {
  cidr: string;
  blockSize: number;
  ipipMode: string;
  vxlanMode: string;
  natOutgoing: boolean;
}

/**
 * calico-node as the datapath (plain Calico; in Canal, flannel is): pod addresses from calico-ipam
 * blocks of the enabled IPPools (the env only seeds the default pool at first start), and the
 * encapsulation the pools ask for. Nodes of one simulation share a subnet, so CrossSubnet modes
 * route natively — but vxlan.calico still holds its UDP port.
 */
function calicoDatapath(pod: KubeObject, c: Container, configMaps: ConfigMapLookup, ctx: RecognizeContext): DatapathSpec | undefined {
  const env = resolveContainerEnv(pod, c, configMaps).env;
  const backend = env.get('CALICO_NETWORKING_BACKEND') ?? 'bird';
  if (backend === 'none') return undefined;
  const fromCrs = (ctx.customResources?.(WATCHED_CUSTOM.ipPools) ?? [])
    .map((p) => (p.spec ?? {}) as { cidr?: string; blockSize?: number; ipipMode?: string; vxlanMode?: string; disabled?: boolean; natOutgoing?: boolean })
    .filter((p) => !p.disabled && p.cidr && !p.cidr.includes(':'))
    .map((p): CalicoPool => ({ cidr: p.cidr!, blockSize: p.blockSize ?? CALICO_BLOCK_SIZE, ipipMode: p.ipipMode ?? 'Never', vxlanMode: p.vxlanMode ?? 'Never', natOutgoing: p.natOutgoing ?? false }));
  const seeded: CalicoPool = {
    cidr: env.get('CALICO_IPV4POOL_CIDR') || CALICO_DEFAULT_POOL,
    blockSize: Number(env.get('CALICO_IPV4POOL_BLOCK_SIZE') || CALICO_BLOCK_SIZE),
    ipipMode: env.get('CALICO_IPV4POOL_IPIP') || 'Always',
    vxlanMode: env.get('CALICO_IPV4POOL_VXLAN') || 'Never',
    natOutgoing: (env.get('CALICO_IPV4POOL_NAT_OUTGOING') || 'true').toLowerCase() === 'true',
  };
  // NO_DEFAULT_POOLS (the operator's install) means calico-node creates none: wait for an IPPool.
  if (!fromCrs.length && env.get('NO_DEFAULT_POOLS') === 'true') return undefined;
  const pool = fromCrs[0] ?? seeded;
  const felix = (ctx.customResources?.(WATCHED_CUSTOM.felixConfigurations) ?? []).find((f) => f.metadata.name === 'default');
  // Felix reads environment variables before the FelixConfiguration resource.
  const vxlanPort = Number(env.get('FELIX_VXLANPORT') || ((felix?.spec as { vxlanPort?: number } | undefined)?.vxlanPort ?? CALICO_VXLAN_PORT));
  let overlay: Overlay;
  if (pool.vxlanMode === 'Always') overlay = { kind: 'tunnel', mode: 'vxlan', protocol: 'udp', port: vxlanPort };
  else if (pool.vxlanMode === 'CrossSubnet') overlay = { kind: 'native', mode: 'vxlan-crosssubnet', binds: { protocol: 'udp', port: vxlanPort } };
  else if (pool.ipipMode === 'Always') overlay = { kind: 'tunnel', mode: 'ipip', protocol: 'ip', port: 4 };
  else overlay = { kind: 'native', mode: pool.ipipMode === 'CrossSubnet' ? 'ipip-crosssubnet' : 'bgp' };
  // BIRD distributes the routes for IPIP and plain routing; VXLAN routes come from felix itself.
  if (backend === 'bird' && !overlay.mode.startsWith('vxlan')) overlay.control = { protocol: 'tcp', port: BGP_PORT };
  return {
    network: 'calico',
    pool: { cidr: pool.cidr, nodePrefix: pool.blockSize, useNodePodCidr: false },
    overlay,
    masquerades: pool.natOutgoing,
    source: fromCrs.length ? 'IPPool (crd.projectcalico.org/v1)' : `calico-node env (CALICO_IPV4POOL_*${env.get('CALICO_IPV4POOL_CIDR') ? '' : ', default pool'})`,
  };
}

function recognizeCilium(pod: KubeObject, spec: PodSpec, c: Container, configMaps: ConfigMapLookup, ctx: RecognizeContext, out: AgentSpec, writer: FileWriter): void {
  const namespace = pod.metadata.namespace ?? 'default';
  const lookup = (name: string) => configMaps(namespace, name);
  const argv = argvOf(c);
  const { options, source } = ciliumOptions(pod, spec, c, argv, configMaps, ctx);
  const env = resolveContainerEnv(pod, c, configMaps).env;
  const { pool, ipam } = ciliumPool(options, ctx);
  const policy = options.get('enable-policy');
  const policyMode = policy === 'always' || policy === 'never' ? policy : 'default';
  out.datapath ??= { network: 'cilium', pool, overlay: ciliumOverlay(options), source, ipam, policyMode };
  const postStart = c.lifecycle?.postStart?.exec?.command ?? [];
  const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
  const runsUninstall = preStop.some((a) => baseName(a).startsWith('cni-uninstall'));
  const custom = options.get('custom-cni-conf') === 'true' || env.get('CILIUM_CUSTOM_CNI_CONF') === 'true';
  if (custom) return;
  const whenReady = options.get('write-cni-conf-when-ready');
  if (whenReady) {
    // Cilium ≥1.14: the agent's CNI config manager writes the config once it is ready. The
    // current cni-uninstall.sh removes it on exit only when the resolved cni-uninstall is "true".
    const exclusive = options.get('cni-exclusive') === 'true';
    out.exclusive ||= exclusive;
    const readFrom = options.get('read-cni-conf');
    const at = readFrom ? resolveContainerPath(spec, c, readFrom) : undefined;
    const content = at?.kind === 'configMap' ? lookup(at.configMap)?.[at.key] : undefined;
    const dir = whenReady.slice(0, whenReady.lastIndexOf('/')) || '/';
    const removeOnExit = runsUninstall && options.get('cni-uninstall') === 'true';
    writer.write(c, dir, baseName(whenReady), { content: content ?? renderedCiliumConflist(options), when: 'ready', removeOnExit, manager: { exclusive } });
    return;
  }
  // Cilium ≤1.12: the postStart cni-install.sh writes ${HOST_PREFIX}/etc/cni/net.d/${CNI_CONF_NAME}.
  // Without it (and without write-cni-conf-when-ready) nothing writes a config: CNI management is off.
  const scripted = postStart.some((a) => baseName(a).startsWith('cni-install'));
  if (!scripted) return;
  out.exclusive ||= options.get('cni-exclusive') === 'true' || flagValue(postStart, '--cni-exclusive') === 'true';
  const uninstalls = runsUninstall && options.get('cni-uninstall') !== 'false';
  const chaining = env.get('CILIUM_CNI_CHAINING_MODE');
  const name = env.get('CNI_CONF_NAME') ?? (!chaining ? '05-cilium.conf' : '05-cilium.conflist');
  const debug = flagValue(postStart, '--enable-debug') === 'true';
  const content = name.endsWith('.conflist') ? defaultCiliumConflist() : JSON.stringify({ cniVersion: '0.3.1', name: 'cilium', type: 'cilium-cni', 'enable-debug': debug }, null, 2);
  writer.write(c, `${env.get('HOST_PREFIX') ?? '/host'}/etc/cni/net.d`, name, { content, when: 'running', removeOnExit: uninstalls });
}

/**
 * cilium-agent's options: the files of its --config-dir — a mounted ConfigMap (≤1.12 charts, our
 * bundled manifest) or what the "config" init container's build-config resolved there
 * (cilium-config overridden by matching CiliumNodeConfigs) — with command-line flags winning.
 */
function ciliumOptions(pod: KubeObject, spec: PodSpec, c: Container, argv: string[], configMaps: ConfigMapLookup, ctx: RecognizeContext): { options: Map<string, string>; source: string } {
  const namespace = pod.metadata.namespace ?? 'default';
  const lookup = (name: string) => configMaps(namespace, name);
  const options = new Map<string, string>();
  const dir = flagValue(argv, '--config-dir');
  let files = dir ? configMapDirectory(spec, c, dir, lookup) : undefined;
  let source = dir ? `ConfigMap mounted at ${dir}` : 'defaults';
  if (!files && dir) {
    const built = buildConfigFor(pod, c, dir, configMaps, { nodeName: ctx.nodeName, node: ctx.node, customResources: ctx.customResources });
    if (built) {
      files = Object.fromEntries(built.options);
      source = `build-config (init container ${built.initContainer}) at ${dir}: ${built.sources.join(', ') || 'no sources'}`;
    }
  }
  if (!files && (spec.volumes ?? []).some((v) => v.configMap?.name === 'cilium-config')) {
    files = { ...(lookup('cilium-config') ?? {}) };
    source = 'ConfigMap cilium-config';
  }
  if (!files && dir) source = `defaults (nothing fills --config-dir ${dir})`;
  for (const [k, v] of Object.entries(files ?? {})) options.set(k, v.trim());
  for (const arg of argv) {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    if (m) options.set(m[1]!, m[2]!.trim());
  }
  return { options, source };
}

// Pod addresses: --ipv4-range (≤1.7 host scope), the cluster pool (10.0.0.0/8 in /24s unless set), or the node's spec.podCIDR.
function ciliumPool(options: Map<string, string>, ctx: RecognizeContext): { pool: PoolSpec; ipam: string } {
  const range = options.get('ipv4-range');
  if (range && range !== 'auto') return { pool: { cidr: range, nodePrefix: 24, useNodePodCidr: false }, ipam: options.get('ipam') || 'hostscope-legacy' };
  const pool = options.get('cluster-pool-ipv4-cidr')?.split(/[\s,]+/)[0];
  const mask = Number(options.get('cluster-pool-ipv4-mask-size') || 24);
  if (pool) return { pool: { cidr: pool, nodePrefix: mask, useNodePodCidr: false }, ipam: 'cluster-pool' };
  const ipam = options.get('ipam');
  if (ipam === 'cluster-pool') return { pool: { cidr: '10.0.0.0/8', nodePrefix: mask, useNodePodCidr: false }, ipam };
  // ipam "kubernetes" (and the old host-scope default) allocate from the node's spec.podCIDR.
  return { pool: { cidr: ctx.clusterCIDR, nodePrefix: 24, useNodePodCidr: true }, ipam: ipam || 'kubernetes' };
}

function ciliumOverlay(options: Map<string, string>): Overlay {
  const routing = options.get('routing-mode');
  const tunnel = options.get('tunnel');
  if (routing === 'native' || tunnel === 'disabled') return { kind: 'native', mode: 'native' };
  const mode = options.get('tunnel-protocol') || (tunnel && tunnel !== 'disabled' ? tunnel : 'vxlan');
  const port = Number(options.get('tunnel-port') ?? 0);
  return { kind: 'tunnel', mode, protocol: 'udp', port: port > 0 ? port : (CILIUM_TUNNEL_PORTS[mode] ?? 8472) };
}

function defaultCiliumConflist(): string {
  return JSON.stringify({ cniVersion: '0.3.1', name: 'cilium', plugins: [{ type: 'cilium-cni', 'enable-debug': false }] }, null, 2);
}

// The conflist the CNI config manager renders (daemon/cmd/cni/config.go cniConfigs) for the
// chaining modes it has templates for; "none" (the default) for any other.
function renderedCiliumConflist(options: Map<string, string>): string {
  const cilium = { type: 'cilium-cni', 'enable-debug': options.get('debug') === 'true', 'log-file': options.get('cni-log-file') || '/var/run/cilium/cilium-cni.log' };
  const mode = (options.get('cni-chaining-mode') || 'none').toLowerCase();
  if (mode === 'portmap') return JSON.stringify({ cniVersion: '0.3.1', name: 'portmap', plugins: [cilium, { type: 'portmap', capabilities: { portMappings: true } }] }, null, 2);
  if (mode === 'flannel') {
    const plugins = [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }, { ...cilium, 'chaining-mode': 'flannel' }];
    return JSON.stringify({ cniVersion: '0.3.1', name: 'flannel', plugins }, null, 2);
  }
  return JSON.stringify({ cniVersion: '0.3.1', name: 'cilium', plugins: [cilium] }, null, 2);
}

// Multus copies --multus-conf-file into --cni-conf-dir (entrypoint.sh), or generates one ("auto").
function recognizeMultus(spec: PodSpec, c: Container, lookup: (name: string) => Readonly<Record<string, string>> | undefined, writer: FileWriter): void {
  const argv = argvOf(c);
  const confFile = flagValue(argv, '--multus-conf-file') ?? 'auto';
  const dir = flagValue(argv, '--cni-conf-dir') ?? '/host/etc/cni/net.d';
  const removeOnExit = flagValue(argv, '--cleanup-config-on-exit') === 'true';
  if (confFile === 'auto') {
    writer.write(c, dir, '00-multus.conf', { content: '', when: 'running', removeOnExit, generate: 'multus-auto' });
    return;
  }
  const at = resolveContainerPath(spec, c, confFile);
  const content = at.kind === 'configMap' ? lookup(at.configMap)?.[at.key] : undefined;
  if (content === undefined) return;
  writer.write(c, dir, baseName(confFile), { content, when: 'running', removeOnExit });
}

// Calico's install-cni writes CNI_NETWORK_CONFIG (placeholders filled) as CNI_CONF_NAME.
function recognizeCalicoInstall(pod: KubeObject, c: Container, configMaps: ConfigMapLookup, ctx: RecognizeContext, writer: FileWriter): void {
  const declared = (c.env ?? []).some((e) => e.name === 'CNI_NETWORK_CONFIG' || e.name === 'CNI_NETWORK_CONFIG_FILE');
  if (!declared) return;
  const env = resolveContainerEnv(pod, c, configMaps).env;
  let template = env.get('CNI_NETWORK_CONFIG');
  const file = env.get('CNI_NETWORK_CONFIG_FILE');
  if (template === undefined && file) {
    const at = resolveContainerPath(podSpecOf(pod), c, file);
    if (at.kind === 'configMap') template = configMaps(pod.metadata.namespace ?? 'default', at.configMap)?.[at.key];
  }
  if (template === undefined) return;
  const content = fillCalicoPlaceholders(template, env, ctx);
  writer.write(c, '/host/etc/cni/net.d', env.get('CNI_CONF_NAME') || '10-calico.conflist', { content, when: 'running', removeOnExit: false });
}

function fillCalicoPlaceholders(template: string, env: Map<string, string>, ctx: RecognizeContext): string {
  const defaults: Record<string, string> = {
    KUBERNETES_NODE_NAME: ctx.nodeName,
    CNI_MTU: '1500',
    KUBECONFIG_FILEPATH: `${ctx.cniConfDir}/calico-kubeconfig`,
    LOG_LEVEL: 'info',
    DATASTORE_TYPE: 'kubernetes',
  };
  return template.replace(/__([A-Z0-9_]+)__/g, (_m, name: string) => {
    const v = env.get(name);
    return v !== undefined && v !== '' ? v : (defaults[name] ?? '');
  });
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
