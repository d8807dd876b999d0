import type { SimulationSettings } from '../simSettings.js';
import type { KubeObject } from '../store/kubeObject.js';
import type { ClusterBackend } from './clusterBackend.js';
import { nodeAddressing, type NodeAddressing } from './cniRuntime.js';

// Node registration as a kubelet does it: create the Node with its labels and pod CIDR, then post
// its status (a real API server ignores status on create). Optionally renew the node Leases that a
// real control plane's node lifecycle controller uses as the heartbeat.

/** Versions a simulated node reports (nodeInfo). */
export const NODE_INFO = {
  kubeletVersion: 'v1.32.7',
  containerRuntimeVersion: 'containerd://1.7.24',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0-sim-amd64',
} as const;

/** The Node object (metadata and spec) a kubelet registers. */
export function buildNode(name: string, addr: NodeAddressing): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: addr.podCIDR ? { podCIDR: addr.podCIDR, podCIDRs: [addr.podCIDR] } : {},
  };
}

/** The status a healthy kubelet posts for its node. */
export function buildNodeStatus(name: string, addr: NodeAddressing, now: string): Record<string, unknown> {
  const resources = { cpu: '4', memory: '16363904Ki', pods: '110', 'ephemeral-storage': '102626232Ki', 'hugepages-2Mi': '0' };
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  return {
    capacity: resources,
    allocatable: resources,
    conditions: [
      cond('NetworkUnavailable', 'False', 'RouteCreated', 'RouteController created a route'),
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: addr.internalIP },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: machineId(name),
      systemUUID: machineId(`uuid/${name}`).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
      bootID: machineId(`boot/${name}`).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
      kernelVersion: NODE_INFO.kernelVersion,
      osImage: NODE_INFO.osImage,
      containerRuntimeVersion: NODE_INFO.containerRuntimeVersion,
      kubeletVersion: NODE_INFO.kubeletVersion,
      kubeProxyVersion: NODE_INFO.kubeletVersion,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/**
 * Creates every node that does not exist yet and posts each node's status. A node that exists
 * already (a scenario's Node object) keeps its labels, taints and spec; as a kubelet does on
 * registration, it gets the kubelet's own labels (hostname, os, arch) and, unless it has one, the
 * node's pod CIDR.
 */
export async function registerNodes(backend: ClusterBackend, settings: SimulationSettings, nodeNames: readonly string[]): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await Promise.all(
    nodeNames.map(async (name, index) => {
      const addr = nodeAddressing(settings.clusterCIDR, settings.nodeCIDR, index, nodeNames.length);
      const existing = await backend.get('nodes', undefined, name);
      const fresh = buildNode(name, addr);
      if (!existing) await backend.create('nodes', fresh);
      else {
        const labels = Object.fromEntries(Object.entries(fresh.metadata.labels ?? {}).filter(([k]) => existing.metadata.labels?.[k] === undefined));
        const spec = existing.spec?.podCIDR ? {} : (fresh.spec ?? {});
        if (Object.keys(labels).length || Object.keys(spec).length) await backend.patch('nodes', undefined, name, { metadata: { labels }, ...(Object.keys(spec).length ? { spec } : {}) });
      }
      const actual = existing?.spec?.podCIDR ? { ...addr, podCIDR: existing.spec.podCIDR as string } : addr;
      await backend.patchStatus('nodes', undefined, name, buildNodeStatus(name, actual, now));
    }),
  );
}

/**
 * Renews each node's Lease in kube-node-lease, the heartbeat a real control plane's node lifecycle
 * controller watches (without it nodes turn NotReady after the grace period). Not needed in-process.
 */
export class LeaseRenewer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly backend: ClusterBackend,
    private readonly nodeNames: readonly string[],
    private readonly opts: { intervalMs?: number; durationSeconds?: number; log?: (line: string) => void } = {},
  ) {}

  /** Creates or renews every lease now, then keeps renewing them every intervalMs (10 s by default). */
  async start(): Promise<void> {
    await this.renewAll();
    const every = this.opts.intervalMs ?? 10_000;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.renewAll().finally(tick);
      }, every);
    };
    tick();
  }

  /** Stops renewing. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async renewAll(): Promise<void> {
    const renewTime = new Date().toISOString().replace(/Z$/, '000Z');
    await Promise.all(
      this.nodeNames.map(async (name) => {
        try {
          const existing = await this.backend.get('coordination.k8s.io/leases', 'kube-node-lease', name);
          if (existing) {
            await this.backend.patch('coordination.k8s.io/leases', 'kube-node-lease', name, { spec: { renewTime } });
            return;
          }
          const node = await this.backend.get('nodes', undefined, name);
          await this.backend.create('coordination.k8s.io/leases', {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: {
              name,
              namespace: 'kube-node-lease',
              ...(node?.metadata.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }] } : {}),
            },
            spec: { holderIdentity: name, leaseDurationSeconds: this.opts.durationSeconds ?? 40, renewTime },
          });
        } catch (e) {
          this.opts.log?.(`kubelet ${name}: renewing its lease failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
  }
}

// Stable 32-hex-digit ids derived from the name (machine-id style), so restarts report the same node.
function machineId(seed: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  let out = '';
  for (let round = 0; out.length < 32; round++) {
    for (const ch of `${seed}/${round}`) {
      h1 = Math.imul(h1 ^ ch.charCodeAt(0), 0x01000193) >>> 0;
      h2 = Math.imul(h2 + ch.charCodeAt(0), 0x5bd1e995) >>> 0;
    }
    out += (h1 ^ h2).toString(16).padStart(8, '0');
  }
  return out.slice(0, 32);
}
