import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { formatCidr, parseCidr } from '../net/ipv4.js';
import { detectSource, type SourceDetection, type SourceInventory } from './detectSource.js';
import { readSourceInventory } from './readSourceInventory.js';
import type { SourceDescription, Sourced } from './sourceTypes.js';

/** No usable source CNI: none, several, or one whose facts cannot be read. Exit code 1. */
export class SourceDetectionError extends Error {
  constructor(
    message: string,
    readonly problem: Extract<SourceDetection, { ok: false }>['problem'],
    readonly candidates: string[],
  ) {
    super(message);
    this.name = 'SourceDetectionError';
  }
}

/** A cni.* setting that cannot be used (exit code 2 through ConfigError at the caller). */
export class SourceOverrideError extends Error {
  constructor(
    readonly keyPath: string,
    detail: string,
  ) {
    super(`${keyPath} in the configuration: ${detail}`);
    this.name = 'SourceOverrideError';
  }
}

/** The DaemonSet the cni settings name, if any. */
export function configuredDaemonSet(cni: MigrationConfig['cni']): { namespace: string; name: string } | undefined {
  if (cni.daemonSet) {
    const [namespace, name] = cni.daemonSet.split('/') as [string, string];
    return { namespace, name };
  }
  return cni.canalDaemonSet ? { namespace: 'kube-system', name: cni.canalDaemonSet } : undefined;
}

/**
 * Detects the source from an inventory and applies the cni.* overrides. Pure. Warnings name every
 * override that disagrees with what the cluster says.
 */
export function resolveSource(inv: SourceInventory, cni: MigrationConfig['cni']): SourceDescription {
  const only = configuredDaemonSet(cni);
  const detected = detectSource(inv, { only, kind: cni.kind });
  if (!detected.ok) throw new SourceDetectionError(detected.message, detected.problem, detected.candidates);
  const source = structuredClone(detected.source);
  const override = <T>(key: string, current: Sourced<T>, value: T | undefined, same: (a: T, b: T) => boolean = (a, b) => a === b): Sourced<T> => {
    if (value === undefined) return current;
    if (!same(value, current.value)) source.warnings.push(`cni.${key} ${JSON.stringify(value)} overrides what the cluster says: ${JSON.stringify(current.value)} (${current.from})`);
    return { value, from: `cni.${key} in the configuration` };
  };
  if (cni.confDir !== undefined && !/^\/[A-Za-z0-9._\-/]*$/.test(cni.confDir)) throw new SourceOverrideError('cni.confDir', `"${cni.confDir}" must be an absolute path of letters, digits and . _ - /`);
  const confDir = cni.confDir === undefined ? undefined : cni.confDir.length > 1 ? cni.confDir.replace(/\/+$/, '') : cni.confDir;
  source.confDir = override('confDir', source.confDir, confDir);
  if (cni.confFile !== undefined && !/^[A-Za-z0-9._-]+\.(conf|conflist|json)$/.test(cni.confFile)) throw new SourceOverrideError('cni.confFile', `"${cni.confFile}" must be a file name ending .conf, .conflist or .json`);
  source.confFile = override('confFile', source.confFile, cni.confFile);
  source.networkName = override('networkName', source.networkName, cni.networkName);
  if (cni.podCIDR !== undefined) {
    const c = parseCidr(cni.podCIDR);
    if (!c) throw new SourceOverrideError('cni.podCIDR', `"${cni.podCIDR}" is not an IPv4 CIDR such as 10.244.0.0/16`);
    source.podCIDRs = override('podCIDR', source.podCIDRs, [formatCidr(c)], (a, b) => a.join() === b.join());
  }
  return source;
}

/** Reads the cluster and returns its source CNI, overrides applied. */
export async function discoverSource(client: ClusterClient, cni: MigrationConfig['cni']): Promise<SourceDescription> {
  return resolveSource(await readSourceInventory(client, configuredDaemonSet(cni)), cni);
}
