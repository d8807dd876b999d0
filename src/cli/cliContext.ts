import { loadConfig, type LoadedConfig } from '../config/loadConfig.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { openCluster } from '../kube/cluster.js';
import { loadManifestBundles } from '../migration/manifestBundles.js';
import { prepareMigration, type PreparedMigration } from '../migration/runMigration.js';
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

/** Opens the cluster named by --kubeconfig/--context/KUBECONFIG (exit 2 when none is configured). */
export function clusterFrom(g: GlobalOptions): ClusterClient {
  return openCluster({ kubeconfig: g.kubeconfig, context: g.context }).client;
}

/** Discovers the source, picks the strategy and renders its manifests. */
export function prepareFrom(client: ClusterClient, loaded: LoadedConfig, strategy: string | undefined, warn: (m: string) => void): Promise<PreparedMigration> {
  return prepareMigration(client, loaded.config, { strategy, render: (source) => loadManifestBundles(loaded.config, loaded.file, source, warn) });
}

/** -o text|json */
export function outputFormat(g: GlobalOptions): 'text' | 'json' {
  const o = g.output ?? 'text';
  if (o !== 'text' && o !== 'json') throw new UsageError(`-o/--output must be text or json, got "${o}"`);
  return o;
}
