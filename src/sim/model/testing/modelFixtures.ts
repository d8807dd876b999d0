import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifestDocuments } from '../../../kube/manifestParser.js';
import type { KubeObject } from '../../store/kubeObject.js';
import type { ConfigMapLookup } from '../containerEnv.js';

// Test fixtures for the node model: the real manifests (the seed's, our Canal) and pods built
// from their DaemonSet templates as the DaemonSet controller would bind them.

/** The original tool's manifests (shared, read-only). */
export const SEED_DIR = join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'seed');
/** Our Canal manifest (the simulated cluster's starting CNI). */
export const CANAL_MANIFEST = join(import.meta.dirname, '..', '..', '..', '..', 'manifests', 'sim', 'canal.yaml');

/** Parses a manifest file (YAML 1.1, as kubectl does), applying text replacements first. */
export function loadManifest(path: string, replacements: Record<string, string> = {}): KubeObject[] {
  let text = readFileSync(path, 'utf8');
  for (const [from, to] of Object.entries(replacements)) text = text.replaceAll(from, to);
  return parseManifestDocuments(text, path).map((d) => d.value as unknown as KubeObject);
}

/** The seed's Cilium and Multus manifests plus our Canal manifest, for a CNI dir. */
export function allCniManifests(cniConfDir: string): KubeObject[] {
  return [
    ...loadManifest(CANAL_MANIFEST, { __CNI_CONF_DIR__: cniConfDir }),
    ...loadManifest(join(SEED_DIR, 'resources_cilium.yaml')),
    ...loadManifest(join(SEED_DIR, 'resources_multus.yaml')),
  ];
}

/** The object of a kind and name (throws when missing, so a fixture typo fails loudly). */
export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`fixture has no ${kind} ${name}`);
  return o;
}

/** A ConfigMap lookup over the ConfigMaps among objects. */
export function configMapLookupOf(objects: readonly KubeObject[]): ConfigMapLookup {
  return (namespace, name) => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name && (o.metadata.namespace ?? 'default') === namespace);
    return cm ? (cm.data as Record<string, string>) : undefined;
  };
}

/** A pod of a DaemonSet bound to a node, as the DaemonSet controller creates it (fake owner reference). */
export function podFromDaemonSet(ds: KubeObject, node: string, suffix = 'a'): KubeObject {
  const template = structuredClone(ds.spec.template) as { metadata?: KubeObject['metadata']; spec: Record<string, unknown> };
  const name = `${ds.metadata.name}-${node}-${suffix}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(template.metadata ?? {}),
      name,
      namespace: ds.metadata.namespace ?? 'default',
      uid: `uid-${name}`,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name ?? '', uid: `uid-ds-${ds.metadata.name}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...template.spec, nodeName: node },
  };
}

/** A plain workload pod bound to a node. */
export function workloadPod(namespace: string, name: string, node: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, labels: { app: 'probe' }, annotations },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'app', image: 'registry.example/probe:v1', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  };
}
