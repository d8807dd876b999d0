import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import type { ConfigMapLookup } from './containerEnv.js';
import type { NadLookup } from './sandboxPlanner.js';

/** Resource keys the model watches. */
export const WATCHED = {
  pods: 'pods',
  nodes: 'nodes',
  configMaps: 'configmaps',
  nads: 'k8s.cni.cncf.io/network-attachment-definitions',
  daemonSets: 'apps/daemonsets',
  networkPolicies: 'networking.k8s.io/networkpolicies',
  namespaces: 'namespaces',
} as const;

/**
 * Custom resources agents read at start besides ConfigMaps (served only once their CRDs exist):
 * Calico's IPPools and FelixConfigurations (the KDD CRDs calico-node reads), and Cilium's
 * CiliumNodeConfigs (read by the agent's build-config init container; v2 and v2alpha1 are one resource).
 */
export const WATCHED_CUSTOM = {
  ipPools: 'crd.projectcalico.org/ippools',
  felixConfigurations: 'crd.projectcalico.org/felixconfigurations',
  ciliumNodeConfigs: 'cilium.io/ciliumnodeconfigs',
  calicoNetworkPolicies: 'crd.projectcalico.org/networkpolicies',
  calicoGlobalNetworkPolicies: 'crd.projectcalico.org/globalnetworkpolicies',
  ciliumClusterwidePolicies: 'cilium.io/ciliumclusterwidenetworkpolicies',
} as const;

/** The custom resources that are policies: a change bumps the policy generation. */
const POLICY_RESOURCES: ReadonlySet<string> = new Set([WATCHED_CUSTOM.calicoNetworkPolicies, WATCHED_CUSTOM.calicoGlobalNetworkPolicies, WATCHED_CUSTOM.ciliumClusterwidePolicies]);

/** Lists the cached objects of one custom resource (WATCHED_CUSTOM). */
export type CustomResourceLookup = (resource: string) => readonly KubeObject[];

/**
 * What the kubelets know of the cluster besides pods: ConfigMaps (agents read their config from
 * them), NetworkAttachmentDefinitions (Multus resolves networks through them), Nodes (podCIDR,
 * InternalIP) and DaemonSets (whether an agent pod that went will be replaced). Fed by watch events; read synchronously.
 */
export class ClusterCache {
  private readonly configMaps = new Map<string, Readonly<Record<string, string>>>();
  private readonly nads = new Map<string, { config?: string }>();
  private readonly nodes = new Map<string, KubeObject>();
  private readonly daemonSets = new Map<string, KubeObject>();
  private readonly custom = new Map<string, Map<string, KubeObject>>();
  private readonly networkPolicies = new Map<string, KubeObject>();
  private readonly namespaceLabelsByName = new Map<string, Readonly<Record<string, string>>>();
  /** Bumped whenever a NetworkPolicy or a namespace's labels change. */
  policyGeneration = 0;

  /** Applies a watch event; returns true when something the model reads changed. */
  apply(ev: WatchEvent): boolean {
    const o = ev.object;
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const gone = ev.type === 'DELETED';
    switch (ev.resource) {
      case WATCHED.configMaps: {
        const before = JSON.stringify(this.configMaps.get(key));
        if (gone) this.configMaps.delete(key);
        else this.configMaps.set(key, stringData(o.data));
        return before !== JSON.stringify(this.configMaps.get(key));
      }
      case WATCHED.nads: {
        const before = JSON.stringify(this.nads.get(key));
        const spec = (o.spec ?? {}) as { config?: unknown };
        if (gone) this.nads.delete(key);
        else this.nads.set(key, typeof spec.config === 'string' ? { config: spec.config } : {});
        return before !== JSON.stringify(this.nads.get(key));
      }
      case WATCHED.nodes:
        if (gone) this.nodes.delete(o.metadata.name ?? '');
        else this.nodes.set(o.metadata.name ?? '', o);
        return true;
      case WATCHED.networkPolicies: {
        const before = JSON.stringify(this.networkPolicies.get(key)?.spec);
        if (gone) this.networkPolicies.delete(key);
        else this.networkPolicies.set(key, o);
        const changed = before !== JSON.stringify(this.networkPolicies.get(key)?.spec);
        if (changed) this.policyGeneration++;
        return changed;
      }
      case WATCHED.namespaces: {
        const name = o.metadata.name ?? '';
        const before = JSON.stringify(this.namespaceLabelsByName.get(name));
        if (gone) this.namespaceLabelsByName.delete(name);
        else this.namespaceLabelsByName.set(name, { ...(o.metadata.labels ?? {}) });
        const changed = before !== JSON.stringify(this.namespaceLabelsByName.get(name));
        if (changed) this.policyGeneration++;
        return changed;
      }
      case WATCHED.daemonSets:
        // Read only to tell whether an agent pod that went will be replaced (see CniRuntime.podGone).
        if (gone) this.daemonSets.delete(key);
        else this.daemonSets.set(key, o);
        return false;
      default: {
        if (!Object.values(WATCHED_CUSTOM).includes(ev.resource as never)) return false;
        let byKey = this.custom.get(ev.resource);
        if (!byKey) this.custom.set(ev.resource, (byKey = new Map()));
        const before = JSON.stringify(byKey.get(key)?.spec);
        if (gone) byKey.delete(key);
        else byKey.set(key, o);
        const changed = before !== JSON.stringify(byKey.get(key)?.spec);
        if (changed && POLICY_RESOURCES.has(ev.resource)) this.policyGeneration++;
        return changed;
      }
    }
  }

  /** The cached objects of a custom resource (empty until its CRD and objects exist). */
  readonly customResources: CustomResourceLookup = (resource) => [...(this.custom.get(resource)?.values() ?? [])];

  /** ConfigMap data by namespace and name. */
  readonly configMap: ConfigMapLookup = (namespace, name) => this.configMaps.get(`${namespace}/${name}`);

  /** NetworkAttachmentDefinition spec.config by namespace and name. */
  readonly nad: NadLookup = (namespace, name) => this.nads.get(`${namespace}/${name}`);

  /** A DaemonSet by namespace and name, when seen. */
  daemonSet(namespace: string, name: string): KubeObject | undefined {
    return this.daemonSets.get(`${namespace}/${name}`);
  }

  /** Every NetworkPolicy seen. */
  policies(): KubeObject[] {
    return [...this.networkPolicies.values()];
  }

  /** Calico NetworkPolicies and GlobalNetworkPolicies (kind set from the resource). */
  calicoPolicies(): KubeObject[] {
    const of = (resource: string, kind: string) => [...(this.custom.get(resource)?.values() ?? [])].map((o) => ({ ...o, kind }));
    return [...of(WATCHED_CUSTOM.calicoGlobalNetworkPolicies, 'GlobalNetworkPolicy'), ...of(WATCHED_CUSTOM.calicoNetworkPolicies, 'NetworkPolicy')];
  }

  /** CiliumClusterwideNetworkPolicies. */
  ciliumPolicies(): KubeObject[] {
    return [...(this.custom.get(WATCHED_CUSTOM.ciliumClusterwidePolicies)?.values() ?? [])];
  }

  /** A namespace's labels, with the kubernetes.io/metadata.name label the API server guarantees. */
  namespaceLabels(name: string): Readonly<Record<string, string>> {
    return { ...this.namespaceLabelsByName.get(name), 'kubernetes.io/metadata.name': name };
  }

  /** The Node object, when seen. */
  node(name: string): KubeObject | undefined {
    return this.nodes.get(name);
  }
}

function stringData(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (data && typeof data === 'object') for (const [k, v] of Object.entries(data as Record<string, unknown>)) out[k] = String(v);
  return out;
}
