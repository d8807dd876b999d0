import { formatCidr, formatIp, hostAt } from '../../net/ipv4.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { datapathNetworkOf, type DatapathSpec } from './agentRecognizer.js';
import type { ClusterBackend } from './clusterBackend.js';
import type { CniRuntime } from './cniRuntime.js';
import { nodePoolSubnet } from './ipPools.js';
import { baseName, podSpecOf } from './podSpec.js';

// What a running cilium-operator does to the cluster that a migration depends on: it registers
// Cilium's CRDs at start-up (the Helm chart ships none, so CiliumNodeConfigs cannot be created
// before an operator has run), and with cluster-pool IPAM it hands every node running an agent its
// share of the pool in that node's CiliumNode (spec.ipam.podCIDRs). The CiliumNode itself is
// created by the agent in reality; the model creates it with the allocation in one step. Writes go
// through the model's ClusterBackend, so this works in-process and against a real control plane.

const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';
const CILIUM_NODES = 'cilium.io/ciliumnodes';
const PODS = 'pods';
const RETRY_MS = 500;

/** Operator images (quay.io/cilium/operator-generic, operator, operator-aws, …). */
const OPERATOR_IMAGES = /^(operator|operator-generic|operator-aws|operator-azure|operator-alibabacloud)$/;

interface CrdNames {
  plural: string;
  singular: string;
  kind: string;
  shortNames?: string[];
  categories: string[];
}

/** The cilium.io CRDs the model registers (names, scope, versions as upstream's crds/v2/*.yaml; schemas minimal). */
export function ciliumCrds(): KubeObject[] {
  const schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
  const v2 = (status: boolean) => ({ name: 'v2', served: true, storage: true, schema, ...(status ? { subresources: { status: {} } } : { subresources: {} }) });
  const crd = (names: CrdNames, scope: 'Namespaced' | 'Cluster', versions: object[]): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.cilium.io` },
    spec: { group: 'cilium.io', names: { ...names, listKind: `${names.kind}List` }, scope, versions },
  });
  return [
    crd({ plural: 'ciliumnodeconfigs', singular: 'ciliumnodeconfig', kind: 'CiliumNodeConfig', categories: ['cilium'] }, 'Namespaced', [
      { name: 'v2', served: true, storage: true, schema },
      { name: 'v2alpha1', served: true, storage: false, deprecated: true, deprecationWarning: 'cilium.io/v2alpha1 CiliumNodeConfig will be deprecated in cilium v1.16; use cilium.io/v2 CiliumNodeConfig', schema },
    ]),
    crd({ plural: 'ciliumnodes', singular: 'ciliumnode', kind: 'CiliumNode', shortNames: ['cn', 'ciliumn'], categories: ['cilium'] }, 'Cluster', [v2(true)]),
    crd({ plural: 'ciliumendpoints', singular: 'ciliumendpoint', kind: 'CiliumEndpoint', shortNames: ['cep', 'ciliumep'], categories: ['cilium'] }, 'Namespaced', [v2(false)]),
    crd({ plural: 'ciliumidentities', singular: 'ciliumidentity', kind: 'CiliumIdentity', shortNames: ['ciliumid'], categories: ['cilium'] }, 'Cluster', [v2(true)]),
    crd({ plural: 'ciliumnetworkpolicies', singular: 'ciliumnetworkpolicy', kind: 'CiliumNetworkPolicy', shortNames: ['cnp', 'ciliumnp'], categories: ['cilium', 'ciliumpolicy'] }, 'Namespaced', [v2(true)]),
    crd(
      { plural: 'ciliumclusterwidenetworkpolicies', singular: 'ciliumclusterwidenetworkpolicy', kind: 'CiliumClusterwideNetworkPolicy', shortNames: ['ccnp'], categories: ['cilium', 'ciliumpolicy'] },
      'Cluster',
      [v2(true)],
    ),
  ];
}

/** Whether a pod runs cilium-operator (an operator image from a cilium repository, or a cilium-operator* command). */
export function isCiliumOperatorPod(pod: KubeObject): boolean {
  return (podSpecOf(pod).containers ?? []).some((c) => {
    if (baseName(c.command?.[0] ?? '').startsWith('cilium-operator')) return true;
    const repo = (c.image ?? '').split('@')[0]!.replace(/:[^/:]*$/, '');
    const segments = repo.split('/');
    return OPERATOR_IMAGES.test(segments.at(-1) ?? '') && segments.slice(0, -1).some((s) => s === 'cilium');
  });
}

/** What the operator effects read from the model: the Cilium datapath up on a node, and the node's addressing. */
export interface CiliumOperatorModelView {
  nodeNames(): string[];
  /** The Cilium datapath's settings on a node while it is up (the pool the model allocates pod IPs from). */
  ciliumDatapath(node: string): DatapathSpec | undefined;
  addressingOf(node: string): { index: number; internalIP: string; podCIDR?: string } | undefined;
}

/** The model view of a CniRuntime. */
export function ciliumOperatorView(runtime: CniRuntime): CiliumOperatorModelView {
  return {
    nodeNames: () => runtime.nodeNames(),
    ciliumDatapath: (node) => runtime.state(node)?.datapath('cilium')?.spec,
    addressingOf: (node) => runtime.addressingOf(node),
  };
}

/** The CiliumNode a cluster-pool agent's node gets: the node's share of the pool, as the model allocates from it. */
export function ciliumNodeFor(node: string, view: CiliumOperatorModelView, nodeObject?: KubeObject): KubeObject | undefined {
  const dp = view.ciliumDatapath(node);
  const addr = view.addressingOf(node);
  if (!dp || !addr || dp.ipam !== 'cluster-pool') return undefined;
  const subnet = nodePoolSubnet(dp.pool, addr.index, view.nodeNames().length, addr.podCIDR);
  if (!subnet) return undefined;
  // The model keeps .1 of each node's subnet for cilium_host (the router IP).
  const router = hostAt(subnet, 1);
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNode',
    metadata: {
      name: node,
      labels: { ...(nodeObject?.metadata.labels ?? {}) },
      ...(nodeObject?.metadata.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeObject.metadata.uid }] } : {}),
    },
    spec: {
      addresses: [...(addr.internalIP ? [{ type: 'InternalIP', ip: addr.internalIP }] : []), ...(router !== undefined ? [{ type: 'CiliumInternalIP', ip: formatIp(router) }] : [])],
      ipam: { podCIDRs: [formatCidr(subnet)] },
    },
  };
}

/** Stops the operator effects; `idle()` resolves once no write is pending (tests wait on it instead of sleeping). */
export type CiliumOperatorEffects = (() => void) & { idle: () => Promise<void> };

/**
 * Watches pods; while a cilium-operator pod runs on one of the model's nodes, registers the CRDs
 * (once per operator pod) and gives every node whose cluster-pool agent runs a CiliumNode with its
 * podCIDRs. Existing objects are left as they are (a CiliumNode without podCIDRs gets them):
 * the operator never re-allocates a node's CIDRs. Returns a function that stops it.
 */
export async function startCiliumOperatorEffects(backend: ClusterBackend, view: CiliumOperatorModelView, log: (line: string) => void = () => {}): Promise<CiliumOperatorEffects> {
  const ours = () => new Set(view.nodeNames());
  const operators = new Set<string>();
  const registeredFor = new Set<string>();
  const agentNodes = new Map<string, string>();
  const allocated = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let scheduled = false;
  let running = false;
  let again = false;

  const schedule = (delayMs = 0) => {
    if (stopped || scheduled) return;
    scheduled = true;
    const t = setTimeout(() => {
      timers.delete(t);
      scheduled = false;
      void reconcile();
    }, delayMs);
    timers.add(t);
  };

  const reconcile = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    let failed = false;
    try {
      if (!operators.size) return;
      for (const uid of operators) {
        if (registeredFor.has(uid)) continue;
        if (await registerCrds(backend, log)) registeredFor.add(uid);
        else failed = true;
      }
      for (const node of new Set(agentNodes.values())) {
        if (allocated.has(node) || stopped) continue;
        const done = await ensureCiliumNode(backend, view, node, log);
        if (done) allocated.add(node);
        else failed = true;
      }
    } finally {
      running = false;
      if (again) {
        again = false;
        schedule();
      } else if (failed) schedule(RETRY_MS);
    }
  };

  const onPod = (ev: WatchEvent) => {
    const pod = ev.object;
    const uid = pod.metadata.uid ?? '';
    const node = podSpecOf(pod).nodeName;
    const runs = ev.type !== 'DELETED' && !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && node !== undefined && ours().has(node);
    if (isCiliumOperatorPod(pod)) {
      if (runs && !operators.has(uid)) {
        operators.add(uid);
        schedule();
      } else if (!runs) operators.delete(uid);
      return;
    }
    if (datapathNetworkOf(pod) !== 'cilium') return;
    if (runs && !agentNodes.has(uid)) {
      // A (re)started agent re-creates its CiliumNode if it is gone.
      agentNodes.set(uid, node);
      allocated.delete(node);
      schedule();
    } else if (!runs) agentNodes.delete(uid);
  };

  const stopWatch = await backend.watch(PODS, onPod);
  const stop = () => {
    stopped = true;
    stopWatch();
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
  const idle = async () => {
    while (!stopped && (scheduled || running)) await new Promise<void>((r) => setImmediate(r));
  };
  return Object.assign(stop, { idle });
}

// Creates the CRDs that do not exist; true when every one exists afterwards.
async function registerCrds(backend: ClusterBackend, log: (line: string) => void): Promise<boolean> {
  let ok = true;
  for (const crd of ciliumCrds()) {
    try {
      await backend.create(CRDS, crd);
    } catch (e) {
      if (isAlreadyExists(e)) continue;
      ok = false;
      log(`cilium-operator (model): registering CRD ${crd.metadata.name} failed, retrying: ${errorText(e)}`);
    }
  }
  return ok;
}

// Creates the node's CiliumNode (or fills in podCIDRs an existing one lacks); true when done or nothing to do.
async function ensureCiliumNode(backend: ClusterBackend, view: CiliumOperatorModelView, node: string, log: (line: string) => void): Promise<boolean> {
  try {
    const nodeObject = await backend.get('nodes', undefined, node);
    const desired = ciliumNodeFor(node, view, nodeObject);
    if (!desired) return true;
    try {
      await backend.create(CILIUM_NODES, desired);
      return true;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const existing = await backend.get(CILIUM_NODES, undefined, node);
    const podCIDRs = ((existing?.spec as { ipam?: { podCIDRs?: string[] } } | undefined)?.ipam?.podCIDRs ?? []).filter(Boolean);
    if (existing && !podCIDRs.length) await backend.patch(CILIUM_NODES, undefined, node, { spec: { ipam: { podCIDRs: (desired.spec as { ipam: { podCIDRs: string[] } }).ipam.podCIDRs } } });
    return true;
  } catch (e) {
    // The CRD may not be served yet (a real API server establishes it asynchronously).
    log(`cilium-operator (model): CiliumNode ${node} failed, retrying: ${errorText(e)}`);
    return false;
  }
}

function isAlreadyExists(e: unknown): boolean {
  const err = e as { reason?: string; code?: number; status?: number } | undefined;
  return err?.reason === 'AlreadyExists' || err?.code === 409 || err?.status === 409;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
