import { waitFor } from './waitFor.js';
import { ResourceRegistry } from '../../api/resourceRegistry.js';
import { SettingsHolder, SimulationSettingsSchema, type FirewallRuleSettings, type SimulationSettings } from '../../simSettings.js';
import type { KubeObject } from '../../store/kubeObject.js';
import { ObjectStore } from '../../store/objectStore.js';
import { storeInfoFrom } from '../../store/storeInfo.js';
import { InProcessBackend } from '../clusterBackend.js';
import { allCniManifests, findObject, podFromDaemonSet, workloadPod } from './modelFixtures.js';
import { NetworkModel } from '../networkModel.js';

/**
 * The seed's manifests (Cilium, Multus) write to the original tool's kubelet directory, not the
 * CRI default that settings now default to: the model test cluster uses theirs, as the built-in cluster does.
 */
const SEED_CNI_CONF_DIR = '/etc/kubernetes/cni/net.d';

/** Options for a model-only test cluster. */
export interface ModelTestClusterOptions {
  nodes?: number;
  settings?: Record<string, unknown>;
  agentReplacementGraceMs?: number;
}

/**
 * A store, an in-process backend and the node model, with no controllers: tests play the
 * DaemonSet controller and the scheduler by creating bound pods from the real manifests' templates.
 */
export class ModelTestCluster {
  readonly manifests: KubeObject[];
  private podSerial = 0;

  private constructor(
    readonly store: ObjectStore,
    readonly backend: InProcessBackend,
    readonly settings: SettingsHolder,
    readonly base: SimulationSettings,
    readonly model: NetworkModel,
    readonly nodeNames: string[],
  ) {
    this.manifests = allCniManifests(base.cniConfDir);
  }

  /** Starts the model over a fresh store, with the manifests' ConfigMaps already created. */
  static async start(opts: ModelTestClusterOptions = {}): Promise<ModelTestCluster> {
    const store = new ObjectStore(storeInfoFrom(new ResourceRegistry()));
    const backend = new InProcessBackend(store);
    const base = SimulationSettingsSchema.parse({ nodes: opts.nodes ?? 3, cniConfDir: SEED_CNI_CONF_DIR, timings: { podStartMs: 5, podStopMs: 5, agentReadyMs: 5 }, ...opts.settings });
    const settings = new SettingsHolder(base);
    const nodeNames = Array.from({ length: typeof base.nodes === 'number' ? base.nodes : (base.nodes?.length ?? 3) }, (_, i) => `node-${i + 1}`);
    const model = new NetworkModel(backend, settings, { nodeNames, agentReplacementGraceMs: opts.agentReplacementGraceMs ?? 100 });
    await model.start();
    const cluster = new ModelTestCluster(store, backend, settings, base, model, nodeNames);
    for (const cm of cluster.manifests.filter((o) => o.kind === 'ConfigMap')) store.create('configmaps', cm);
    return cluster;
  }

  /** Binds a pod of one of the manifests' DaemonSets to a node (as the DaemonSet controller would). */
  runAgent(daemonSet: string, node: string): string {
    const pod = podFromDaemonSet(findObject(this.manifests, 'DaemonSet', daemonSet), node, String(++this.podSerial));
    this.store.create('pods', pod);
    return pod.metadata.name!;
  }

  /** Binds a workload pod to a node. */
  createPod(namespace: string, name: string, node: string, annotations: Record<string, string> = {}): void {
    this.store.create('pods', workloadPod(namespace, name, node, annotations));
  }

  /** Deletes a pod as the API server does: gracefully (the kubelet finishes it) or at once with grace 0. */
  async deletePod(namespace: string, name: string, gracePeriodSeconds = 30): Promise<void> {
    await this.backend.delete('pods', namespace, name, { gracePeriodSeconds });
  }

  /** The pod as stored. */
  pod(namespace: string, name: string): KubeObject | undefined {
    return this.store.get('pods', namespace, name);
  }

  /** Waits until the pod is Running and Ready; returns its primary IP. */
  async waitRunning(namespace: string, name: string): Promise<string> {
    return waitFor(`${namespace}/${name} running and ready`, () => {
      const p = this.pod(namespace, name);
      const ready = (p?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      return p?.status?.phase === 'Running' && ready ? (p.status.podIP as string) : undefined;
    });
  }

  /** Waits until the pod is gone from the store. */
  async waitGone(namespace: string, name: string): Promise<void> {
    await waitFor(`${namespace}/${name} deleted`, () => !this.pod(namespace, name));
  }

  /** Waits until the ground truth has evaluated every change so far. */
  async settleGroundTruth(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Replaces the live firewall rules. */
  setFirewall(blocked: FirewallRuleSettings[]): void {
    this.settings.applyLive(this.base, { firewall: { blocked } });
  }

  /** Every agent pod name of a DaemonSet on a node. */
  agentPods(daemonSet: string, node: string): string[] {
    return this.store
      .list('pods', 'kube-system')
      .items.filter((p) => p.spec.nodeName === node && p.metadata.ownerReferences?.some((o) => o.name === daemonSet))
      .map((p) => p.metadata.name!);
  }

  /** Stops the model. */
  stop(): void {
    this.model.stop();
  }
}
