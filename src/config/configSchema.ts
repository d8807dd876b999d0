import * as z from 'zod';
import { resolveMaxUnavailable } from '../migration/nodeBatches.js';

// The seed's config.yaml, accepted as is and validated strictly (an unknown key is an error that
// names it), plus optional settings of our own, each with a default.

const NamespaceNames = z.record(z.string().min(1), z.array(z.string().min(1)).nullish());

const ResourceLists = z.strictObject({
  daemonsets: NamespaceNames.nullish(),
  deployments: NamespaceNames.nullish(),
  statefulsets: NamespaceNames.nullish(),
});

const Labels = z.strictObject({
  'canal-cilium': z.string().min(1).default('node-role.kubernetes.io/canal-cilium'),
  'cni-priority-canal': z.string().min(1).default('node-role.kubernetes.io/priority-canal'),
  'cni-priority-cilium': z.string().min(1).default('node-role.kubernetes.io/priority-cilium'),
  rolled: z.string().min(1).default('node-role.kubernetes.io/rolled'),
  cilium: z.string().min(1).default('node-role.kubernetes.io/cilium'),
  migrated: z.string().min(1).default('node-role.kubernetes.io/migrated'),
  /** Ours, not the seed's: set once a node has been rolled after its priority swap, so an interrupted step 3 resumes. */
  'priority-rolled': z.string().min(1).default('node-role.kubernetes.io/priority-rolled'),
  value: z.string().default('true'),
});

const Paths = z.strictObject({
  cilium: z.string().min(1).optional(),
  multus: z.string().min(1).optional(),
  'knet-stress': z.string().min(1).optional(),
});

const Timeouts = z.strictObject({
  /** Whole drain of one node (evictions retried while a PDB blocks). */
  drainSeconds: z.number().int().positive().default(300),
  /** Waiting for DaemonSets/Deployments/StatefulSets to roll out (a step's rollouts fail when they make no progress for this long). */
  rolloutSeconds: z.number().int().positive().default(300),
  /** Waiting for deleted pods to be gone. */
  podDeletionSeconds: z.number().int().positive().default(120),
  /** Waiting for connectivity to be all green at a checkpoint. */
  connectivitySeconds: z.number().int().positive().default(120),
});

const Drain = z.strictObject({
  /** -1 uses each pod's own terminationGracePeriodSeconds, as kubectl drain does. */
  gracePeriodSeconds: z.number().int().min(-1).default(-1),
  deleteEmptyDirData: z.boolean().default(true),
  /** Also delete pods that no controller manages (kubectl drain --force). */
  force: z.boolean().default(false),
  /** Delay before retrying an eviction refused with 429 (a PodDisruptionBudget). */
  evictionRetrySeconds: z.number().positive().default(5),
});

const Connectivity = z.strictObject({
  /** Namespace of the probe DaemonSets (our knet-stress replacement, manifests/probe). */
  namespace: z.string().min(1).default('cni-migration-probe'),
  /** The two probe DaemonSets. */
  daemonSets: z.array(z.string().min(1)).min(1).default(['probe-a', 'probe-b']),
  /** Label selecting the probe pods. */
  podSelector: z.string().default('app.kubernetes.io/name=cni-migration-probe'),
  port: z.number().int().min(1).max(65535).default(8080),
  /** How often each probe calls every peer. */
  intervalSeconds: z.number().positive().default(2),
  /** Timeout of one probe request. */
  timeoutSeconds: z.number().positive().default(1),
  /** How long a pair may keep failing before it counts as lost connectivity. */
  failureThresholdSeconds: z.number().min(0).default(5),
  /** How often the CLI collects every probe's status while a step runs. */
  collectIntervalSeconds: z.number().positive().default(2),
  /**
   * After a step's last action, how long its effects may take to show (an agent's datapath torn
   * down, routes withdrawn). The step counts as done only once the probes have been watched this
   * long plus failureThresholdSeconds with no pair lost.
   */
  settleSeconds: z.number().min(0).default(5),
  /**
   * aggregated: each collection asks a few collector agents, which read their peers over the pod
   * network (one proxied request each); full: every probe pod's status through the API server.
   */
  collection: z.enum(['aggregated', 'full']).default('aggregated'),
  /** Collector agents asked per aggregated collection (on different nodes and pod networks). */
  collectors: z.number().int().min(1).default(2),
  /**
   * Before any write of a real run, a short-lived hostNetwork DaemonSet checks that Cilium's tunnel
   * port (UDP) gets through between every pair of nodes; httpPort is where its agents answer on the node.
   */
  tunnelCheck: z.strictObject({ enabled: z.boolean().default(true), httpPort: z.number().int().min(1).max(65535).default(9879) }).prefault({}),
});

const Images = z.strictObject({
  cilium: z.string().min(1).default('quay.io/cilium/cilium:v1.18.4'),
  ciliumOperator: z.string().min(1).default('quay.io/cilium/operator-generic:v1.18.4'),
  multus: z.string().min(1).default('ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2'),
  cniPlugins: z.string().min(1).default('ghcr.io/siderolabs/install-cni:v1.10.0'),
  probeAgent: z.string().min(1).default('ghcr.io/cni-migration/probe-agent:0.1.0'),
  /** Prefix that replaces each image's registry host (air-gapped mirrors), e.g. registry.local:5000. */
  registryMirror: z.string().min(1).optional(),
});

const Cilium = z.strictObject({
  /** Cilium's pod CIDR: must not overlap the source's pod CIDR, the Service CIDR or node addresses. */
  podCIDR: z.string().default('172.29.0.0/16'),
  /**
   * Cilium's overlay. Unset: the strategy's default (multus: GENEVE, UDP 6081, as the original
   * tool; dual-overlay: VXLAN on UDP 8473, as Cilium's migration guide), never the source's port.
   */
  tunnelProtocol: z.enum(['geneve', 'vxlan']).optional(),
  tunnelPort: z.number().int().min(1).max(65535).optional(),
  /** Namespace Cilium runs in (where its CiliumNodeConfig must live); an installed Cilium's is detected. */
  namespace: z.string().min(1).default('kube-system'),
  /** The Service CIDR, when the cluster does not say (no ServiceCIDR objects); checked against Cilium's pool. */
  serviceCIDR: z.string().min(1).optional(),
});

// Cilium's own per-node procedure (--strategy dual-overlay).
const DualOverlay = z.strictObject({
  /** auto: a node whose gate fails after its switch is rolled back to the source CNI at once; off: left as it is. */
  rollback: z.enum(['auto', 'off']).default('auto'),
  /** A command run with NODE=<name> after a node is switched, where a real reboot is wanted (e.g. an ssh or cloud CLI call). */
  rebootCommand: z.string().min(1).optional(),
  /** At clean-up, run a privileged pod per node that removes the source's leftover CNI files (*.cilium_bak). */
  sweepLeftovers: z.boolean().default(true),
  /**
   * From Calico or Canal: bridge NetworkPolicies across the two CNIs while nodes are mixed (felix
   * GlobalNetworkPolicies and a Cilium clusterwide policy, Cilium enforcing on switched nodes);
   * false keeps Cilium's documented enable-policy never, leaving migrated pods unprotected until finalize.
   */
  policyBridge: z.boolean().default(true),
});

// How the tool talks to the API server (src/kube/requestRetry.ts).
const Api = z.strictObject({
  /** Attempts per request when the API server answers 429/5xx or a connection breaks (1: no retries). */
  retryAttempts: z.number().int().min(1).max(20).default(8),
  /** How long one request may go unanswered. */
  requestTimeoutSeconds: z.number().positive().max(600).default(30),
});

// How many nodes of a per-node step go at once, and in what groups (src/migration/nodeBatches.ts).
const Batches = z.strictObject({
  /** Nodes out of service at once: a count, or a percentage of the cluster's nodes (rounded down, at least 1). */
  maxUnavailable: z
    .union([z.number().int().min(1), z.string().regex(/^(\d+|\d+(\.\d+)?%)$/, 'must be a whole number of nodes or a percentage such as 10%')])
    .superRefine((v, ctx) => {
      try {
        resolveMaxUnavailable(v, 100);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    })
    .default(1),
  /** The node label naming its zone: a batch never spans two zones, and zones go one after another. */
  zoneLabel: z.string().min(1).default('topology.kubernetes.io/zone'),
  /** The first node of each per-node step goes alone, and the run pauses after it (confirmation, or canaryWaitSeconds). */
  canary: z.boolean().default(false),
  /** With canary: watch connectivity this long after the canary node, then go on without asking. */
  canaryWaitSeconds: z.number().positive().optional(),
});

// Facts about the source CNI. Each is discovered from the cluster (src/source); a value set here
// overrides the discovered one, with a warning where the two disagree.
const Cni = z.strictObject({
  /** canal, calico or flannel; needed only when cni.daemonSet runs images the detection does not know. */
  kind: z.enum(['canal', 'calico', 'flannel']).optional(),
  /** The source's agent DaemonSet as namespace/name, when detection finds more than one or none. */
  daemonSet: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, 'must be namespace/name, e.g. kube-system/canal')
    .optional(),
  /** Older name of cni.daemonSet for a DaemonSet in kube-system. */
  canalDaemonSet: z.string().min(1).optional(),
  /** The kubelet's CNI configuration directory on the nodes. */
  confDir: z.string().min(1).optional(),
  /** The source's CNI configuration file in confDir, e.g. 10-canal.conflist. */
  confFile: z.string().min(1).optional(),
  /** The CNI network name in that file, e.g. k8s-pod-network. */
  networkName: z.string().min(1).optional(),
  /** The source's pod CIDR. */
  podCIDR: z.string().min(1).optional(),
  /**
   * Calico sources: let the tool switch calico-node's node address autodetection to the node's
   * InternalIP before Cilium runs anywhere (a first-found setting would take cilium_host's address:
   * cilium#31273). Without it such a setting is refused.
   */
  fixCalicoAutodetection: z.boolean().default(false),
});

/** The configuration file's schema. */
export const ConfigSchema = z.strictObject({
  labels: Labels.prefault({}),
  paths: Paths.prefault({}),
  // The seed's lists name its knet-stress DaemonSets; those entries stand for our probe DaemonSets.
  preflightResources: ResourceLists.prefault({ daemonsets: { 'knet-stress': ['knet-stress', 'knet-stress-2'] } }),
  watchedResources: ResourceLists.prefault({
    daemonsets: {
      'kube-system': ['canal', 'cilium', 'cilium-migrated', 'kube-multus-canal', 'kube-multus-cilium'],
      'knet-stress': ['knet-stress', 'knet-stress-2'],
    },
  }),
  cleanUpResources: ResourceLists.prefault({
    daemonsets: { 'kube-system': ['canal', 'cilium', 'kube-multus-canal', 'kube-multus-cilium'] },
  }),
  timeouts: Timeouts.prefault({}),
  drain: Drain.prefault({}),
  connectivity: Connectivity.prefault({}),
  images: Images.prefault({}),
  cilium: Cilium.prefault({}),
  cni: Cni.prefault({}),
  dualOverlay: DualOverlay.prefault({}),
  batches: Batches.prefault({}),
  api: Api.prefault({}),
});

/** A validated configuration with every default filled in. */
export type MigrationConfig = z.infer<typeof ConfigSchema>;
/** Resource lists by kind and namespace (preflight, watched, clean-up). */
export type ResourceListConfig = z.infer<typeof ResourceLists>;
