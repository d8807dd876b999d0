import * as z from 'zod';

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
  /** Waiting for DaemonSets/Deployments/StatefulSets to roll out. */
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
  /** Cilium's pod CIDR: must not overlap the Flannel network. */
  podCIDR: z.string().default('172.29.0.0/16'),
  /** GENEVE (UDP 6081) so Cilium's overlay never shares Flannel's VXLAN port 8472. */
  tunnelProtocol: z.enum(['geneve', 'vxlan']).default('geneve'),
  tunnelPort: z.number().int().min(1).max(65535).optional(),
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
});

/** A validated configuration with every default filled in. */
export type MigrationConfig = z.infer<typeof ConfigSchema>;
/** Resource lists by kind and namespace (preflight, watched, clean-up). */
export type ResourceListConfig = z.infer<typeof ResourceLists>;
