import type { ClusterClient, KindRef } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import type { DaemonSet, KubeObject, ObjectRef } from '../kube/kubeTypes.js';
import { argvOf, containersOf, imageRepository, templateSpecOf } from '../source/podTemplateReader.js';
import { ciliumSettingsOf, type CiliumSettings } from './ciliumSettings.js';

// A Cilium already on the cluster (installed by Helm, by the user's manifest or by an earlier run),
// read from the API: its agent DaemonSet, namespace, cilium-config and who manages it.

/** The CiliumNodeConfig kinds, newest first (v2 since 1.16, v2alpha1 until 1.19). */
export const NODE_CONFIG_KINDS: readonly KindRef[] = [
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNodeConfig' },
  { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumNodeConfig' },
];

/** The node label Cilium's migration guide selects migrated nodes by. */
export const MIGRATION_NODE_LABEL = 'io.cilium.migration/cilium-default';

/** An installed Cilium. */
export interface CiliumInstall {
  namespace: string;
  daemonSet: ObjectRef;
  settings: CiliumSettings;
  /** cilium-config's data as it is. */
  config: Record<string, string>;
  /** Helm owns cilium-config: the migration must not patch it, but print values to apply. */
  managedByHelm: boolean;
  /** cilium-config carries the mark of the Cilium this tool's bundled manifests install (app.kubernetes.io/part-of: cni-migration). */
  installedByUs: boolean;
  /** The CiliumNodeConfig API version the server serves, newest first; undefined before the operator registered it. */
  nodeConfigApiVersion?: string | undefined;
}

/** Whether a DaemonSet runs Cilium's agent. */
export function runsCiliumAgent(ds: DaemonSet): boolean {
  return containersOf(templateSpecOf(ds)).some((c) => {
    const repo = imageRepository(c.image);
    return !c.init && (argvOf(c).some((a) => a === 'cilium-agent' || a.endsWith('/cilium-agent')) || /\/cilium(-dev)?$/.test(repo));
  });
}

/** Reads the Cilium install (undefined when there is none); more than one agent DaemonSet takes the one named cilium. */
export async function readCiliumInstall(client: ClusterClient): Promise<CiliumInstall | undefined> {
  const all = (await client.listObjects({ apiVersion: 'apps/v1', kind: 'DaemonSet' })) as DaemonSet[];
  const agents = all.filter(runsCiliumAgent);
  const ds = agents.find((d) => d.metadata.name === 'cilium') ?? agents[0];
  if (!ds) return undefined;
  const namespace = ds.metadata.namespace ?? 'kube-system';
  let cm: KubeObject | undefined;
  try {
    cm = await client.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'cilium-config' });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const config = ((cm as { data?: Record<string, string> } | undefined)?.data ?? {});
  let nodeConfigApiVersion: string | undefined;
  for (const k of NODE_CONFIG_KINDS) {
    if (await client.servesKind(k)) {
      nodeConfigApiVersion = k.apiVersion;
      break;
    }
  }
  return {
    namespace,
    daemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name: ds.metadata.name ?? 'cilium' },
    settings: ciliumSettingsOf(config, `ConfigMap ${namespace}/cilium-config`),
    config,
    // helm install marks what it manages; `helm template | kubectl apply` leaves no mark.
    managedByHelm: cm?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'Helm' || cm?.metadata.annotations?.['meta.helm.sh/release-name'] !== undefined,
    installedByUs: cm?.metadata.labels?.['app.kubernetes.io/part-of'] === 'cni-migration',
    nodeConfigApiVersion,
  };
}

/** The CiliumNodeConfig that makes labelled nodes' agents manage the CNI file (Cilium's migration guide). */
export function migrationNodeConfig(apiVersion: string, namespace: string, name = 'cilium-default'): KubeObject {
  return {
    apiVersion,
    kind: 'CiliumNodeConfig',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'cni-migration' } },
    spec: {
      nodeSelector: { matchLabels: { [MIGRATION_NODE_LABEL]: 'true' } },
      defaults: {
        'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist',
        'custom-cni-conf': 'false',
        'cni-chaining-mode': 'none',
        'cni-exclusive': 'true',
      },
    },
  };
}
