import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifestDocuments } from '../../src/kube/manifestParser.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';
import { objectPath, type ClusterHttp, type ClusterUnderTest } from './e2eCluster.js';
import { L, SEED_DIR } from './seedProcedure.js';
import { waitFor } from './waitFor.js';

/**
 * The original tool's steps performed "by hand" through the REST API, on any ClusterUnderTest
 * (the simulator or a real control plane with simulated nodes). A port of seedProcedure.ts's
 * SeedProcedure that reads state only through the API (no store peeking), so the same model tests
 * run against both backends. Waits are longer than the simulator needs: a real control plane's
 * controllers take seconds, not milliseconds.
 */
export class ClusterSeedProcedure {
  readonly http: ClusterHttp;

  constructor(
    private readonly cluster: ClusterUnderTest,
    private readonly waitMs = 120_000,
  ) {
    this.http = cluster.http;
  }

  nodes(): string[] {
    return this.cluster.nodeNames();
  }

  /** Applies every document of a seed manifest by server-side apply; versions the server no longer serves are skipped, as kubectl reports them. */
  async applySeed(file: string): Promise<string[]> {
    const skipped: string[] = [];
    const path = join(SEED_DIR, file);
    for (const doc of parseManifestDocuments(readFileSync(path, 'utf8'), path)) {
      const obj = doc.value as unknown as KubeObject;
      const type = await this.cluster.lookupKind(obj.apiVersion, obj.kind);
      if (!type) {
        skipped.push(`${obj.apiVersion}/${obj.kind}`);
        continue;
      }
      const ns = type.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
      await this.http.apply(obj, objectPath(type, ns, obj.metadata.name));
      if (type.kind === 'Namespace') {
        // ServiceAccount admission refuses pods until the namespace's default ServiceAccount exists.
        await waitFor(`ServiceAccount ${obj.metadata.name}/default`, () => this.cluster.get('serviceaccounts', obj.metadata.name, 'default'), this.waitMs, 50);
      }
      if (type.kind === 'CustomResourceDefinition') {
        const spec = obj.spec as { group: string; names: { kind: string }; versions: { name: string }[] };
        await waitFor(`CRD ${obj.metadata.name} served`, () => this.cluster.lookupKind(`${spec.group}/${spec.versions[0]!.name}`, spec.names.kind), this.waitMs, 50);
      }
    }
    return skipped;
  }

  async labelNode(node: string, labels: Record<string, string | null>): Promise<void> {
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { metadata: { labels } });
  }

  async settle(): Promise<void> {
    await this.cluster.waitUntilSettled(this.waitMs);
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
      await waitFor(
        `eviction of ${p.metadata.name}`,
        async () => {
          try {
            await this.http.request('POST', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: p.metadata.namespace } });
            return true;
          } catch (e) {
            if ((e as { status?: number }).status === 404) return true;
            throw e;
          }
        },
        this.waitMs,
        100,
      );
    }
    await waitFor(
      `pods gone from ${node}`,
      async () => {
        const left = (await this.podsOn(node)).filter((p) => evict.some((e) => e.metadata.uid === p.metadata.uid));
        return left.length === 0;
      },
      this.waitMs,
      50,
    );
  }

  async podsOn(node: string): Promise<KubeObject[]> {
    return ((await this.http.get(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)) as { items: KubeObject[] }).items;
  }

  /** Deletes every non-hostNetwork pod on the node and waits until they are replaced and the cluster settles. */
  async deletePodsOn(node: string): Promise<void> {
    for (const p of await this.podsOn(node)) {
      if (p.spec.hostNetwork) continue;
      try {
        await this.http.request('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
      } catch (e) {
        // Already gone (a controller or the eviction got there first).
        if ((e as { status?: number }).status !== 404) throw e;
      }
    }
    await waitFor(`old pods gone from ${node}`, async () => !(await this.podsOn(node)).some((p) => p.metadata.deletionTimestamp), this.waitMs, 50);
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
    const leftover = (p: KubeObject) => /^(kube-multus|canal|cilium-)/.test(p.metadata.name!) && !p.metadata.name!.startsWith('cilium-migrated') && !p.metadata.name!.startsWith('cilium-operator');
    await waitFor('agent pods of deleted DaemonSets gone', async () => !(await this.cluster.list('pods', 'kube-system')).some(leftover), this.waitMs, 50);
    await this.settle();
  }

  /** Replaces the node's seed taint, keeping the others, with an optimistic-concurrency check. */
  // A real node lifecycle controller writes node taints too (unschedulable): retry on 409 Conflict.
  private async setTaints(node: string, taints: object[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const cur = (await this.http.get(`/api/v1/nodes/${node}`)) as KubeObject;
      const keep = ((cur.spec.taints ?? []) as { key: string }[]).filter((t) => t.key !== L.cilium);
      try {
        await this.http.mergePatch(`/api/v1/nodes/${node}`, { metadata: { resourceVersion: cur.metadata.resourceVersion }, spec: { taints: [...keep, ...taints] } });
        return;
      } catch (e) {
        if ((e as { status?: number }).status !== 409 || attempt >= 5) throw e;
      }
    }
  }
}
