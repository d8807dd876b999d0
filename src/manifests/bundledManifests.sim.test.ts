import { afterEach, describe, expect, it } from 'vitest';
import { SeedProcedure } from '../../test/support/seedProcedure.js';
import { SimHttp } from '../../test/support/simHttp.js';
import { waitFor } from '../../test/support/waitFor.js';
import { ConfigSchema, type MigrationConfig } from '../config/configSchema.js';
import { SimCluster } from '../sim/simCluster.js';
import type { KubeObject } from '../sim/store/kubeObject.js';
import { seedCanalSource } from '../source/testing/sourceFixtures.js';
import { renderBundledManifests, type ManifestObject } from './renderManifests.js';

// The seed's procedure performed by hand through the simulated cluster's REST API (as
// test/support/seedProcedure.ts does), but applying the bundled manifests rendered for a
// configuration and using that configuration's label keys. The simulator knows nothing of these
// manifests: it reads the applied objects, so a pass means the model recognised what they do.

/** The steps of DESIGN §2 with a configuration's labels and the rendered manifests. */
class BundledProcedure {
  readonly http: SimHttp;
  private readonly l: MigrationConfig['labels'];

  constructor(
    private readonly cluster: SimCluster,
    private readonly config: MigrationConfig,
  ) {
    this.http = new SimHttp(cluster);
    this.l = config.labels;
  }

  nodes(): string[] {
    return this.cluster.store.list('nodes').items.map((n) => n.metadata.name!);
  }

  /** Step 0: the seed's knet-stress probe DaemonSets (non-hostNetwork pods on every node). */
  async preflight(): Promise<void> {
    await new SeedProcedure(this.cluster).preflight();
  }

  /** Server-side apply of each object; waits for CRDs to be served before the rest. */
  async apply(objects: ManifestObject[]): Promise<void> {
    const ordered = [...objects].sort((a, b) => Number(b.kind === 'CustomResourceDefinition') - Number(a.kind === 'CustomResourceDefinition'));
    for (const obj of ordered) {
      const type = this.cluster.registry.lookupKind(obj.apiVersion, obj.kind);
      if (!type) throw new Error(`the simulated API server does not serve ${obj.apiVersion} ${obj.kind}`);
      const ns = type.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
      const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
      await this.http.apply(obj, `${base}${ns ? `/namespaces/${ns}` : ''}/${type.plural}/${obj.metadata.name}`);
      if (type.kind === 'CustomResourceDefinition') {
        const crd = obj.spec as { group: string; versions: { name: string }[]; names: { kind: string } };
        await waitFor(`CRD ${obj.metadata.name} served`, () => this.cluster.registry.lookupKind(`${crd.group}/${crd.versions[0]!.name}`, crd.names.kind));
      }
    }
  }

  async labelNode(node: string, labels: Record<string, string | null>): Promise<void> {
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { metadata: { labels } });
  }

  async settle(): Promise<void> {
    await this.cluster.waitUntilSettled(30_000);
  }

  /** Step 1. */
  async prepare(): Promise<void> {
    const { cilium, multus } = renderBundledManifests(this.config, seedCanalSource());
    for (const n of this.nodes()) await this.labelNode(n, { [this.l['canal-cilium']]: this.l.value, [this.l['cni-priority-canal']]: this.l.value });
    await this.http.mergePatch(`/apis/apps/v1/namespaces/kube-system/daemonsets/canal`, {
      spec: { template: { spec: { nodeSelector: { [this.l['canal-cilium']]: this.l.value } } } },
    });
    await this.apply(cilium);
    await this.apply(multus);
    await this.settle();
  }

  async podsOn(node: string): Promise<KubeObject[]> {
    return ((await this.http.get(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)) as { items: KubeObject[] }).items;
  }

  /** kubectl drain: cordon, evict every pod that is not a DaemonSet's, wait until they are gone. */
  async drain(node: string): Promise<void> {
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable: true } });
    const evict = (await this.podsOn(node)).filter((p) => !p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet'));
    for (const p of evict) {
      await waitFor(`eviction of ${p.metadata.name}`, async () => {
        try {
          await this.http.request('POST', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/eviction`, {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
          });
          return true;
        } catch (e) {
          if ((e as { status?: number }).status === 404) return true;
          throw e;
        }
      });
    }
    await waitFor(`evicted pods gone from ${node}`, async () => !(await this.podsOn(node)).some((p) => evict.some((e) => e.metadata.uid === p.metadata.uid)));
  }

  async deletePodsOn(node: string): Promise<void> {
    for (const p of await this.podsOn(node)) {
      if (p.spec.hostNetwork) continue;
      await this.http.request('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
    }
    await waitFor(`old pods gone from ${node}`, async () => !(await this.podsOn(node)).some((p) => p.metadata.deletionTimestamp));
  }

  async uncordon(node: string): Promise<void> {
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable: null } });
  }

  async rollNode(node: string): Promise<void> {
    await this.drain(node);
    await this.deletePodsOn(node);
    await this.uncordon(node);
    await this.settle();
  }

  /** Step 2 for one node. */
  async roll(node: string): Promise<void> {
    await this.rollNode(node);
    await this.labelNode(node, { [this.l.rolled]: this.l.value });
  }

  /** Step 3 for one node. */
  async swapPriority(node: string): Promise<void> {
    await this.labelNode(node, { [this.l['cni-priority-canal']]: null, [this.l['cni-priority-cilium']]: this.l.value });
    await this.settle();
    await this.rollNode(node);
  }

  /** Step 4 for one node. */
  async migrate(node: string): Promise<void> {
    await this.drain(node);
    await this.setMigrationTaint(node, true);
    await this.labelNode(node, { [this.l['canal-cilium']]: null, [this.l.cilium]: this.l.value });
    await this.settle();
    await this.deletePodsOn(node);
    await this.settle();
    await this.setMigrationTaint(node, false);
    await this.uncordon(node);
    await this.labelNode(node, { [this.l.migrated]: this.l.value, [this.l['cni-priority-cilium']]: null });
    await this.settle();
  }

  /** Step 5: unpin cilium-migrated, delete Multus, Canal and the first Cilium. */
  async cleanUp(): Promise<void> {
    const path = '/apis/apps/v1/namespaces/kube-system/daemonsets/cilium-migrated';
    // JSON merge patch: null removes the key, as the engine does.
    await this.http.mergePatch(path, { spec: { template: { spec: { nodeSelector: { [this.l.cilium]: null } } } } });
    await this.settle();
    const gone = ['kube-multus-canal', 'kube-multus-cilium', 'canal', 'cilium'];
    for (const ds of gone) await this.http.request('DELETE', `/apis/apps/v1/namespaces/kube-system/daemonsets/${ds}`);
    await waitFor('pods of the deleted DaemonSets gone', () => !this.cluster.store.list('pods', 'kube-system').items.some((p) => gone.some((ds) => p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === ds))));
    await this.settle();
  }

  private async setMigrationTaint(node: string, on: boolean): Promise<void> {
    const cur = (await this.http.get(`/api/v1/nodes/${node}`)) as KubeObject;
    const keep = ((cur.spec.taints ?? []) as { key: string }[]).filter((t) => t.key !== this.l.cilium);
    const taints = on ? [...keep, { key: this.l.cilium, value: 'cilium', effect: 'NoExecute' }] : keep;
    await this.http.mergePatch(`/api/v1/nodes/${node}`, { metadata: { resourceVersion: cur.metadata.resourceVersion }, spec: { taints } });
  }
}

/** Whether an IPv4 address lies in a CIDR. */
function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, len] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(len));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

describe('the bundled Cilium and Multus manifests on the simulated cluster', () => {
  let cluster: SimCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const start = async (config: MigrationConfig) => {
    cluster = await SimCluster.start({ nodes: 3 });
    await cluster.waitUntilSettled();
    return new BundledProcedure(cluster, config);
  };

  const fileNames = (node: string) => cluster!.model.nodeState(node)!.files.map((f) => f.name);
  const interfacesOf = (p: KubeObject) => cluster!.model.podInterfaces(p.metadata.namespace!, p.metadata.name!)?.map((i) => `${i.name}:${i.network}`) ?? [];
  const workloadPods = () => cluster!.store.list('pods').items.filter((p) => !p.spec.hostNetwork);

  /** The whole procedure in the right order, checking what each node's CNI directory and pods look like on the way. */
  const migrateEverything = async (config: MigrationConfig) => {
    const proc = await start(config);
    const [first] = proc.nodes() as [string];
    await proc.preflight();
    await proc.prepare();
    // Multus's 00-multus.conflist (Canal primary) wins; Cilium's 99-cilium.conflist is only a Multus network.
    expect(fileNames(first)).toEqual(expect.arrayContaining(['00-multus.conflist', '10-calico.conflist', '99-cilium.conflist']));
    expect(fileNames(first)).not.toContain('00-cilium.conflist');
    const state = cluster!.model.nodeState(first)!;
    // Every write lands in the kubelet's directory, and Cilium's settings are the configuration's.
    expect(state.agents.flatMap((a) => a.ignoredWrites)).toEqual([]);
    expect(state.datapaths.find((d) => d.network === 'cilium')).toMatchObject({
      pool: { cidr: config.cilium.podCIDR, nodePrefix: 24, useNodePodCidr: false },
      overlay: { kind: 'tunnel', mode: config.cilium.tunnelProtocol ?? 'geneve' },
    });

    for (const n of proc.nodes()) await proc.roll(n);
    for (const p of workloadPods()) expect(interfacesOf(p), `${p.metadata.name}`).toEqual(['eth0:flannel', 'net1:cilium']);

    for (const n of proc.nodes()) await proc.swapPriority(n);
    expect(fileNames(first)).toContain('99-flannel.conflist');
    for (const p of workloadPods()) expect(interfacesOf(p), `${p.metadata.name}`).toEqual(['eth0:cilium', 'net1:flannel']);

    for (const n of proc.nodes()) await proc.migrate(n);
    expect(fileNames(first)[0]).toBe('00-cilium.conflist');
    await proc.cleanUp();

    expect(cluster!.model.groundTruth.violations()).toEqual([]);
    const pods = workloadPods();
    expect(pods.length).toBeGreaterThan(5);
    for (const p of pods) {
      expect(interfacesOf(p), `${p.metadata.namespace}/${p.metadata.name}`).toEqual(['eth0:cilium']);
      expect(inCidr(p.status.podIP, config.cilium.podCIDR), `${p.metadata.namespace}/${p.metadata.name} has ${p.status.podIP}`).toBe(true);
    }
  };

  it('with the default configuration keep every pod reachable and end on Cilium (GENEVE, 172.29.0.0/16)', async () => {
    await migrateEverything(ConfigSchema.parse({}));
  });

  it('with custom labels, pod CIDR, VXLAN off Flannel’s port and a registry mirror do the same', async () => {
    const config = ConfigSchema.parse({
      labels: {
        'canal-cilium': 'migration.example.com/canal-cilium',
        'cni-priority-canal': 'migration.example.com/priority-canal',
        'cni-priority-cilium': 'migration.example.com/priority-cilium',
        rolled: 'migration.example.com/rolled',
        cilium: 'migration.example.com/cilium',
        migrated: 'migration.example.com/migrated',
        value: 'yes',
      },
      images: { registryMirror: 'mirror.example.com:5000' },
      cilium: { podCIDR: '10.50.0.0/16', tunnelProtocol: 'vxlan' },
    });
    await migrateEverything(config);
    const agent = cluster!.model.nodeState(cluster!.store.list('nodes').items[0]!.metadata.name!)!.datapaths.find((d) => d.network === 'cilium');
    expect(agent?.overlay).toMatchObject({ kind: 'tunnel', mode: 'vxlan', port: 8473 });
  });

  it('removing Canal before the nodes are migrated loses connectivity', async () => {
    const proc = await start(ConfigSchema.parse({}));
    await proc.preflight();
    await proc.prepare();
    for (const n of proc.nodes()) await proc.roll(n);
    expect(cluster!.model.groundTruth.violations()).toEqual([]);
    await proc.http.request('DELETE', '/apis/apps/v1/namespaces/kube-system/daemonsets/canal');
    await waitFor('the primary addresses to go', () => cluster!.model.groundTruth.violations().length > 0);
    const violations = cluster!.model.groundTruth.violations();
    expect(violations.some((v) => v.added.some((p) => p.network === 'flannel'))).toBe(true);
  });
});
