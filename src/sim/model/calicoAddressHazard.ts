import type { SettingsHolder } from '../simSettings.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { ClusterBackend } from './clusterBackend.js';
import type { ConfigMapLookup } from './containerEnv.js';
import { resolveContainerEnv } from './containerEnv.js';
import type { CniRuntime } from './cniRuntime.js';
import { podSpecOf } from './podSpec.js';

// calico-node's node address autodetection meeting Cilium (cilium#31273, the DB Schenker outage):
// with IP=autodetect and the first-found method (the manifest's default), calico-node re-detects
// its address every AUTODETECT_POLL_INTERVAL and, once Cilium's agent has created cilium_host (the
// newest interface with a global IPv4 address, and not on the exclusion list), takes its address.
// BGP peers and tunnels then aim at an address the other nodes cannot reach: that node's Calico
// routes break, while pods on the node still reach each other. The node's
// projectcalico.org/IPv4Address annotation shows the address calico-node uses.

/** Interfaces first-found skips (node/pkg/lifecycle/startup/autodetection): cilium_* is not among them. */
const FIRST_FOUND_EXCLUDES = [/^docker/, /^cbr/, /^dummy/, /^podman/, /^virbr/, /^lxcbr/, /^veth/, /^lo$/, /^br-/, /^cali/, /^tunl/, /^flannel/, /^kube-ipvs/, /^cni/, /^vxlan\.calico/, /^vxlan-v6\.calico/, /^wireguard\.cali/, /^wg-v6\.cali/, /^nodelocaldns/];

const matchesAny = (patterns: string, name: string) =>
  patterns.split(/\s*,\s*/).some((p) => {
    try {
      return new RegExp(p).test(name);
    } catch {
      return false;
    }
  });

/** Whether calico-node's environment makes it take cilium_host's address once the interface exists. */
export function takesCiliumHost(env: ReadonlyMap<string, string>): boolean {
  const ip = env.get('IP');
  // A literal address (or none) is kept; only detection can pick an interface.
  if (ip !== undefined && ip !== '' && ip !== 'autodetect') return false;
  const method = env.get('IP_AUTODETECTION_METHOD') || 'first-found';
  const eq = method.indexOf('=');
  const kind = eq < 0 ? method : method.slice(0, eq);
  const arg = eq < 0 ? '' : method.slice(eq + 1);
  if (kind === 'first-found') return !FIRST_FOUND_EXCLUDES.some((r) => r.test('cilium_host'));
  if (kind === 'interface') return matchesAny(arg, 'cilium_host');
  if (kind === 'skip-interface') return !matchesAny(arg, 'cilium_host');
  // kubernetes-internal-ip, can-reach=, cidr=: the node's own address.
  return false;
}

/** What the watch needs of the model. */
export interface CalicoAddressDeps {
  runtime: CniRuntime;
  backend: ClusterBackend;
  settings: SettingsHolder;
  configMaps: ConfigMapLookup;
  /** The running calico-node pod on a node (plain Calico, where it is the datapath), if any. */
  calicoAgentPod(node: string): KubeObject | undefined;
  log: (line: string) => void;
}

/** Applies the hazard per node: breaks and restores Calico's routes and keeps the address annotation current. */
export class CalicoAddressWatch {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly written = new Map<string, string>();
  private stopped = false;

  constructor(private readonly deps: CalicoAddressDeps) {}

  /** Re-judges a node after a change of its CNI state (an agent started or went). */
  nodeChanged(node: string): void {
    if (this.stopped) return;
    const { runtime } = this.deps;
    const pod = this.deps.calicoAgentPod(node);
    const calicoUp = runtime.profile(node, 'calico').up;
    if (!pod || !calicoUp) {
      this.cancel(node);
      return;
    }
    const container = (podSpecOf(pod).containers ?? []).find((c) => c.name === 'calico-node') ?? podSpecOf(pod).containers?.[0];
    const env = container ? resolveContainerEnv(pod, container, this.deps.configMaps).env : new Map<string, string>();
    const ciliumHost = runtime.profile(node, 'cilium').up ? runtime.hostSideAddress(node, 'cilium') : undefined;
    const internalIP = runtime.addressingOf(node)?.internalIP ?? '';
    if (ciliumHost && takesCiliumHost(env)) {
      if (this.timers.has(node) || this.written.get(node) === ciliumHost) return;
      // calico-node notices the new interface at its next poll.
      const t = setTimeout(() => {
        this.timers.delete(node);
        runtime.setBrokenRoutes(node, 'calico', `calico-node autodetected cilium_host's ${ciliumHost} as ${node}'s address (IP_AUTODETECTION_METHOD ${env.get('IP_AUTODETECTION_METHOD') || 'first-found'}): BGP peers and tunnels aim at it`);
        void this.annotate(node, `${ciliumHost}/32`);
      }, this.deps.settings.get().timings.calicoAutodetectMs);
      this.timers.set(node, t);
      return;
    }
    this.cancel(node);
    runtime.setBrokenRoutes(node, 'calico', undefined);
    void this.annotate(node, `${internalIP}/${prefixOf(this.deps.settings.get().nodeCIDR)}`);
  }

  /** Stops the timers. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private cancel(node: string): void {
    clearTimeout(this.timers.get(node));
    this.timers.delete(node);
  }

  private async annotate(node: string, address: string): Promise<void> {
    if (this.stopped || this.written.get(node) === address.split('/')[0]) return;
    this.written.set(node, address.split('/')[0]!);
    try {
      await this.deps.backend.patch('nodes', undefined, node, { metadata: { annotations: { 'projectcalico.org/IPv4Address': address } } });
    } catch (e) {
      this.deps.log(`calico-node on ${node}: writing its address annotation failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function prefixOf(cidr: string): string {
  return cidr.split('/')[1] ?? '32';
}
