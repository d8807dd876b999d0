import type { KubeObject } from '../store/kubeObject.js';
import { isPodReady, isPodTerminal } from './podStatus.js';
import { stableJson } from './stableJson.js';

/** v1.EndpointAddress as JSON. */
export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

/** v1.EndpointPort as JSON. */
export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** v1.EndpointSubset as JSON. */
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

/**
 * podutil.FindPort: a numeric targetPort as is, a named one looked up among the pod's container
 * ports with the same protocol; undefined when the pod has no such port.
 */
export function findPodPort(pod: KubeObject, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  const protocol = port.protocol ?? 'TCP';
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as { ports?: { name?: string; containerPort: number; protocol?: string }[] }[]) {
    const found = (c.ports ?? []).find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol);
    if (found) return found.containerPort;
  }
  return undefined;
}

/** ShouldPodBeInEndpoints: has an IP, not finished, and (unless publishing not-ready addresses) not terminating. */
function podBelongs(pod: KubeObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod) || !pod.status?.podIP) return false;
  return includeTerminating || !pod.metadata.deletionTimestamp;
}

function addressOf(svc: KubeObject, pod: KubeObject): EndpointAddress {
  const addr: EndpointAddress = {
    ip: pod.status.podIP as string,
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
  };
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  if (pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name) addr.hostname = pod.spec.hostname;
  return addr;
}

const byIp = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.targetRef.uid < b.targetRef.uid ? -1 : 1);

/**
 * The Endpoints subsets for a Service (syncService + RepackSubsets): each selected pod with an IP
 * is an address — ready ones in addresses, others in notReadyAddresses unless
 * publishNotReadyAddresses — with the service ports resolved against it; pods offering the same
 * ports share a subset. Pods that resolve none of the ports are left out.
 */
export function buildEndpointSubsets(svc: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const publishNotReady = Boolean(svc.spec?.publishNotReadyAddresses);
  const servicePorts = (svc.spec?.ports ?? []) as ServicePort[];
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!podBelongs(pod, publishNotReady)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = findPodPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const headless = servicePorts.length === 0 && svc.spec?.clusterIP === 'None';
    if (ports.length === 0 && !headless) continue;
    const key = stableJson(ports);
    const group = groups.get(key) ?? { ports, ready: [], notReady: [] };
    (publishNotReady || isPodReady(pod) ? group.ready : group.notReady).push(addressOf(svc, pod));
    groups.set(key, group);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => ({
    ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
    ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
    ...(g.ports.length ? { ports: g.ports } : {}),
  }));
}
