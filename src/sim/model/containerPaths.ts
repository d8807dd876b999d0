import { normalizePath, type Container, type PodSpec, type Volume } from './podSpec.js';

/** Where a path inside a container really lives, as far as the model can tell. */
export type ResolvedPath =
  /** On the node's filesystem (a hostPath volume). */
  | { kind: 'host'; hostPath: string }
  /** A file projected from a ConfigMap key. */
  | { kind: 'configMap'; configMap: string; key: string; optional: boolean }
  /** Inside a volume the model does not interpret, or the container's own filesystem. */
  | { kind: 'other' };

/**
 * Resolves an absolute path inside a container through its volume mounts, the way the kubelet
 * would bind them: the longest mountPath that is a prefix of the path wins.
 */
export function resolveContainerPath(spec: PodSpec, container: Container, path: string): ResolvedPath {
  const target = normalizePath(path);
  let best: { mountPath: string; subPath?: string; volume: Volume } | undefined;
  for (const m of container.volumeMounts ?? []) {
    const mountPath = normalizePath(m.mountPath);
    if (target !== mountPath && !target.startsWith(mountPath === '/' ? '/' : `${mountPath}/`)) continue;
    if (best && best.mountPath.length >= mountPath.length) continue;
    const volume = (spec.volumes ?? []).find((v) => v.name === m.name);
    if (volume) best = { mountPath, subPath: m.subPath, volume };
  }
  if (!best) return { kind: 'other' };
  const rest = target.slice(best.mountPath.length).replace(/^\//, '');
  const inVolume = [best.subPath ?? '', rest].filter((s) => s !== '').join('/');
  return resolveInVolume(best.volume, inVolume);
}

/** The host directory a container directory maps to, when it is on a hostPath volume. */
export function hostDirectoryOf(spec: PodSpec, container: Container, dir: string): string | undefined {
  const r = resolveContainerPath(spec, container, dir);
  return r.kind === 'host' ? r.hostPath : undefined;
}

function resolveInVolume(volume: Volume, inVolume: string): ResolvedPath {
  if (volume.hostPath) return { kind: 'host', hostPath: normalizePath(`${volume.hostPath.path}/${inVolume}`) };
  const projections = volume.configMap ? [volume.configMap] : (volume.projected?.sources ?? []).flatMap((s) => (s.configMap ? [s.configMap] : []));
  for (const cm of projections) {
    if (!cm.name) continue;
    if (cm.items) {
      const item = cm.items.find((i) => normalizePath(i.path) === normalizePath(inVolume));
      if (item) return { kind: 'configMap', configMap: cm.name, key: item.key, optional: cm.optional ?? false };
      continue;
    }
    // Without items every key is a file named after the key, directly in the volume.
    if (inVolume !== '' && !inVolume.includes('/')) return { kind: 'configMap', configMap: cm.name, key: inVolume, optional: cm.optional ?? false };
  }
  return { kind: 'other' };
}

/** Every ConfigMap a pod mounts as a volume (name and whether it is optional). */
export function mountedConfigMaps(spec: PodSpec): { volume: string; configMap: string; optional: boolean }[] {
  const out: { volume: string; configMap: string; optional: boolean }[] = [];
  for (const v of spec.volumes ?? []) {
    const projections = v.configMap ? [v.configMap] : (v.projected?.sources ?? []).flatMap((s) => (s.configMap ? [s.configMap] : []));
    for (const cm of projections) if (cm.name) out.push({ volume: v.name, configMap: cm.name, optional: cm.optional ?? false });
  }
  return out;
}

/**
 * The files a ConfigMap volume mounted at exactly `dir` shows (file name → content): every key,
 * or only the listed items under their paths. Undefined when no ConfigMap is mounted there.
 */
export function configMapDirectory(
  spec: PodSpec,
  container: Container,
  dir: string,
  lookup: (name: string) => Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  const target = normalizePath(dir);
  const mount = (container.volumeMounts ?? []).find((m) => normalizePath(m.mountPath) === target && !m.subPath);
  const volume = mount && (spec.volumes ?? []).find((v) => v.name === mount.name);
  if (!volume) return undefined;
  const projections = volume.configMap ? [volume.configMap] : (volume.projected?.sources ?? []).flatMap((s) => (s.configMap ? [s.configMap] : []));
  if (!projections.length) return undefined;
  const files: Record<string, string> = {};
  for (const cm of projections) {
    const data = cm.name ? lookup(cm.name) : undefined;
    if (!data) continue;
    if (cm.items) {
      for (const item of cm.items) if (data[item.key] !== undefined) files[normalizePath(item.path).slice(1)] = data[item.key]!;
    } else Object.assign(files, data);
  }
  return files;
}
