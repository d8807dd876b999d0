import type { KubeObject } from '../store/kubeObject.js';

// The slice of the core/v1 Pod shape the node model reads. Everything is optional because the
// model reads whatever was applied, and a manifest may leave out anything.

/** One env var of a container (value or a reference). */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name?: string; key?: string; optional?: boolean };
    fieldRef?: { fieldPath?: string };
    secretKeyRef?: { name?: string; key?: string; optional?: boolean };
  };
}

/** A volume mount of a container. */
export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

/** A lifecycle hook handler (only exec is interpreted). */
export interface LifecycleHandler {
  exec?: { command?: string[] };
}

/** A container or init container. */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  ports?: { name?: string; containerPort?: number; protocol?: string }[];
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
}

/** A ConfigMap projection (volume or projected source). */
export interface ConfigMapProjection {
  name?: string;
  items?: { key: string; path: string }[];
  optional?: boolean;
}

/** A pod volume (the kinds the model interprets). */
export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: ConfigMapProjection;
  projected?: { sources?: { configMap?: ConfigMapProjection }[] };
}

/** The pod spec fields the model reads. */
export interface PodSpec {
  nodeName?: string;
  hostNetwork?: boolean;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
}

/** The pod's spec, typed for the model (an empty spec when absent). */
export function podSpecOf(pod: KubeObject): PodSpec {
  return (pod.spec ?? {}) as PodSpec;
}

/** The full argv a container runs: command then args. */
export function argvOf(container: Container): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])];
}

/** "namespace/name" of an object, as the ground truth and messages name pods. */
export function podLabel(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/**
 * Value of a command-line flag in either "--flag=value" or "--flag value" form; the last one wins
 * as with Go's flag parsing.
 */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith(`${flag}=`)) found = arg.slice(flag.length + 1);
    else if (arg === flag && i + 1 < argv.length) found = argv[i + 1];
  }
  return found;
}

/** Last path segment of a POSIX path ("" for "/"). */
export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Normalises a POSIX path: collapses "//" and "." segments, resolves "..", drops a trailing "/". */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}
