import type { KubeObject } from '../store/kubeObject.js';

// Server-side printing (meta.k8s.io/v1 Table), with the columns kube-apiserver's printers use,
// so `kubectl get ... -o wide` shows what it shows on a real cluster.

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}

type Row = (o: KubeObject, now: number) => unknown[];

/** Human age like kubectl's duration.HumanDuration. */
export function humanAge(ts: string | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp' };

function podStatus(p: KubeObject): string {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  const waiting = (p.status?.containerStatuses ?? []).find((c: { state?: { waiting?: { reason?: string } } }) => c.state?.waiting?.reason);
  if (waiting) return waiting.state.waiting.reason as string;
  return (p.status?.reason as string | undefined) ?? (p.status?.phase as string | undefined) ?? 'Pending';
}

function nodeStatus(n: KubeObject): string {
  const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  let s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if (n.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(n: KubeObject): string {
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function selectorString(sel: { matchLabels?: Record<string, string> } | Record<string, string> | undefined): string {
  if (!sel) return '<none>';
  const ml = 'matchLabels' in sel && typeof sel.matchLabels === 'object' ? sel.matchLabels : (sel as Record<string, string>);
  const s = Object.entries(ml ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return s || '<none>';
}

function containerNames(spec: { containers?: { name: string; image: string }[] } | undefined): [string, string] {
  const cs = spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

/** printControllerRevision's controller cell: `<kind>.<group>/<name>` in lower case, as formatResourceName writes it. */
function controllerName(o: KubeObject): string {
  const ref = o.metadata.ownerReferences?.find((r) => r.controller === true);
  if (!ref) return '<none>';
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

/** metav1.FormatLabelSelector: requirements sorted by key, "<none>" when empty. */
function formatLabelSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const reqs: [string, string][] = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of sel?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text = e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : `!${e.key}`;
    reqs.push([e.key, text]);
  }
  reqs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return reqs.length ? reqs.map(([, t]) => t).join(',') : '<none>';
}

const PRINTERS: Record<string, { columns: Column[]; row: Row }> = {
  'networking.k8s.io/networkpolicies': {
    columns: [NAME, { name: 'Pod-Selector', type: 'string', description: "Select the pods to which this resource applies. A empty selector selects all pods in this namespace." }, AGE],
    row: (p, now) => [p.metadata.name, formatLabelSelector(p.spec?.podSelector), humanAge(p.metadata.creationTimestamp, now)],
  },
  pods: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string' },
      { name: 'Status', type: 'string' },
      { name: 'Restarts', type: 'string' },
      AGE,
      { name: 'IP', type: 'string', priority: 1 },
      { name: 'Node', type: 'string', priority: 1 },
      { name: 'Nominated Node', type: 'string', priority: 1 },
      { name: 'Readiness Gates', type: 'string', priority: 1 },
    ],
    row: (p, now) => {
      const cs = (p.status?.containerStatuses ?? []) as { ready?: boolean; restartCount?: number }[];
      const total = (p.spec?.containers ?? []).length;
      return [
        p.metadata.name,
        `${cs.filter((c) => c.ready).length}/${total}`,
        podStatus(p),
        String(cs.reduce((a, c) => a + (c.restartCount ?? 0), 0)),
        humanAge(p.metadata.creationTimestamp, now),
        p.status?.podIP ?? '<none>',
        p.spec?.nodeName ?? '<none>',
        '<none>',
        '<none>',
      ];
    },
  },
  nodes: {
    columns: [
      NAME,
      { name: 'Status', type: 'string' },
      { name: 'Roles', type: 'string' },
      AGE,
      { name: 'Version', type: 'string' },
      { name: 'Internal-IP', type: 'string', priority: 1 },
      { name: 'External-IP', type: 'string', priority: 1 },
      { name: 'OS-Image', type: 'string', priority: 1 },
      { name: 'Kernel-Version', type: 'string', priority: 1 },
      { name: 'Container-Runtime', type: 'string', priority: 1 },
    ],
    row: (n, now) => {
      const addr = (t: string) => (n.status?.addresses ?? []).find((a: { type: string }) => a.type === t)?.address ?? '<none>';
      const info = n.status?.nodeInfo ?? {};
      return [n.metadata.name, nodeStatus(n), nodeRoles(n), humanAge(n.metadata.creationTimestamp, now), info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
    },
  },
  'apps/daemonsets': {
    columns: [NAME, { name: 'Desired', type: 'integer' }, { name: 'Current', type: 'integer' }, { name: 'Ready', type: 'integer' }, { name: 'Up-to-date', type: 'integer' }, { name: 'Available', type: 'integer' }, { name: 'Node Selector', type: 'string' }, AGE, { name: 'Containers', type: 'string', priority: 1 }, { name: 'Images', type: 'string', priority: 1 }, { name: 'Selector', type: 'string', priority: 1 }],
    row: (d, now) => {
      const s = d.status ?? {};
      const [c, i] = containerNames(d.spec?.template?.spec);
      return [d.metadata.name, s.desiredNumberScheduled ?? 0, s.currentNumberScheduled ?? 0, s.numberReady ?? 0, s.updatedNumberScheduled ?? 0, s.numberAvailable ?? 0, selectorString(d.spec?.template?.spec?.nodeSelector), humanAge(d.metadata.creationTimestamp, now), c, i, selectorString(d.spec?.selector)];
    },
  },
  'apps/deployments': {
    columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Up-to-date', type: 'integer' }, { name: 'Available', type: 'integer' }, AGE, { name: 'Containers', type: 'string', priority: 1 }, { name: 'Images', type: 'string', priority: 1 }, { name: 'Selector', type: 'string', priority: 1 }],
    row: (d, now) => {
      const s = d.status ?? {};
      const [c, i] = containerNames(d.spec?.template?.spec);
      return [d.metadata.name, `${s.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, s.updatedReplicas ?? 0, s.availableReplicas ?? 0, humanAge(d.metadata.creationTimestamp, now), c, i, selectorString(d.spec?.selector)];
    },
  },
  'apps/replicasets': {
    columns: [NAME, { name: 'Desired', type: 'integer' }, { name: 'Current', type: 'integer' }, { name: 'Ready', type: 'integer' }, AGE],
    row: (r, now) => [r.metadata.name, r.spec?.replicas ?? 1, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, humanAge(r.metadata.creationTimestamp, now)],
  },
  'apps/statefulsets': {
    columns: [NAME, { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' }, AGE, { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' }, { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' }],
    row: (s, now) => {
      const [c, i] = containerNames(s.spec?.template?.spec);
      return [s.metadata.name, `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, humanAge(s.metadata.creationTimestamp, now), c, i];
    },
  },
  'apps/controllerrevisions': {
    columns: [NAME, { name: 'Controller', type: 'string', description: 'Controller of the object' }, { name: 'Revision', type: 'string', description: 'Revision indicates the revision of the state represented by Data.' }, AGE],
    row: (r, now) => [r.metadata.name, controllerName(r), r.revision ?? 0, humanAge(r.metadata.creationTimestamp, now)],
  },
  'policy/poddisruptionbudgets': {
    columns: [NAME, { name: 'Min Available', type: 'string' }, { name: 'Max Unavailable', type: 'string' }, { name: 'Allowed Disruptions', type: 'integer' }, AGE],
    row: (p, now) => [p.metadata.name, p.spec?.minAvailable ?? 'N/A', p.spec?.maxUnavailable ?? 'N/A', p.status?.disruptionsAllowed ?? 0, humanAge(p.metadata.creationTimestamp, now)],
  },
  services: {
    columns: [NAME, { name: 'Type', type: 'string' }, { name: 'Cluster-IP', type: 'string' }, { name: 'External-IP', type: 'string' }, { name: 'Port(s)', type: 'string' }, AGE, { name: 'Selector', type: 'string', priority: 1 }],
    row: (s, now) => [s.metadata.name, s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP ?? '<none>', '<none>', ((s.spec?.ports ?? []) as { port: number; protocol?: string }[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>', humanAge(s.metadata.creationTimestamp, now), selectorString(s.spec?.selector)],
  },
  namespaces: {
    columns: [NAME, { name: 'Status', type: 'string' }, AGE],
    row: (n, now) => [n.metadata.name, n.status?.phase ?? 'Active', humanAge(n.metadata.creationTimestamp, now)],
  },
  configmaps: {
    columns: [NAME, { name: 'Data', type: 'integer' }, AGE],
    row: (c, now) => [c.metadata.name, Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, humanAge(c.metadata.creationTimestamp, now)],
  },
};

/** Builds a Table for a list of objects of one resource. includeObject: None | Metadata (default) | Object. */
export function buildTable(resource: string, items: KubeObject[], resourceVersion: string, includeObject: string, continueToken?: string): object {
  const printer = PRINTERS[resource] ?? { columns: [NAME, { name: 'Created At', type: 'date', description: 'CreationTimestamp' }], row: (o: KubeObject) => [o.metadata.name, o.metadata.creationTimestamp] };
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) },
    columnDefinitions: printer.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: printer.row(o, now),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}

/** True when the Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}
