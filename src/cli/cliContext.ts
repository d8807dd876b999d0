import type { Command } from '@commander-js/extra-typings';
import { loadConfig, type LoadedConfig } from '../config/loadConfig.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { openCluster } from '../kube/cluster.js';
import { DEFAULT_RETRY_POLICY, type RetryNotice, type RetryPolicy } from '../kube/requestRetry.js';
import type { Logger } from 'pino';
import type { ExchangeNotice } from '../kube/httpTransport.js';
import { createDebugLogger } from '../report/debugLog.js';
import type { MigrationConfig } from '../config/configSchema.js';
import { retryLine } from '../report/progressReporter.js';
import { loadManifestBundles } from '../migration/manifestBundles.js';
import { prepareMigration, type PreparedMigration } from '../migration/runMigration.js';
import { parseDuration } from '../connectivity/duration.js';
import { resolveMaxUnavailable } from '../migration/nodeBatches.js';
import { UsageError } from './errors.js';

/** Options every migration command shares (kubectl's conventions plus the seed's -c/-v). */
export interface GlobalOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  config?: string | undefined;
  logLevel?: string | undefined;
  output?: string | undefined;
}

/** Loads the configuration (exit 2 on errors naming file and key). */
export function configFrom(g: GlobalOptions): LoadedConfig {
  return loadConfig(g.config, { explicit: g.config !== undefined });
}

/** The dual-overlay strategy's flags (they override the config's dualOverlay section). */
export interface DualOverlayFlags {
  fixCalicoAutodetection?: boolean | undefined;
  rebootCommand?: string | undefined;
  rollback?: string | undefined;
  /** Commander's --no-policy-bridge gives false. */
  policyBridge?: boolean | undefined;
}

/** Applies the dual-overlay flags to a loaded configuration. */
export function withDualOverlayFlags(loaded: LoadedConfig, f: DualOverlayFlags): LoadedConfig {
  const rollback = f.rollback;
  if (rollback !== undefined && rollback !== 'auto' && rollback !== 'off') throw new UsageError(`--rollback must be auto or off, got "${rollback}"`);
  const d = loaded.config.dualOverlay;
  const dualOverlay: typeof d = {
    ...d,
    ...(f.rebootCommand !== undefined ? { rebootCommand: f.rebootCommand } : {}),
    ...(rollback !== undefined ? { rollback } : {}),
    ...(f.policyBridge === false ? { policyBridge: false } : {}),
  };
  const cni = f.fixCalicoAutodetection ? { ...loaded.config.cni, fixCalicoAutodetection: true } : loaded.config.cni;
  return { ...loaded, config: { ...loaded.config, dualOverlay, cni } };
}

/** Adds the dual-overlay flags to a command. */
export function addDualOverlayFlags<C extends Command<unknown[], Record<string, unknown>>>(cmd: C): C {
  cmd
    .option('--fix-calico-autodetection', "from Calico: switch calico-node's node address autodetection to the node's InternalIP before Cilium runs (else a first-found setting is refused: cilium#31273)")
    .option('--reboot-command <command>', 'dual-overlay: run this command (with NODE=<name>) after switching each node, where a real reboot is wanted')
    .option('--rollback <auto|off>', 'dual-overlay: put a node back on the source CNI at once when its gate fails (default auto)')
    .option('--no-policy-bridge', "dual-overlay from Calico/Canal: no NetworkPolicy bridge; Cilium stays at enable-policy never until finalize (its guide's path), so migrated pods are unprotected meanwhile");
  return cmd;
}

/** The batching flags (they override the config's batches section). */
export interface BatchFlags {
  maxUnavailable?: string | undefined;
  canary?: boolean | undefined;
  canaryWait?: string | undefined;
}

/** Applies the batching flags to a loaded configuration; bad values are usage errors naming the flag. */
export function withBatchFlags(loaded: LoadedConfig, f: BatchFlags): LoadedConfig {
  const b = loaded.config.batches;
  let maxUnavailable = b.maxUnavailable;
  if (f.maxUnavailable !== undefined) {
    try {
      resolveMaxUnavailable(f.maxUnavailable, 100);
    } catch (e) {
      throw new UsageError(`--max-unavailable: ${(e as Error).message}`);
    }
    maxUnavailable = /^\d+$/.test(f.maxUnavailable.trim()) ? Number(f.maxUnavailable.trim()) : f.maxUnavailable.trim();
  }
  let canaryWaitSeconds = b.canaryWaitSeconds;
  if (f.canaryWait !== undefined) {
    const ms = parseDuration(f.canaryWait);
    if (ms === undefined || ms <= 0) throw new UsageError(`--canary-wait must be a duration such as 30s or 5m, got "${f.canaryWait}"`);
    canaryWaitSeconds = ms / 1000;
  }
  const batches: typeof b = { ...b, maxUnavailable, canary: b.canary || f.canary === true || f.canaryWait !== undefined, ...(canaryWaitSeconds !== undefined ? { canaryWaitSeconds } : {}) };
  return { ...loaded, config: { ...loaded.config, batches } };
}

/** Adds the batching flags to a command. */
export function addBatchFlags<C extends Command<unknown[], Record<string, unknown>>>(cmd: C): C {
  cmd
    .option('--max-unavailable <N|P%>', "per-node steps: nodes worked on at once, a count or a percentage of the cluster's nodes (default 1); batches never span zones or share a PodDisruptionBudget's budget, control-plane nodes go last")
    .option('--canary', 'per-node steps: the first node goes alone, then the run asks before the others')
    .option('--canary-wait <duration>', 'with the canary: watch connectivity this long (e.g. 5m) after it, then go on without asking');
  return cmd;
}

/**
 * Opens the cluster named by --kubeconfig/--context/KUBECONFIG (exit 2 when none is configured).
 * Transient API failures are retried; each retry goes to `onRetry`, else a line on stderr.
 */
export function clusterFrom(g: GlobalOptions, api?: MigrationConfig['api'], onRetry: (n: RetryNotice) => void = (n) => process.stderr.write(`${retryLine(n)}\n`)): ClusterClient {
  const dbg = debugLoggerFor(g);
  return openCluster({ kubeconfig: g.kubeconfig, context: g.context }, { onRetry, ...clientTuning(api), ...(dbg ? { onExchange: (e: ExchangeNotice) => dbg.debug(e, 'api request') } : {}) }).client;
}

let debugLogger: Logger | undefined;
/** The structured debug logger when -v debug is on (one per process). */
export function debugLoggerFor(g: { logLevel?: string | undefined }): Logger | undefined {
  if ((g.logLevel ?? '').toLowerCase() !== 'debug') return undefined;
  return (debugLogger ??= createDebugLogger());
}

/** The client's retry and timeout settings from the config's api section. */
export function clientTuning(api: MigrationConfig['api'] | undefined): { retry?: RetryPolicy; requestTimeoutMs?: number } {
  if (!api) return {};
  return { retry: { ...DEFAULT_RETRY_POLICY, attempts: api.retryAttempts }, requestTimeoutMs: api.requestTimeoutSeconds * 1000 };
}


/** Discovers the source, picks the strategy and renders its manifests. */
export function prepareFrom(client: ClusterClient, loaded: LoadedConfig, strategy: string | undefined, warn: (m: string) => void): Promise<PreparedMigration> {
  return prepareMigration(client, loaded.config, { strategy, render: (source, chosen) => loadManifestBundles(loaded.config, loaded.file, source, warn, chosen.name) });
}

/** -o text|json */
export function outputFormat(g: GlobalOptions): 'text' | 'json' {
  const o = g.output ?? 'text';
  if (o !== 'text' && o !== 'json') throw new UsageError(`-o/--output must be text or json, got "${o}"`);
  return o;
}
