import * as z from 'zod';

/**
 * Simulation settings: the one non-Kubernetes document a scenario may carry, and the live
 * settings a running simulator reads from ConfigMap kube-system/cni-migration-sim (key settings.yaml).
 */

export const SIM_API_VERSION = 'sim.cni-migration.dev/v1alpha1';
export const SIM_KIND = 'Simulation';
/** ConfigMap whose data["settings.yaml"] overrides the live settings (firewall, faults, timings). */
export const LIVE_SETTINGS_CONFIGMAP = { namespace: 'kube-system', name: 'cni-migration-sim', key: 'settings.yaml' };

const FirewallRule = z.strictObject({
  /** Transport protocol of an overlay: udp (VXLAN, GENEVE) or tcp. */
  protocol: z.enum(['udp', 'tcp']).default('udp'),
  port: z.number().int().min(1).max(65535),
  /** Nodes the rule applies to (traffic to or from them); all nodes when omitted. */
  nodes: z.array(z.string().min(1)).optional(),
});

const ApiFault = z.strictObject({
  /** Resource plural as in URLs, e.g. "pods", "daemonsets", "pods/eviction"; "*" for all. */
  resource: z.string().min(1),
  /** HTTP verb family: get, list, watch, create, update, patch, delete, or "*". */
  verb: z.string().min(1).default('*'),
  /** Share of matching requests affected, 0..1. */
  share: z.number().min(0).max(1).default(1),
  /**
   * Status code to answer with (500, 503, 429 with Retry-After; 409 a conflict, which only hits
   * writes with a precondition — a resourceVersion or UID — as on a real API server); omit with
   * delayMs for a slow answer.
   */
  code: z.number().int().min(400).max(599).optional(),
  /** Extra latency before answering, in milliseconds. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** Drop the connection without an answer (a load balancer or API server going away mid-request). */
  reset: z.boolean().optional(),
  /** Watches only: end the stream this long after it starts (a cut connection), events so far delivered. */
  cutAfterMs: z.number().int().min(1).max(600_000).optional(),
});

const Timings = z.strictObject({
  /** Delay between a pod being bound to a node and its sandbox being created. */
  podStartMs: z.number().int().min(0).default(40),
  /** Delay for a running pod to stop after deletion (capped by its grace period). */
  podStopMs: z.number().int().min(0).default(30),
  /** Extra delay before a CNI agent pod becomes ready after it started. */
  agentReadyMs: z.number().int().min(0).default(20),
  /**
   * How long calico-node takes to notice a new interface when re-detecting its node address
   * (AUTODETECT_POLL_INTERVAL, 60 s on a real node; compressed like the other timings).
   */
  calicoAutodetectMs: z.number().int().min(0).default(1000),
});

/** A verb on a resource the simulated user is not granted (RBAC): the request is answered 403. */
const ForbiddenRule = z.strictObject({
  /** Resource plural as in URLs ("nodes", "pods/eviction"), or "*". */
  resource: z.string().min(1),
  verb: z.string().min(1).default('*'),
});

export const SimulationSettingsSchema = z.strictObject({
  apiVersion: z.literal(SIM_API_VERSION).optional(),
  kind: z.literal(SIM_KIND).optional(),
  /**
   * Number of nodes (named <nodeNamePrefix>1..N), or explicit names. Unset: the scenario's Node
   * objects, else --nodes, else 3. Node objects in the scenario are simulated nodes too (their
   * labels, taints and spec kept); a count then includes them.
   */
  nodes: z.union([z.number().int().min(1).max(5000), z.array(z.string().min(1)).min(1)]).optional(),
  nodeNamePrefix: z.string().min(1).default('node-'),
  /** Nodes that also carry the control-plane role label. */
  controlPlaneNodes: z.number().int().min(0).default(1),
  /** The kubelet's CNI configuration directory on every node: the CRI default (the seed's clusters used /etc/kubernetes/cni/net.d). */
  cniConfDir: z.string().min(1).default('/etc/cni/net.d'),
  /** Per-node pod CIDR (node.spec.podCIDR) is carved from this range, /24 per node. */
  clusterCIDR: z.string().default('10.244.0.0/16'),
  /** Node InternalIPs are carved from this range. */
  nodeCIDR: z.string().default('192.168.0.0/16'),
  timings: Timings.prefault({}),
  firewall: z.strictObject({ blocked: z.array(FirewallRule).default([]) }).prefault({}),
  faults: z.array(ApiFault).default([]),
  /** What the kubeconfig's user may not do; SelfSubjectAccessReviews answer accordingly. */
  forbidden: z.array(ForbiddenRule).default([]),
  /** Include the built-in Canal cluster objects (canal DaemonSet, sample workload, PDB) before the scenario's own. */
  defaultCluster: z.boolean().default(true),
  /**
   * Files of Kubernetes objects (paths relative to the scenario file) created before the
   * scenario's own objects, in order: a stock CNI install, shared workloads.
   */
  include: z.array(z.string().min(1)).default([]),
});

export type SimulationSettings = z.infer<typeof SimulationSettingsSchema>;
export type FirewallRuleSettings = z.infer<typeof FirewallRule>;
export type ApiFaultSettings = z.infer<typeof ApiFault>;
export type ForbiddenRuleSettings = z.infer<typeof ForbiddenRule>;
export type TimingSettings = z.infer<typeof Timings>;

/** Settings that can change while the simulator runs (through the live ConfigMap). */
export const LiveSettingsSchema = z.strictObject({
  timings: Timings.optional(),
  firewall: z.strictObject({ blocked: z.array(FirewallRule).default([]) }).optional(),
  faults: z.array(ApiFault).optional(),
  forbidden: z.array(ForbiddenRule).optional(),
});
export type LiveSettings = z.infer<typeof LiveSettingsSchema>;

/** Default settings (no scenario). */
export function defaultSimulationSettings(): SimulationSettings {
  return SimulationSettingsSchema.parse({});
}

/** Holds the current settings and tells listeners when live settings change. */
export class SettingsHolder {
  private listeners = new Set<(s: SimulationSettings) => void>();
  constructor(private current: SimulationSettings) {}

  /** The settings in force now. */
  get(): SimulationSettings {
    return this.current;
  }

  /** Applies live overrides (firewall, faults, timings) and notifies listeners. */
  applyLive(base: SimulationSettings, live: LiveSettings): void {
    this.current = {
      ...base,
      timings: live.timings ?? base.timings,
      firewall: live.firewall ?? base.firewall,
      faults: live.faults ?? base.faults,
      forbidden: live.forbidden ?? base.forbidden,
    };
    for (const l of this.listeners) l(this.current);
  }

  /** Registers a listener for settings changes; returns an unsubscribe function. */
  onChange(listener: (s: SimulationSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
