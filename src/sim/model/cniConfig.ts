// Reading CNI network configuration the way libcni (and so the container runtime) does: a ".conflist"
// must hold a "plugins" list, a ".conf"/".json" a single plugin with a "type". Multus's own
// configuration is recognised by its plugin type and carries the networks it will delegate to.

/** One plugin of a network configuration. */
export interface CniPlugin {
  type: string;
  raw: Record<string, unknown>;
}

/** What Multus is configured to do (defaults filled in as Multus 3.x/4.x fills them). */
export interface MultusConf {
  /** Network for eth0: a network name, a NetworkAttachmentDefinition name or a file path. */
  clusterNetwork?: string;
  /** Extra networks attached to every pod outside systemNamespaces. */
  defaultNetworks: string[];
  /** Where Multus looks for delegate config files by name. */
  confDir: string;
  /** Namespaces whose pods get only the cluster network. */
  systemNamespaces: string[];
  /** Namespace of NetworkAttachmentDefinitions named by clusterNetwork/defaultNetworks. */
  multusNamespace: string;
  /** Inline delegates (older configs): the first (or the "masterplugin") is the cluster network. */
  delegates: CniNetworkConf[];
}

/** A parsed network configuration. */
export interface CniNetworkConf {
  name: string;
  plugins: CniPlugin[];
  /** Type of the plugin that creates the interface: the first of the chain (portmap, sbr … follow it). */
  mainType: string;
  multus?: MultusConf;
}

/** Result of reading one config file. */
export type CniFileParse = { ok: true; conf: CniNetworkConf } | { ok: false; error: string };

const MULTUS_DEFAULT_CONF_DIR = '/etc/cni/multus/net.d';

/** Whether the runtime considers a file in the CNI directory at all (libcni's extensions). */
export function isCniConfigFileName(name: string): boolean {
  return /\.(conf|conflist|json)$/.test(name);
}

/** Parses a config file's content as libcni would load it, with libcni-like error messages. */
export function parseCniFile(fileName: string, content: string): CniFileParse {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (e) {
    return { ok: false, error: `error parsing configuration: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!isObject(value)) return { ok: false, error: 'error parsing configuration: not a JSON object' };
  if (fileName.endsWith('.conflist')) {
    if (!Array.isArray(value.plugins)) return { ok: false, error: `error parsing configuration list: no 'plugins' key` };
    if (typeof value.name !== 'string' || value.name === '') return { ok: false, error: `error parsing configuration list: no name` };
    return parseNetworkObject(value);
  }
  if (typeof value.type !== 'string' || value.type === '') return { ok: false, error: `network type not found in ${fileName}` };
  return parseNetworkObject(value);
}

/**
 * Parses a network configuration object: a conflist ({name, plugins}) or a single conf ({name, type}).
 * Used for files and for NetworkAttachmentDefinition spec.config. A missing name falls back to
 * `defaultName` (a NetworkAttachmentDefinition's own name).
 */
export function parseNetworkObject(value: Record<string, unknown>, defaultName = ''): CniFileParse {
  const name = typeof value.name === 'string' && value.name !== '' ? value.name : defaultName;
  const rawPlugins = Array.isArray(value.plugins) ? value.plugins : [value];
  const plugins: CniPlugin[] = [];
  for (const p of rawPlugins) {
    if (!isObject(p) || typeof p.type !== 'string' || p.type === '') return { ok: false, error: `plugin without a type in network "${name}"` };
    plugins.push({ type: p.type, raw: p });
  }
  const first = plugins[0];
  if (!first) return { ok: false, error: `network "${name}" has no plugins` };
  const conf: CniNetworkConf = { name, plugins, mainType: first.type };
  if (first.type === 'multus' || first.type === 'multus-shim') {
    const multus = parseMultus(first.raw);
    if (!multus.ok) return multus;
    conf.multus = multus.multus;
  }
  return { ok: true, conf };
}

function parseMultus(raw: Record<string, unknown>): { ok: true; multus: MultusConf } | { ok: false; error: string } {
  const delegates: CniNetworkConf[] = [];
  if (Array.isArray(raw.delegates)) {
    // The "masterplugin" delegate (older configs) is the cluster network; otherwise the first.
    const ordered = [...raw.delegates].sort((a, b) => Number(isObject(b) && b.masterplugin === true) - Number(isObject(a) && a.masterplugin === true));
    for (const d of ordered) {
      if (!isObject(d)) return { ok: false, error: 'Multus: delegate is not an object' };
      const parsed = parseNetworkObject(d);
      if (!parsed.ok) return parsed;
      delegates.push(parsed.conf);
    }
  }
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined);
  const clusterNetwork = typeof raw.clusterNetwork === 'string' && raw.clusterNetwork !== '' ? raw.clusterNetwork : undefined;
  if (!clusterNetwork && !delegates.length) return { ok: false, error: 'Multus: neither clusterNetwork nor delegates is set' };
  return {
    ok: true,
    multus: {
      clusterNetwork,
      defaultNetworks: strings(raw.defaultNetworks) ?? [],
      confDir: typeof raw.confDir === 'string' && raw.confDir !== '' ? raw.confDir : MULTUS_DEFAULT_CONF_DIR,
      systemNamespaces: strings(raw.systemNamespaces) ?? ['kube-system'],
      multusNamespace: typeof raw.multusNamespace === 'string' && raw.multusNamespace !== '' ? raw.multusNamespace : 'kube-system',
      delegates,
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
