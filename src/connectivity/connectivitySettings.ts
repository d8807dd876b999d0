/**
 * Settings of connectivity collection and gating, with defaults. One small object so the CLI,
 * the monitor and (next) the engine's config agree on names and defaults.
 */
import * as z from 'zod';

/** The namespace the probe manifest deploys into. */
export const PROBE_NAMESPACE = 'cni-migration-probe';
/** Label every probe pod carries (the Service selects it). */
export const PROBE_POD_SELECTOR = 'app.kubernetes.io/name=cni-migration-probe';
/** The probe Service (its Endpoints list the ready probe pods). */
export const PROBE_SERVICE = 'cni-migration-probe';
/** The agents' port (named "probe" in the manifest). */
export const PROBE_PORT = 8080;

const SettingsSchema = z.strictObject({
  /** Namespace of the probe pods. */
  namespace: z.string().min(1).default(PROBE_NAMESPACE),
  /** Which pods in it are probes. */
  labelSelector: z.string().default(PROBE_POD_SELECTOR),
  /** The agents' port, used when a pod declares no port named "probe". */
  port: z.number().int().min(1).max(65535).default(PROBE_PORT),
  /** Pause between two collections of the monitor. */
  intervalMs: z.number().int().min(1).default(5000),
  /** Timeout of one pod's GET /status through the API server. */
  timeoutMs: z.number().int().min(1).default(5000),
  /** How long a pair may fail before the failure counts (0: any failed probe counts, as the seed). */
  failureThresholdMs: z.number().int().min(0).default(0),
  /** How far back a long-lived flow cut by the network still fails `check`. */
  flowBreakWindowMs: z.number().int().min(0).default(120_000),
  /** Pods whose /status is fetched at once. */
  concurrency: z.number().int().min(1).default(16),
  /**
   * aggregated: a few collector agents read their peers over the pod network and answer for all
   * (one proxied request each); full: every probe pod's /status through the API server's proxy.
   */
  collection: z.enum(['aggregated', 'full']).default('full'),
  /** Collectors asked per aggregated collection (on different nodes and pod networks). */
  collectors: z.number().int().min(1).default(2),
});

/** Connectivity settings in force. */
export type ConnectivitySettings = z.infer<typeof SettingsSchema>;

/** Defaults, overridden by whatever is given; throws a ZodError naming a bad field. */
export function connectivitySettings(overrides: Partial<ConnectivitySettings> = {}): ConnectivitySettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return SettingsSchema.parse(defined);
}

/** The defaults. */
export const DEFAULT_CONNECTIVITY_SETTINGS: ConnectivitySettings = connectivitySettings();
