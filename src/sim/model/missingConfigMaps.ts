import type { KubeObject } from '../store/kubeObject.js';
import { resolveContainerEnv, type ConfigMapLookup } from './containerEnv.js';
import { podSpecOf } from './podSpec.js';

/** Why the kubelet cannot start a pod's containers yet, for lack of a ConfigMap. */
export interface ConfigMapProblem {
  /** Container waiting reason: volume setup keeps the pod in ContainerCreating; env refs fail container config. */
  reason: 'ContainerCreating' | 'CreateContainerConfigError';
  /** Event reason. */
  eventReason: 'FailedMount' | 'Failed';
  message: string;
}

/**
 * The first missing, non-optional ConfigMap a pod needs (a volume, a volume item's key or an env
 * key), worded as the kubelet words it; undefined when everything resolves.
 */
export function findMissingConfigMap(pod: KubeObject, configMaps: ConfigMapLookup): ConfigMapProblem | undefined {
  const spec = podSpecOf(pod);
  const namespace = pod.metadata.namespace ?? 'default';
  for (const v of spec.volumes ?? []) {
    const projections = v.configMap ? [v.configMap] : (v.projected?.sources ?? []).flatMap((s) => (s.configMap ? [s.configMap] : []));
    for (const cm of projections) {
      if (!cm.name || cm.optional) continue;
      const data = configMaps(namespace, cm.name);
      if (!data) return { reason: 'ContainerCreating', eventReason: 'FailedMount', message: `MountVolume.SetUp failed for volume "${v.name}" : configmap "${cm.name}" not found` };
      const missingKey = (cm.items ?? []).find((i) => data[i.key] === undefined);
      if (missingKey) {
        return { reason: 'ContainerCreating', eventReason: 'FailedMount', message: `MountVolume.SetUp failed for volume "${v.name}" : configmap references non-existent config key: ${missingKey.key}` };
      }
    }
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const missing = resolveContainerEnv(pod, c, configMaps).missing[0];
    if (!missing) continue;
    const message = configMaps(namespace, missing.configMap)
      ? `couldn't find key ${missing.key ?? ''} in ConfigMap ${namespace}/${missing.configMap}`
      : `configmap "${missing.configMap}" not found`;
    return { reason: 'CreateContainerConfigError', eventReason: 'Failed', message: `Error: ${message}` };
  }
  return undefined;
}
