import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { MigrationConfig } from '../config/configSchema.js';
import { probeManifests } from '../connectivity/probeManifests.js';
import type { KubeObject } from '../kube/kubeTypes.js';
import { mirrorImage } from '../manifests/imageReference.js';
import { loadDualOverlayCilium, loadMigrationManifests } from '../manifests/renderManifests.js';
import type { SourceDescription } from '../source/sourceTypes.js';
import type { ManifestBundles } from './actions/actionKind.js';

/**
 * The bundles a strategy applies. Cilium (and, for multus, Multus) come from the seed's paths.*
 * when those files exist (relative to the config file, then the working directory), else from the
 * bundled, versioned manifests; a path that does not exist is reported and the bundled manifest
 * used. The probes are always ours (the seed's knet-stress image is gone), shaped by the config.
 */
export function loadManifestBundles(config: MigrationConfig, configFile: string | undefined, source: SourceDescription, warn: (message: string) => void, strategy = 'multus'): ManifestBundles {
  const paths = { ...config.paths };
  const baseDirs = [configFile ? dirname(resolve(configFile)) : undefined, process.cwd()].filter((d): d is string => !!d);
  let baseDir: string | undefined;
  for (const bundle of ['cilium', 'multus'] as const) {
    const p = paths[bundle];
    if (p === undefined) continue;
    const found = isAbsolute(p) ? (existsSync(p) ? dirname(p) : undefined) : baseDirs.find((d) => existsSync(resolve(d, p)));
    if (found === undefined) {
      warn(`paths.${bundle}: ${p} not found (looked in ${baseDirs.join(' and ')}); using the bundled ${bundle} manifests`);
      delete paths[bundle];
    } else baseDir ??= found;
  }
  if (paths['knet-stress'] !== undefined) warn(`paths.knet-stress is not used: cni-migration deploys its own probe agents (manifests/probe) instead of knet-stress`);
  if (strategy === 'dual-overlay') return { cilium: loadDualOverlayCilium({ ...config, paths }, source, { configFile, baseDir }), probe: renderProbes(config) };
  const rendered = loadMigrationManifests({ ...config, paths }, source, { configFile, baseDir });
  return { cilium: rendered.cilium, multus: rendered.multus, probe: renderProbes(config) };
}

/** The probe manifest with the configured image, namespace, DaemonSet names, port and timings. */
export function renderProbes(config: MigrationConfig): KubeObject[] {
  const c = config.connectivity;
  const objects = probeManifests({ image: mirrorImage(config.images.probeAgent, config.images.registryMirror) });
  let dsIndex = 0;
  return objects.map((o) => {
    const obj = structuredClone(o);
    if (obj.kind === 'Namespace') obj.metadata.name = c.namespace;
    else if (obj.metadata.namespace) obj.metadata.namespace = c.namespace;
    for (const s of (obj as { subjects?: { namespace?: string }[] }).subjects ?? []) if (s.namespace) s.namespace = c.namespace;
    if (obj.kind === 'DaemonSet') {
      obj.metadata.name = c.daemonSets[Math.min(dsIndex, c.daemonSets.length - 1)] ?? obj.metadata.name;
      dsIndex++;
      const spec = (obj as { spec?: { template?: { spec?: { containers?: { args?: string[]; ports?: { containerPort?: number }[] }[] } } } }).spec;
      for (const container of spec?.template?.spec?.containers ?? []) {
        container.args = (container.args ?? []).map((a) =>
          a.startsWith('--interval=') ? `--interval=${c.intervalSeconds * 1000}ms` : a.startsWith('--timeout=') ? `--timeout=${c.timeoutSeconds * 1000}ms` : a.startsWith('--port=') ? `--port=${c.port}` : a,
        );
        for (const p of container.ports ?? []) if (p.containerPort !== undefined) p.containerPort = c.port;
      }
    }
    if (obj.kind === 'Service') {
      for (const p of (obj as { spec?: { ports?: { port?: number; targetPort?: unknown }[] } }).spec?.ports ?? []) {
        p.port = c.port;
        if (typeof p.targetPort === 'number') p.targetPort = c.port;
      }
    }
    return obj;
  });
}
