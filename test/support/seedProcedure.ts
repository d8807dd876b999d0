import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifestDocuments } from '../../src/kube/manifestParser.js';
import type { SimCluster } from '../../src/sim/simCluster.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';
import { SimHttp } from './simHttp.js';
import { waitFor } from './waitFor.js';

/** The seed's files (../shared/seed beside the repository). */
export const SEED_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'seed');

/** The seed's config.yaml label keys. */
export const L = {
  canalCilium: 'node-role.kubernetes.io/canal-cilium',
  priorityCanal: 'node-role.kubernetes.io/priority-canal',
  priorityCilium: 'node-role.kubernetes.io/priority-cilium',
  rolled: 'node-role.kubernetes.io/rolled',
  cilium: 'node-role.kubernetes.io/cilium',
  migrated: 'node-role.kubernetes.io/migrated',
};

/**
 * The original tool's steps performed "by hand" through the simulated cluster's REST API, with
 * the seed's own manifests — no knowledge of them inside the simulator. Used by the model tests
 * to show that the right order keeps every pod reachable and a wrong one does not.
 */
export class SeedProcedure {
  readonly http: SimHttp;

  constructor(private readonly cluster: SimCluster) {
    this.http = new SimHttp(cluster);
  }

  nodes(): string[] {
    return this.cluster.store.list('nodes').items.map((n) => n.metadata.name!);
  }

  /** Applies every document of a seed manifest by server-side apply; versions the server no longer serves are skipped, as kubectl reports them. */
  async applySeed(file: string): Promise<string[]> {
    const skipped: string[] = [];
    const path = join(SEED_DIR, file);
    for (const doc of parseManifestDocuments(readFileSync(path, 'utf8'), path)) {
      const obj = doc.value as unknown as KubeObject;
      const type = this.cluster.registry.lookupKind(obj.apiVersion, obj.kind);
      if (!type) {
        skipped.push(`${obj.apiVersion}/${obj.kind}`);
        continue;
      }
      const ns = type.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
      const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
      await this.http.apply(obj, `${base}${ns ? `/namespaces/${ns}` : ''}/${type.plural}/${obj.metadata.name}`);
      if (type.kind === 'CustomResourceDefinition' || type.kind === 'Namespace') await waitFor(`${type.kind} ${obj.metadata.name}`, () => this.cluster.store.get(type.kind === 'Namespace' ? 'namespaces' : 'apiextensions.k8s.io/customresourcedefinitions', undefined, obj.metadata.name!));
    }
    return skipped;
  }

  async labelNode(node: string, labels: Record<string, string | null>): Promise<void> {
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { metadata: { labels } });
  }

  async settle(timeoutMs = 30_000): Promise<void> {
    await this.cluster.waitUntilSettled(timeoutMs);
  }

  /** Step 0: the seed's knet-stress probes (its v1beta1 RBAC is refused; the DaemonSets run). */
  async preflight(): Promise<void> {
    await this.applySeed('resources_knet-stress.yaml');
    await this.settle();
  }

  /** Step 1: label every node, pin canal to canal-cilium, apply Cilium and Multus. */
  async prepare(): Promise<void> {
    for (const n of this.nodes()) await this.labelNode(n, { [L.canalCilium]: 'true', [L.priorityCanal]: 'true' });
    await this.http.mergePatch('/apis/apps/v1/namespaces/kube-system/daemonsets/canal', { spec: { template: { spec: { nodeSelector: { [L.canalCilium]: 'true' } } } } });
    await this.applySeed('resources_cilium.yaml');
    await this.applySeed('resources_multus.yaml');
    await this.settle();
  }

  /** kubectl drain: cordon, evict every pod that is not a DaemonSet's, wait until they are gone. */
  async drain(node: string): Promise<void> {
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable: true } });
    const pods = await this.podsOn(node);
    const evict = pods.filter((p) => !p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet'));
    for (const p of evict) {
      await waitFor(`eviction of ${p.metadata.name}`, async () => {
        try {
          await this.http.request('POST', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: p.metadata.namespace } });
          return true;
        } catch (e) {
          if ((e as { status?: number }).status === 404) return true;
          throw e;
        }
      });
    }
    await waitFor(`pods gone from ${node}`, async () => {
      const left = (await this.podsOn(node)).filter((p) => evict.some((e) => e.metadata.uid === p.metadata.uid));
      return left.length === 0;
    });
  }

  async podsOn(node: string): Promise<KubeObject[]> {
    return ((await this.http.get(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)) as { items: KubeObject[] }).items;
  }

  /** Deletes every non-hostNetwork pod on the node and waits until they are replaced and the cluster settles. */
  async deletePodsOn(node: string): Promise<void> {
    for (const p of await this.podsOn(node)) {
      if (p.spec.hostNetwork) continue;
      await this.http.request('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
    }
    await waitFor(`old pods gone from ${node}`, async () => !(await this.podsOn(node)).some((p) => p.metadata.deletionTimestamp));
  }

  /** The seed's node roll: drain, delete remaining pods, uncordon, wait. */
  async rollNode(node: string): Promise<void> {
    await this.drain(node);
    await this.deletePodsOn(node);
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable: null } });
    await this.settle();
  }

  /** Step 2 for one node. */
  async roll(node: string): Promise<void> {
    await this.rollNode(node);
    await this.labelNode(node, { [L.rolled]: 'true' });
  }

  /** Step 3 for one node: swap the Multus priority label, then roll the node. */
  async swapPriority(node: string): Promise<void> {
    await this.labelNode(node, { [L.priorityCanal]: null, [L.priorityCilium]: 'true' });
    await this.settle();
    await this.rollNode(node);
  }

  /** Step 4 for one node. */
  async migrate(node: string): Promise<void> {
    await this.drain(node);
    await this.setTaints(node, [{ key: L.cilium, value: 'cilium', effect: 'NoExecute' }]);
    await this.labelNode(node, { [L.canalCilium]: null, [L.cilium]: 'true' });
    await this.settle();
    await this.deletePodsOn(node);
    await this.settle();
    await this.setTaints(node, []);
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable: null } });
    await this.labelNode(node, { [L.migrated]: 'true', [L.priorityCilium]: null });
    await this.settle();
  }

  /** Step 5: let cilium-migrated run everywhere, delete Multus, canal and the first Cilium. */
  async cleanUp(): Promise<void> {
    await this.http.request('PATCH', '/apis/apps/v1/namespaces/kube-system/daemonsets/cilium-migrated', [{ op: 'remove', path: '/spec/template/spec/nodeSelector' }], 'application/json-patch+json');
    await this.settle();
    for (const ds of ['kube-multus-canal', 'kube-multus-cilium', 'canal', 'cilium']) {
      await this.http.request('DELETE', `/apis/apps/v1/namespaces/kube-system/daemonsets/${ds}`);
    }
    await waitFor('agent pods of deleted DaemonSets gone', () => !this.cluster.store.list('pods', 'kube-system').items.some((p) => /^(kube-multus|canal|cilium-)/.test(p.metadata.name!) && !p.metadata.name!.startsWith('cilium-migrated') && !p.metadata.name!.startsWith('cilium-operator')));
    await this.settle();
  }

  private async setTaints(node: string, taints: object[]): Promise<void> {
    const cur = (await this.http.get(`/api/v1/nodes/${node}`)) as KubeObject;
    const keep = ((cur.spec.taints ?? []) as { key: string }[]).filter((t) => t.key !== L.cilium);
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { metadata: { resourceVersion: cur.metadata.resourceVersion }, spec: { taints: [...keep, ...taints] } });
  }
}
