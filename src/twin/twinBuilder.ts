import type { KubeObject } from '../kube/kubeTypes.js';
import { referencedConfigMaps, type TemplateSpec } from '../source/podTemplateReader.js';

// A twin of a live cluster as a scenario the simulator replays: its nodes (labels, taints,
// zones), workloads (replicas, pod templates, tolerations, node selectors), PodDisruptionBudgets,
// Services, NetworkPolicies, and its CNI as installed (DaemonSets, their ConfigMaps, the Calico
// and Cilium resources that configure them). Pure: objects in, scenario documents out.
//
// What it never carries: Secrets, service-account tokens, environment values of workloads (names
// are kept, values emptied; references to Secrets and ConfigMaps stay references), the data of
// ConfigMaps that are not the CNI's (keys kept, values emptied, so pods that mount them start),
// kubectl's last-applied annotation (a copy of the whole object, env included).

/** What was read from the cluster. */
export interface TwinInventory {
  nodes: KubeObject[];
  namespaces: KubeObject[];
  workloads: KubeObject[];
  configMaps: KubeObject[];
  services: KubeObject[];
  podDisruptionBudgets: KubeObject[];
  networkPolicies: KubeObject[];
  /** CNI configuration resources: Calico IPPools, FelixConfigurations, Installations; CiliumNodeConfigs. */
  cniResources: KubeObject[];
  /** The CRDs those resources need. */
  crds: KubeObject[];
  /** DaemonSets and Deployments of the CNIs (source, Cilium, Multus, Calico's operator): their env and ConfigMaps are configuration, kept whole. */
  cniWorkloads: { namespace: string; name: string; kind: string }[];
  /** The kubelets' CNI directory (the source's installer mount). */
  cniConfDir: string;
  /** The pod network range node podCIDRs are carved from. */
  clusterCIDR: string;
  /** Namespaces of the tool's own objects (probes), left out. */
  ownNamespaces: string[];
}

export interface TwinOptions {
  /** Nodes and replicas multiplied by this (0 < scale ≤ 1); at least 2 nodes and the control plane kept. */
  scale: number;
  /** For the header. */
  from: string;
}

export interface Twin {
  documents: KubeObject[];
  /** What was left out or changed, for the user. */
  notes: string[];
}

const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';
const ZONE = 'topology.kubernetes.io/zone';
/** Labels, annotations and taints the cluster or this tool puts on nodes, not the user. */
const isOwnKey = (k: string) => k.startsWith('cni-migration.io/') || k.startsWith('node.kubernetes.io/') || k.startsWith('node.cilium.io/') || k === 'node-role.kubernetes.io/canal-cilium' || k === 'node-role.kubernetes.io/cilium';
const DROPPED_ANNOTATIONS = [/^kubectl\.kubernetes\.io\/last-applied-configuration$/, /^deployment\.kubernetes\.io\//, /^deprecated\.daemonset\.template\.generation$/, /^meta\.helm\.sh\//];

function cleanMeta(o: KubeObject, namespaced: boolean): KubeObject['metadata'] {
  const m = o.metadata;
  const annotations = Object.fromEntries(Object.entries(m.annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.some((r) => r.test(k))));
  return {
    name: m.name,
    ...(namespaced && m.namespace ? { namespace: m.namespace } : {}),
    ...(m.labels && Object.keys(m.labels).length ? { labels: { ...m.labels } } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}

const bare = (o: KubeObject, namespaced = true): KubeObject => {
  const { apiVersion, kind, spec } = o as KubeObject & { spec?: unknown };
  return { apiVersion, kind, metadata: cleanMeta(o, namespaced), ...(spec !== undefined ? { spec: structuredClone(spec) } : {}) };
};

type Container = { env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[]; envFrom?: unknown[] };

/** Environment values emptied (names kept); references to Secrets and ConfigMaps kept as references. */
function redactEnv(spec: Record<string, unknown>): number {
  let n = 0;
  for (const key of ['containers', 'initContainers']) {
    for (const c of (spec[key] as Container[] | undefined) ?? []) {
      for (const e of c.env ?? []) {
        if (e.value !== undefined && e.value !== '') {
          e.value = '';
          n++;
        }
      }
    }
  }
  return n;
}

function scaledReplicas(r: number | undefined, scale: number): number | undefined {
  if (r === undefined || scale >= 1) return r;
  // Two or more stay two or more: a workload that survived losing a pod still does.
  return r >= 2 ? Math.max(2, Math.round(r * scale)) : r;
}

/** Whether a PodDisruptionBudget selects a workload's pods (matchLabels; any matchExpressions count as a match, to be safe). */
function budgeted(w: KubeObject, pdbs: readonly KubeObject[]): boolean {
  const labels = (w.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels ?? {};
  return pdbs.some((p) => {
    if (p.metadata.namespace !== w.metadata.namespace) return false;
    const sel = (p.spec as { selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } } | undefined)?.selector;
    if (!sel) return false;
    if (sel.matchExpressions?.length) return true;
    return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  });
}

/** Nodes kept at a scale: control-plane nodes, then the others round-robin across zones. */
export function pickNodes(nodes: KubeObject[], scale: number): KubeObject[] {
  if (scale >= 1) return nodes;
  const want = Math.max(2, Math.ceil(nodes.length * scale));
  const cp = nodes.filter((n) => n.metadata.labels?.[CONTROL_PLANE] !== undefined);
  const byZone = new Map<string, KubeObject[]>();
  for (const n of nodes) {
    if (cp.includes(n)) continue;
    const z = n.metadata.labels?.[ZONE] ?? '';
    byZone.set(z, [...(byZone.get(z) ?? []), n]);
  }
  const picked = cp.slice(0, Math.max(1, Math.min(cp.length, want - 1)));
  const queues = [...byZone.values()];
  for (let i = 0; picked.length < want && queues.some((q) => q.length); i++) {
    const q = queues[i % queues.length]!;
    if (q.length) picked.push(q.shift()!);
  }
  return nodes.filter((n) => picked.includes(n));
}

/** The twin scenario of an inventory. */
export function buildTwin(inv: TwinInventory, opts: TwinOptions): Twin {
  const notes: string[] = [];
  const own = new Set(inv.ownNamespaces);
  const isCni = (o: KubeObject) => inv.cniWorkloads.some((w) => w.kind === o.kind && w.namespace === o.metadata.namespace && w.name === o.metadata.name);
  const nodes = pickNodes(inv.nodes, opts.scale);
  if (nodes.length < inv.nodes.length) notes.push(`${nodes.length} of ${inv.nodes.length} nodes kept (--scale ${opts.scale}): control-plane nodes first, then round-robin across zones`);

  const docs: KubeObject[] = [];
  docs.push({
    apiVersion: 'sim.cni-migration.dev/v1alpha1',
    kind: 'Simulation',
    defaultCluster: false,
    cniConfDir: inv.cniConfDir,
    clusterCIDR: inv.clusterCIDR,
    // The Node objects carry their own control-plane labels.
    controlPlaneNodes: 0,
  } as unknown as KubeObject);
  for (const n of nodes) {
    const labels = Object.fromEntries(Object.entries(n.metadata.labels ?? {}).filter(([k]) => !isOwnKey(k)));
    const taints = ((n.spec as { taints?: { key: string }[] } | undefined)?.taints ?? []).filter((t) => !isOwnKey(t.key));
    docs.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.metadata.name, labels }, ...(taints.length ? { spec: { taints } } : {}) });
  }
  for (const ns of inv.namespaces) {
    const name = ns.metadata.name ?? '';
    if (SYSTEM_NAMESPACES.has(name) || own.has(name)) continue;
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: cleanMeta(ns, false) });
  }
  for (const crd of inv.crds) docs.push(bare(crd, false));
  for (const r of inv.cniResources) docs.push(bare(r, r.metadata.namespace !== undefined));

  // ConfigMaps: the CNIs' whole; others' keys only.
  const cniConfigMaps = new Set<string>();
  for (const w of inv.workloads.filter(isCni)) for (const name of configMapsOf(w)) cniConfigMaps.add(`${w.metadata.namespace}/${name}`);
  let emptied = 0;
  for (const cm of inv.configMaps) {
    const key = `${cm.metadata.namespace}/${cm.metadata.name}`;
    if (own.has(cm.metadata.namespace ?? '') || cm.metadata.name === 'kube-root-ca.crt') continue;
    const data = (cm as { data?: Record<string, string> }).data ?? {};
    if (cniConfigMaps.has(key)) {
      docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: cleanMeta(cm, true), data: { ...data } });
      continue;
    }
    emptied++;
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: cleanMeta(cm, true), data: Object.fromEntries(Object.keys(data).map((k) => [k, ''])) });
  }
  if (emptied) notes.push(`${emptied} ConfigMaps that are not the CNI's: keys kept, values emptied`);

  let envValues = 0;
  const unscaled: string[] = [];
  for (const w of inv.workloads) {
    if (own.has(w.metadata.namespace ?? '')) continue;
    const d = bare(w);
    const spec = d.spec as { replicas?: number; template?: { spec?: Record<string, unknown> } };
    if (!isCni(w)) {
      if (spec.template?.spec) envValues += redactEnv(spec.template.spec);
      // A budget's arithmetic (minAvailable 2 of 3) is what a drain meets: those keep their replicas.
      if (budgeted(w, inv.podDisruptionBudgets)) {
        if (opts.scale < 1 && spec.replicas !== undefined) unscaled.push(`${w.kind} ${w.metadata.namespace}/${w.metadata.name}`);
      } else {
        const r = scaledReplicas(spec.replicas, opts.scale);
        if (r !== undefined) spec.replicas = r;
      }
    }
    docs.push(d);
  }
  if (envValues) notes.push(`${envValues} environment values of workloads emptied (names kept)`);
  if (unscaled.length) notes.push(`replicas kept for workloads a PodDisruptionBudget guards (${unscaled.join(', ')}): scaled, their budgets would block or free drains unlike the cluster's`);
  for (const pdb of inv.podDisruptionBudgets) if (!own.has(pdb.metadata.namespace ?? '')) docs.push(bare(pdb));
  for (const svc of inv.services) {
    if (own.has(svc.metadata.namespace ?? '') || (svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes')) continue;
    const d = bare(svc);
    const spec = d.spec as Record<string, unknown>;
    // Addresses are the API server's to allocate.
    for (const k of ['clusterIP', 'clusterIPs', 'healthCheckNodePort']) delete spec[k];
    for (const p of (spec.ports as Record<string, unknown>[] | undefined) ?? []) delete p.nodePort;
    docs.push(d);
  }
  for (const np of inv.networkPolicies) if (!own.has(np.metadata.namespace ?? '')) docs.push(bare(np));
  return { documents: docs, notes };
}

/** ConfigMaps a pod template reads: the source reader's references, and projected volumes' sources. */
export function configMapsOf(w: KubeObject): string[] {
  const spec = (w.spec as { template?: { spec?: TemplateSpec } } | undefined)?.template?.spec ?? {};
  const out = new Set(referencedConfigMaps(spec));
  for (const v of (spec.volumes as { projected?: { sources?: { configMap?: { name?: string } }[] } }[] | undefined) ?? []) {
    for (const src of v.projected?.sources ?? []) if (src.configMap?.name) out.add(src.configMap.name);
  }
  return [...out];
}
