import type { KubeObject } from '../kube/kubeTypes.js';

// Reading a workload's pod template the way the node would run it: which container writes where
// on the host (volume mounts → hostPath), what an env var resolves to (literal or ConfigMap key),
// which ConfigMap file a path inside a container is. Pure; the ConfigMaps come in as data.
// Deliberately separate from the simulator's reading of the same manifests (src/sim/model), so a
// misreading in one shows up as a disagreement with the other instead of being shared.

/** A container of a pod template, as far as source detection reads it. */
export interface TemplateContainer {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string; optional?: boolean } } & Record<string, unknown> }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  /** Set by containersOf: init container or main container. */
  init?: boolean;
}

/** A pod volume, as far as source detection reads it. */
export interface TemplateVolume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean };
  emptyDir?: Record<string, unknown>;
}

/** The pod spec of a template. */
export interface TemplateSpec {
  containers?: TemplateContainer[];
  initContainers?: TemplateContainer[];
  volumes?: TemplateVolume[];
  nodeSelector?: Record<string, string>;
  hostNetwork?: boolean;
}

/** ConfigMap data by name, in the workload's namespace. */
export type ConfigMapData = (name: string) => Readonly<Record<string, string>> | undefined;

/** The pod spec of a DaemonSet/Deployment/StatefulSet (empty when absent). */
export function templateSpecOf(workload: KubeObject): TemplateSpec {
  const spec = (workload as { spec?: { template?: { spec?: TemplateSpec } } }).spec;
  return spec?.template?.spec ?? {};
}

/** Init containers, then main containers, each marked. */
export function containersOf(spec: TemplateSpec): TemplateContainer[] {
  return [...(spec.initContainers ?? []).map((c) => ({ ...c, init: true })), ...(spec.containers ?? []).map((c) => ({ ...c, init: false }))];
}

/** command + args, as one argv. */
export function argvOf(c: TemplateContainer): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])];
}

/** The value of `--flag=v` or `--flag v` in an argv. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

/** "docker.io/calico/node:v3.31.7" → "docker.io/calico/node" (tag and digest dropped, registry port kept). */
export function imageRepository(image: string | undefined): string {
  const noDigest = (image ?? '').split('@')[0] ?? '';
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** An env var of a container, resolved: literal value, or the ConfigMap key it names. */
export function envValue(c: TemplateContainer, name: string, configMaps: ConfigMapData): { value: string; from: string } | undefined {
  // The last definition of a name wins, as in the kubelet.
  const e = [...(c.env ?? [])].reverse().find((x) => x.name === name);
  if (!e) return undefined;
  if (e.value !== undefined) return { value: e.value, from: `env ${name} of container ${c.name}` };
  const ref = e.valueFrom?.configMapKeyRef;
  if (ref) {
    const v = configMaps(ref.name)?.[ref.key];
    return v === undefined ? undefined : { value: v, from: `ConfigMap ${ref.name} key ${ref.key} (env ${name} of container ${c.name})` };
  }
  return undefined;
}

/** Whether a container declares an env var at all (whatever its source). */
export function declaresEnv(c: TemplateContainer, name: string): boolean {
  return (c.env ?? []).some((e) => e.name === name);
}

function normalize(path: string): string {
  const p = path.replace(/\/+/g, '/');
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

/** The mount of a container covering a path (the longest mountPath prefix), with the rest of the path. */
function mountFor(c: TemplateContainer, path: string): { mount: NonNullable<TemplateContainer['volumeMounts']>[number]; rest: string } | undefined {
  const p = normalize(path);
  let best: { mount: NonNullable<TemplateContainer['volumeMounts']>[number]; rest: string } | undefined;
  for (const m of c.volumeMounts ?? []) {
    const mp = normalize(m.mountPath);
    if (p !== mp && !p.startsWith(mp === '/' ? '/' : `${mp}/`)) continue;
    if (!best || mp.length > normalize(best.mount.mountPath).length) best = { mount: m, rest: p.slice(mp.length).replace(/^\//, '') };
  }
  return best;
}

/** Where a path inside a container lands on the node: a hostPath (with the volume's name), or undefined. */
export function hostPathOf(spec: TemplateSpec, c: TemplateContainer, path: string): { hostPath: string; volume: string } | undefined {
  const hit = mountFor(c, path);
  if (!hit) return undefined;
  const v = (spec.volumes ?? []).find((x) => x.name === hit.mount.name);
  if (!v?.hostPath) return undefined;
  const base = normalize(v.hostPath.path);
  const sub = [hit.mount.subPath, hit.rest].filter((s) => s).join('/');
  return { hostPath: normalize(sub ? `${base}/${sub}` : base), volume: v.name };
}

/** The ConfigMap file a path inside a container is (a configMap volume, items honoured). */
export function configMapFileOf(spec: TemplateSpec, c: TemplateContainer, path: string): { configMap: string; key: string } | undefined {
  const hit = mountFor(c, path);
  if (!hit) return undefined;
  const v = (spec.volumes ?? []).find((x) => x.name === hit.mount.name);
  if (!v?.configMap) return undefined;
  const file = hit.mount.subPath ? [hit.mount.subPath, hit.rest].filter((s) => s).join('/') : hit.rest;
  if (!file) return undefined;
  const item = v.configMap.items?.find((i) => normalize(i.path) === normalize(file));
  if (v.configMap.items && !item) return undefined;
  return { configMap: v.configMap.name, key: item ? item.key : file };
}

/** ConfigMaps a template references (volumes, env, envFrom), for the reader to fetch. */
export function referencedConfigMaps(spec: TemplateSpec): string[] {
  const out = new Set<string>();
  for (const v of spec.volumes ?? []) if (v.configMap?.name) out.add(v.configMap.name);
  for (const c of containersOf(spec)) {
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) out.add(e.valueFrom.configMapKeyRef.name);
    for (const f of ((c as { envFrom?: { configMapRef?: { name?: string } }[] }).envFrom ?? [])) if (f.configMapRef?.name) out.add(f.configMapRef.name);
  }
  return [...out].sort();
}
