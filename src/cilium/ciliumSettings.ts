import { formatCidr, parseCidr } from '../net/ipv4.js';

// What a Cilium installation does, read from its cilium-config ConfigMap (what the Helm chart
// renders, what build-config hands the agent): the keys a dual-overlay migration depends on,
// with the agent's defaults for keys the chart leaves out. Pure.

/** The cilium-config keys a migration reads and writes. */
export const CILIUM_KEYS = {
  pool: 'cluster-pool-ipv4-cidr',
  maskSize: 'cluster-pool-ipv4-mask-size',
  ipam: 'ipam',
  routingMode: 'routing-mode',
  tunnelProtocol: 'tunnel-protocol',
  tunnelPort: 'tunnel-port',
  legacyTunnel: 'tunnel',
  customConf: 'custom-cni-conf',
  writeConf: 'write-cni-conf-when-ready',
  exclusive: 'cni-exclusive',
  cniLogFile: 'cni-log-file',
  uninstall: 'cni-uninstall',
  chaining: 'cni-chaining-mode',
  policy: 'enable-policy',
  podWatcher: 'unmanaged-pod-watcher-interval',
  hostLegacyRouting: 'enable-host-legacy-routing',
  kubeProxyReplacement: 'kube-proxy-replacement',
} as const;

/** The file Cilium's chart names when it manages the CNI configuration. */
export const CILIUM_CONF_PATH = '/host/etc/cni/net.d/05-cilium.conflist';

/** A Cilium installation's settings that matter to a migration. */
export interface CiliumSettings {
  ipam: string;
  /** cluster-pool ranges (IPv4). */
  pool: string[];
  maskSize: number;
  routingMode: 'tunnel' | 'native';
  tunnelProtocol: string;
  tunnelPort: number;
  /** The agent writes a CNI configuration file (write-cni-conf-when-ready set, custom-cni-conf not true). */
  managesCniFile: boolean;
  exclusive: boolean;
  /** enable-policy: default, always or never. */
  policyEnforcement: string;
  /** "0" (off), or the interval of the operator's restart of pods without a Cilium endpoint. */
  unmanagedPodWatcher: string;
  /** Where these were read. */
  from: string;
}

const DEFAULT_PORTS: Record<string, number> = { vxlan: 8472, geneve: 6081 };

/** The settings of a cilium-config, with the agent's defaults for absent keys. */
export function ciliumSettingsOf(data: Readonly<Record<string, string>>, from: string): CiliumSettings {
  const k = CILIUM_KEYS;
  const get = (key: string) => (data[key] ?? '').trim();
  const legacy = get(k.legacyTunnel);
  const routingMode = get(k.routingMode) === 'native' || legacy === 'disabled' ? 'native' : 'tunnel';
  const tunnelProtocol = get(k.tunnelProtocol) || (legacy && legacy !== 'disabled' ? legacy : 'vxlan');
  const port = Number(get(k.tunnelPort) || 0);
  const pool = get(k.pool)
    .split(/[\s,]+/)
    .filter((c) => c !== '')
    .map((c) => {
      const p = parseCidr(c);
      return p ? formatCidr(p) : c;
    });
  return {
    ipam: get(k.ipam) || 'cluster-pool',
    pool: pool.length ? pool : ['10.0.0.0/8'],
    maskSize: Number(get(k.maskSize) || 24),
    routingMode,
    tunnelProtocol,
    tunnelPort: port > 0 ? port : (DEFAULT_PORTS[tunnelProtocol] ?? 8472),
    managesCniFile: get(k.writeConf) !== '' && get(k.customConf) !== 'true',
    exclusive: get(k.exclusive) === 'true',
    policyEnforcement: get(k.policy) || 'default',
    unmanagedPodWatcher: get(k.podWatcher) || '15',
    from,
  };
}

/** The keys that make an installed Cilium latent (the migration values) or take over (the final ones). */
export function ciliumConfigPhase(phase: 'migration' | 'final'): Record<string, string | null> {
  const k = CILIUM_KEYS;
  if (phase === 'migration') {
    return { [k.customConf]: 'true', [k.writeConf]: null, [k.exclusive]: null, [k.cniLogFile]: null, [k.uninstall]: 'false', [k.policy]: 'never', [k.podWatcher]: '0', [k.hostLegacyRouting]: 'true' };
  }
  return { [k.customConf]: 'false', [k.writeConf]: CILIUM_CONF_PATH, [k.exclusive]: 'true', [k.cniLogFile]: '/var/run/cilium/cilium-cni.log', [k.uninstall]: 'false', [k.policy]: 'default', [k.podWatcher]: '15' };
}

// Keys the chart leaves out at their default: `if .Values.cni.uninstall` renders no cni-uninstall
// key for false, and /cni-uninstall.sh then leaves the CNI config alone.
const ABSENT_MEANS: Readonly<Record<string, string>> = { [CILIUM_KEYS.uninstall]: 'false' };

/** Which of a phase's keys a cilium-config does not have yet, as "key: want (is)". */
export function missingPhaseKeys(data: Readonly<Record<string, string>>, phase: 'migration' | 'final'): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(ciliumConfigPhase(phase))) {
    const have = data[key] ?? ABSENT_MEANS[key];
    if (want === null ? have !== undefined && have !== '' : (have ?? '').trim() !== want) out.push(`${key}: ${want === null ? '(absent)' : want} (is ${have === undefined ? 'absent' : JSON.stringify(have)})`);
  }
  return out;
}
