import { parseCniFile, parseNetworkObject, type CniFileParse, type CniNetworkConf, type MultusConf } from './cniConfig.js';
import { normalizePath } from './podSpec.js';

// What the container runtime and the CNI plugins would do when a pod sandbox is created, decided
// from the node's CNI directory and the agents running there. Pure: the kubelet part allocates
// addresses and writes status from the plan.

/** A config file as the planner sees it. */
export interface SandboxFile {
  name: string;
  content: string;
  /** Datapath of the agent that wrote it (Calico's plugin runs on Canal's flannel datapath). */
  network?: string;
}

/** Looks up a NetworkAttachmentDefinition's spec.config; undefined when it does not exist. */
export type NadLookup = (namespace: string, name: string) => { config?: string } | undefined;

/** Everything sandbox creation depends on. */
export interface SandboxRequest {
  namespace: string;
  name: string;
  annotations: Readonly<Record<string, string>>;
  /** Files the runtime considers, lexically sorted. */
  files: readonly SandboxFile[];
  cniConfDir: string;
  /** Networks whose agent is running on the node. */
  runningNetworks: ReadonlySet<string>;
  nads: NadLookup;
}

/** One interface the pod will get. */
export interface PlannedAttachment {
  ifName: string;
  /** CNI network name ("k8s-pod-network", "cilium", "kube-system/macvlan-conf" for an attachment definition). */
  cniName: string;
  /** Datapath network it is on ("flannel", "cilium"). */
  network: string;
  /** Where its config came from, for messages and the debug view. */
  source: string;
  /** Main plugin type. */
  pluginType: string;
}

/** Why a sandbox cannot be created. */
export type SandboxFailureReason = 'NetworkNotReady' | 'NetworkNotFound' | 'UnsupportedPlugin' | 'AgentNotRunning' | 'InvalidConfig';

/** The planner's verdict. */
export type SandboxPlan =
  | { ok: true; confFile: string; multus: boolean; attachments: PlannedAttachment[] }
  | { ok: false; reason: SandboxFailureReason; message: string };

/** Plugin type → the datapath it needs. Calico's plugin, as in Canal, runs on flannel's datapath. */
const PLUGIN_NETWORKS: Readonly<Record<string, string>> = { 'cilium-cni': 'cilium', flannel: 'flannel', calico: 'flannel' };

/** What each plugin answers ADD with while its agent is not running (their real error text). */
const AGENT_DOWN_ERRORS: Readonly<Record<string, string>> = {
  'cilium-cni':
    'unable to connect to Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout: Get "http:///var/run/cilium/cilium.sock/v1/config": dial unix /var/run/cilium/cilium.sock: connect: no such file or directory',
  calico: 'stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/',
  flannel: 'loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory',
};

// Files are replaced (new objects) when rewritten, so a parse keyed by the file object stays valid;
// this keeps sandbox creation from re-parsing the same configs for every pod.
const parsed = new WeakMap<SandboxFile, CniFileParse>();
function parseFile(f: SandboxFile): CniFileParse {
  let p = parsed.get(f);
  if (!p) parsed.set(f, (p = parseCniFile(f.name, f.content)));
  return p;
}

const NOT_READY = 'network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error:';

/** Decides a pod's interfaces from the lexically first CNI config on its node. */
export function planSandbox(req: SandboxRequest): SandboxPlan {
  const first = req.files[0];
  if (!first) return { ok: false, reason: 'NetworkNotReady', message: `${NOT_READY} cni plugin not initialized` };
  const firstParsed = parseFile(first);
  if (!firstParsed.ok) {
    return { ok: false, reason: 'NetworkNotReady', message: `${NOT_READY} cni config load failed: failed to load CNI config file ${normalizePath(`${req.cniConfDir}/${first.name}`)}: ${firstParsed.error}` };
  }
  const top = firstParsed.conf;
  if (!top.multus) {
    const att = attachmentOf(top, first.network, 'eth0', top.name, `file ${first.name}`);
    if (!att.ok) return att;
    const down = agentDown(att.attachment, req);
    if (down) return { ok: false, reason: 'AgentNotRunning', message: `plugin type="${top.mainType}" name="${top.name}" failed (add): ${down}` };
    return { ok: true, confFile: first.name, multus: false, attachments: [att.attachment] };
  }
  return planMultus(req, first.name, top, top.multus);
}

function planMultus(req: SandboxRequest, confFile: string, top: CniNetworkConf, multus: MultusConf): SandboxPlan {
  const who = `Multus: [${req.namespace}/${req.name}]`;
  const fail = (reason: SandboxFailureReason, why: string): SandboxPlan => ({ ok: false, reason, message: `plugin type="${top.mainType}" name="${top.name}" failed (add): ${who}: ${why}` });
  const wanted: { ref: string; namespace: string; ifName?: string; annotation?: boolean }[] = [];
  const primary = multus.clusterNetwork;
  const inline = multus.delegates;
  const attachments: PlannedAttachment[] = [];
  if (primary) wanted.push({ ref: primary, namespace: multus.multusNamespace, ifName: 'eth0' });
  else {
    const d = inline[0]!;
    const att = attachmentOf(d, undefined, 'eth0', d.name, 'inline delegate');
    if (!att.ok) return fail(att.reason, att.message);
    attachments.push(att.attachment);
  }
  if (!multus.systemNamespaces.includes(req.namespace)) {
    for (const ref of multus.defaultNetworks) wanted.push({ ref, namespace: multus.multusNamespace });
  }
  const requested = parseNetworksAnnotation(req.annotations['k8s.v1.cni.cncf.io/networks'], req.namespace);
  if (!requested.ok) return fail('InvalidConfig', requested.error);
  wanted.push(...requested.networks.map((n) => ({ ...n, annotation: true })));
  for (const w of wanted) {
    const ifName = w.ifName ?? `net${attachments.length}`;
    const resolved = resolveNetwork(w.ref, w.namespace, multus, req, w.annotation ?? false);
    if (!resolved.ok) return fail('NetworkNotFound', resolved.error);
    const att = attachmentOf(resolved.conf, resolved.hint, ifName, resolved.cniName, resolved.source);
    if (!att.ok) return fail(att.reason, att.message);
    attachments.push(att.attachment);
  }
  for (const att of attachments) {
    const down = agentDown(att, req);
    if (down) return fail('AgentNotRunning', `error adding container to network "${att.cniName}": delegateAdd: error invoking DelegateAdd - "${att.pluginType}": error in getting result from AddNetwork: ${down}`);
  }
  return { ok: true, confFile, multus: true, attachments };
}

type Resolved = { ok: true; conf: CniNetworkConf; hint?: string; cniName: string; source: string } | { ok: false; error: string };

// Multus's order: a NetworkAttachmentDefinition of that name first, then (for clusterNetwork and
// defaultNetworks, or a definition without spec.config) a config file whose "name" matches in its
// confDir — which must be the kubelet's directory for the file to exist in this model.
function resolveNetwork(ref: string, defaultNamespace: string, multus: MultusConf, req: SandboxRequest, annotation: boolean): Resolved {
  const sameDir = normalizePath(multus.confDir) === normalizePath(req.cniConfDir);
  if (ref.startsWith('/')) {
    const dir = ref.slice(0, ref.lastIndexOf('/'));
    const file = normalizePath(dir) === normalizePath(req.cniConfDir) ? req.files.find((f) => f.name === ref.slice(dir.length + 1)) : undefined;
    if (!file) return { ok: false, error: `failed to load network config file ${ref}: no such file or directory` };
    const p = parseFile(file);
    return p.ok ? { ok: true, conf: p.conf, hint: file.network, cniName: p.conf.name, source: `file ${file.name}` } : { ok: false, error: `${ref}: ${p.error}` };
  }
  const [namespace, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [defaultNamespace, ref];
  const nad = req.nads(namespace, name);
  if (nad?.config) {
    let value: unknown;
    try {
      value = JSON.parse(nad.config);
    } catch (e) {
      return { ok: false, error: `NetworkAttachmentDefinition ${namespace}/${name}: invalid spec.config: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `NetworkAttachmentDefinition ${namespace}/${name}: spec.config is not an object` };
    const p = parseNetworkObject(value as Record<string, unknown>, name);
    return p.ok ? { ok: true, conf: p.conf, cniName: `${namespace}/${name}`, source: `NetworkAttachmentDefinition ${namespace}/${name}` } : { ok: false, error: p.error };
  }
  if (sameDir && (nad || !annotation)) {
    for (const f of req.files) {
      const p = parseFile(f);
      if (p.ok && !p.conf.multus && p.conf.name === name) return { ok: true, conf: p.conf, hint: f.network, cniName: name, source: `file ${f.name}` };
    }
  }
  return {
    ok: false,
    error: `GetNetworkDelegates: failed getting the delegate: cannot find a network-attachment-definition (${name}) in namespace (${namespace}) nor a config named "${name}" in ${multus.confDir}`,
  };
}

type AttachmentResult = { ok: true; attachment: PlannedAttachment } | { ok: false; reason: SandboxFailureReason; message: string };

function attachmentOf(conf: CniNetworkConf, hint: string | undefined, ifName: string, cniName: string, source: string): AttachmentResult {
  const network = conf.mainType === 'calico' ? (hint ?? PLUGIN_NETWORKS.calico) : PLUGIN_NETWORKS[conf.mainType];
  if (!network) {
    return { ok: false, reason: 'UnsupportedPlugin', message: `plugin type="${conf.mainType}" name="${conf.name}" failed (add): plugin type "${conf.mainType}" is not simulated` };
  }
  return { ok: true, attachment: { ifName, cniName, network, source, pluginType: conf.mainType } };
}

function agentDown(att: PlannedAttachment, req: SandboxRequest): string | undefined {
  if (req.runningNetworks.has(att.network)) return undefined;
  return AGENT_DOWN_ERRORS[att.pluginType] ?? `the ${att.network} agent is not running on this node`;
}

/** Parses the k8s.v1.cni.cncf.io/networks annotation: "a, ns/b, c@eth1" or a JSON list of selections. */
export function parseNetworksAnnotation(value: string | undefined, podNamespace: string): { ok: true; networks: { ref: string; namespace: string; ifName?: string }[] } | { ok: false; error: string } {
  if (!value || !value.trim()) return { ok: true, networks: [] };
  const text = value.trim();
  if (text.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (e) {
      return { ok: false, error: `parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection Annotation JSON format: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!Array.isArray(list)) return { ok: false, error: 'parsePodNetworkAnnotation: annotation is not a list' };
    const networks: { ref: string; namespace: string; ifName?: string }[] = [];
    for (const item of list as unknown[]) {
      const sel = (item ?? {}) as { name?: unknown; namespace?: unknown; interface?: unknown };
      if (typeof sel.name !== 'string' || !sel.name) return { ok: false, error: 'parsePodNetworkAnnotation: a selection has no name' };
      const ns = typeof sel.namespace === 'string' && sel.namespace ? sel.namespace : podNamespace;
      networks.push({ ref: `${ns}/${sel.name}`, namespace: ns, ifName: typeof sel.interface === 'string' && sel.interface ? sel.interface : undefined });
    }
    return { ok: true, networks };
  }
  const networks = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const [ref, ifName] = s.split('@', 2) as [string, string | undefined];
      const ns = ref.includes('/') ? ref.split('/', 1)[0]! : podNamespace;
      return { ref: ref.includes('/') ? ref : `${ns}/${ref}`, namespace: ns, ifName: ifName || undefined };
    });
  return { ok: true, networks };
}
