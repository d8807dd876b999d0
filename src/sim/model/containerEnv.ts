import type { KubeObject } from '../store/kubeObject.js';
import type { Container } from './podSpec.js';

/** Looks up a ConfigMap's data by namespace and name; undefined when it does not exist. */
export type ConfigMapLookup = (namespace: string, name: string) => Readonly<Record<string, string>> | undefined;

/** A reference the kubelet could not resolve (it would refuse to start the container). */
export interface MissingReference {
  configMap: string;
  key?: string;
}

/**
 * The environment a container would see: literal values, ConfigMap keys and the downward-API
 * fields agents use. Unresolvable optional references are left unset, as the kubelet does;
 * required ones are reported in `missing`. Secrets are never read (the model has no use for them).
 */
export function resolveContainerEnv(pod: KubeObject, container: Container, configMaps: ConfigMapLookup): { env: Map<string, string>; missing: MissingReference[] } {
  const env = new Map<string, string>();
  const missing: MissingReference[] = [];
  const namespace = pod.metadata.namespace ?? 'default';
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env.set(e.name, expandReferences(String(e.value), env));
      continue;
    }
    const cmRef = e.valueFrom?.configMapKeyRef;
    if (cmRef?.name && cmRef.key) {
      const value = configMaps(namespace, cmRef.name)?.[cmRef.key];
      if (value !== undefined) env.set(e.name, value);
      else if (!cmRef.optional) missing.push({ configMap: cmRef.name, key: cmRef.key });
      continue;
    }
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (field) {
      const value = fieldValue(pod, field);
      if (value !== undefined) env.set(e.name, value);
    }
  }
  return { env, missing };
}

// $(VAR) references to earlier variables are expanded by the kubelet; $$ escapes a dollar.
function expandReferences(value: string, env: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (name === undefined ? '$' : (env.get(name) ?? m)));
}

function fieldValue(pod: KubeObject, path: string): string | undefined {
  switch (path) {
    case 'spec.nodeName':
      return pod.spec?.nodeName as string | undefined;
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName as string | undefined;
    default:
      return undefined;
  }
}
