/** Inline builders for connectivity tests: probe pods, Endpoints, status documents. */
import type { Pod } from '../../kube/kubeTypes.js';
import { NETWORK_STATUS_ANNOTATION } from '../agent/peerDiscovery.js';
import type { EndpointsLike, PeerSnapshot } from '../agent/probeTypes.js';
import { STATUS_VERSION, type PeerStatus, type ProbeStatusDocument } from '../agent/statusDocument.js';

/** One interface for a Multus network-status annotation: [cni network name, ip]. */
export type Iface = [name: string, ip: string];

/** A Running, Ready probe pod; with `interfaces`, Multus' annotation lists them (first = primary). */
export function probePod(name: string, node: string, ip: string, opts: { interfaces?: Iface[]; terminating?: boolean; ready?: boolean; phase?: string } = {}): Pod {
  const annotations = opts.interfaces
    ? { [NETWORK_STATUS_ANNOTATION]: JSON.stringify(opts.interfaces.map(([n, addr], i) => ({ name: n, interface: i === 0 ? 'eth0' : `net${i}`, ips: [addr], ...(i === 0 ? { default: true } : {}) }))) }
    : undefined;
  const ready = opts.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'cni-migration-probe', uid: `uid-${name}`, labels: { 'app.kubernetes.io/name': 'cni-migration-probe' }, ...(annotations ? { annotations } : {}), ...(opts.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: node, containers: [{ name: 'probe-agent', image: 'x', ports: [{ name: 'probe', containerPort: 8080 }] }] },
    status: { phase: (opts.phase ?? 'Running') as 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** Endpoints listing these pods (by their podIP) as ready addresses. */
export function endpointsOf(pods: readonly Pod[]): EndpointsLike {
  return {
    subsets: [
      {
        addresses: pods.map((p) => ({ ip: p.status!.podIP!, nodeName: p.spec!.nodeName, targetRef: { kind: 'Pod', name: p.metadata.name!, namespace: p.metadata.namespace! } })),
      },
    ],
  };
}

/** Snapshot of pods all listed in the Endpoints. */
export function snapshotOf(pods: Pod[]): PeerSnapshot {
  return { endpoints: endpointsOf(pods), pods };
}

/** A peer entry of a status document. */
export function peerStatus(pod: string, node: string, ip: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return { pod, node, ip, network: 'flannel', interface: 'eth0', primary: true, result: 'ok', latencyMs: 0.5, consecutiveFailures: 0, counts: { ok: 3, failed: 0 }, episodes: [], ...over };
}

/** A status document of one probe pod. */
export function statusDoc(pod: string, node: string, peers: PeerStatus[], over: Partial<ProbeStatusDocument> = {}): ProbeStatusDocument {
  return {
    version: STATUS_VERSION,
    pod: { name: pod, namespace: 'cni-migration-probe', node, ips: ['10.0.0.1'], interfaces: [{ network: 'flannel', interface: 'eth0', ips: ['10.0.0.1'], primary: true }] },
    ok: peers.every((p) => p.result === 'ok' || p.result === 'pending'),
    startedAt: '2024-01-01T00:00:00.000Z',
    generatedAt: '2024-01-01T00:01:00.000Z',
    rounds: 3,
    settings: { intervalMs: 2000, timeoutMs: 1000 },
    peers,
    flows: { open: [], breaks: [], breaksTotal: 0 },
    ...over,
  };
}
