/**
 * A real control plane with simulated nodes: ControlPlane (etcd, kube-apiserver, KCM, scheduler)
 * plus the node/CNI model (NetworkModel over HttpBackend) as the kubelet of every simulated node,
 * renewing their Leases and serving pods/proxy through the apiserver's egress socket; the probe
 * agents of probe pods run in-process as on the simulator (src/sim/probes), reading their pods and
 * peers from the API. It applies
 * the same default scenario the simulator starts with (manifests/sim/*.yaml) and waits until the
 * cluster has settled. The surface mirrors SimCluster where tests need it (see
 * test/support/e2eCluster.ts for the backend-neutral interface).
 */
import { parse as parseYaml } from 'yaml';
import { HttpBackend } from '../../src/sim/model/httpBackend.js';
import { NetworkModel } from '../../src/sim/model/networkModel.js';
import { startBackendProbes, type SimProbeOptions, type SimProbeRunner } from '../../src/sim/probes/simProbeRunner.js';
import { loadScenarioFile, parseScenario, type Scenario } from '../../src/sim/scenario/scenarioLoader.js';
import { BUILTIN_SCENARIO, defaultClusterObjects } from '../../src/sim/simCluster.js';
import { LIVE_SETTINGS_CONFIGMAP, LiveSettingsSchema, SettingsHolder, type SimulationSettings } from '../../src/sim/simSettings.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';
import { ControlPlane, type ControlPlaneOptions, type ControlPlaneTimings } from './controlPlane.js';
import { KubeHttp } from './kubeHttp.js';
import { PodNetworkProxy } from './podNetworkProxy.js';

/** How to start a real cluster with simulated nodes. */
export interface RealClusterOptions {
  /** Node count; overrides the scenario's. */
  nodes?: number;
  /** Scenario file (multi-document YAML); the built-in Canal cluster when omitted. */
  scenarioFile?: string;
  /** Scenario text. */
  scenarioText?: string;
  /** Extra settings overrides. */
  settings?: Partial<SimulationSettings>;
  /** How the simulated probe agents run (src/sim/probes), as SimClusterOptions.probes. */
  probes?: SimProbeOptions;
  /** Control plane options (timeouts, extra flags). */
  controlPlane?: ControlPlaneOptions;
  /** Deadline for nodes to turn Ready and untainted (ms, default 90 s). */
  nodesReadyTimeoutMs?: number;
  /** Deadline for the scenario to settle (ms, default 180 s). */
  settleTimeoutMs?: number;
  /** Progress and diagnostics. */
  log?: (line: string) => void;
}

/** Start-up timings in seconds. */
export interface RealClusterTimings extends ControlPlaneTimings {
  /** From control plane ready until every node was Ready without the not-ready taint. */
  nodesReadySeconds: number;
  /** From nodes ready until the scenario's objects were applied and every pod ran. */
  settledSeconds: number;
  /** The whole start(), build step included. */
  totalSeconds: number;
}

const NOT_READY_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

/** A running real control plane whose nodes are simulated by the node/CNI model. */
export class RealCluster {
  readonly kind = 'real' as const;
  timings: RealClusterTimings | undefined;
  liveSettingsError: string | undefined;
  /** The in-process probe agents (one per running probe pod). */
  probes: SimProbeRunner | undefined;
  private stopLiveSettings: (() => void) | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly controlPlane: ControlPlane,
    readonly backend: HttpBackend,
    /** An authenticated REST client (SimHttp's methods). */
    readonly http: KubeHttp,
    readonly model: NetworkModel,
    readonly podNetwork: PodNetworkProxy,
    readonly settings: SettingsHolder,
    readonly baseSettings: SimulationSettings,
    readonly nodeNames: readonly string[],
    private readonly log: (line: string) => void,
  ) {}

  /** Admin kubeconfig (absolute certificate paths) for kubectl and clients. */
  get kubeconfigPath(): string {
    return this.controlPlane.kubeconfigPath;
  }

  /** https://127.0.0.1:port */
  get url(): string {
    return this.controlPlane.server;
  }

  /** Starts the control plane and the model, applies the scenario and waits until it has settled. */
  static async start(opts: RealClusterOptions = {}): Promise<RealCluster> {
    const t0 = performance.now();
    const log = opts.log ?? (() => {});
    const overrides: Partial<SimulationSettings> = { ...(opts.settings ?? {}) };
    const scenarioOpts = { defaultNodes: opts.nodes };
    const scenario: Scenario = opts.scenarioFile
      ? loadScenarioFile(opts.scenarioFile, overrides, scenarioOpts)
      : parseScenario(opts.scenarioText ?? BUILTIN_SCENARIO, opts.scenarioText !== undefined ? '<scenario text>' : '<built-in scenario>', overrides, scenarioOpts);
    const controlPlane = await ControlPlane.start({ log, ...(opts.controlPlane ?? {}) });
    const tReady = performance.now();
    const settings = new SettingsHolder(scenario.settings);
    const nodeNames = scenario.settings.nodes;
    const backend = HttpBackend.fromKubeconfig(controlPlane.kubeconfigPath, { log: (l) => log(`kubelet http: ${l}`) });
    const http = KubeHttp.fromKubeconfig(controlPlane.kubeconfigPath);
    const model = new NetworkModel(backend, settings, { nodeNames, renewLeases: true, log });
    const podNetwork = new PodNetworkProxy(controlPlane.podNetworkSocket, backend, model, { kubeletCert: controlPlane.pki.kubeletCert, kubeletKey: controlPlane.pki.kubeletKey, log });
    const cluster = new RealCluster(controlPlane, backend, http, model, podNetwork, settings, scenario.settings, nodeNames, log);
    try {
      await podNetwork.start();
      // As on the simulator: the scenario's Node objects exist before their kubelets register.
      await cluster.applyInOrder(scenario.objects.filter((o) => o.object.kind === 'Node'));
      await model.start();
      cluster.probes = await startBackendProbes(backend, model, { log, ...opts.probes });
      for (const name of nodeNames.slice(0, scenario.settings.controlPlaneNodes)) {
        await backend.patch('nodes', undefined, name, { metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } });
      }
      await cluster.waitForNodesReady(opts.nodesReadyTimeoutMs ?? 90_000);
      const tNodes = performance.now();
      await cluster.watchLiveSettings();
      const objects = [...(scenario.settings.defaultCluster ? defaultClusterObjects(scenario.settings, nodeNames.length) : []), ...scenario.objects.filter((o) => o.object.kind !== 'Node')];
      await cluster.applyInOrder(objects);
      await cluster.waitUntilSettled(opts.settleTimeoutMs ?? 180_000);
      const tEnd = performance.now();
      cluster.timings = {
        ...controlPlane.timings,
        nodesReadySeconds: (tNodes - tReady) / 1000,
        settledSeconds: (tEnd - tNodes) / 1000,
        totalSeconds: (tEnd - t0) / 1000,
      };
      log(`real cluster settled: ${JSON.stringify(cluster.timings, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  /** Stops the model, the pod network and the control plane (reverse order, no orphans). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopLiveSettings?.();
      this.probes?.stop();
      this.model.stop();
      await this.podNetwork.stop().catch(() => {});
      this.http.close();
      this.backend.close();
      await this.controlPlane.stop();
    })();
    return this.stopped;
  }

  /** Waits until every pod is Running and Ready and every DaemonSet/Deployment has rolled out. */
  async waitUntilSettled(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const problem = await this.unsettledReason();
      if (!problem) return;
      if (Date.now() > deadline) {
        throw new Error(
          `real cluster did not settle within ${timeoutMs} ms: ${problem}\n--- kube-controller-manager log tail:\n${this.controlPlane.logTail('kube-controller-manager', 15)}\n--- kube-scheduler log tail:\n${this.controlPlane.logTail('kube-scheduler', 10)}`,
        );
      }
      await sleep(200);
    }
  }

  /** Why the cluster is not settled yet (same rules as SimCluster.unsettledReason), or undefined. */
  async unsettledReason(): Promise<string | undefined> {
    for (const p of await this.backend.list('pods')) {
      const ready = ((p.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
      if (!ready || p.metadata.deletionTimestamp) {
        const why = p.metadata.deletionTimestamp ? 'terminating' : `${p.status?.phase ?? 'Pending'}${p.spec?.nodeName ? ` on ${p.spec.nodeName as string}` : ' (unscheduled)'}`;
        return `pod ${p.metadata.namespace}/${p.metadata.name} is ${why}`;
      }
    }
    for (const ds of await this.backend.list('apps/daemonsets')) {
      const s = ds.status ?? {};
      // kube-apiserver omits zero-valued omitempty counters (updatedNumberScheduled, numberAvailable).
      const desired = s.desiredNumberScheduled ?? 0;
      if ((s.observedGeneration ?? 0) < (ds.metadata.generation ?? 1) || (s.updatedNumberScheduled ?? 0) !== desired || (s.numberAvailable ?? 0) !== desired) {
        return `daemonset ${ds.metadata.namespace}/${ds.metadata.name} is rolling out`;
      }
    }
    for (const d of await this.backend.list('apps/deployments')) {
      const s = d.status ?? {};
      const want = (d.spec?.replicas as number | undefined) ?? 1;
      if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 1) || (s.updatedReplicas ?? 0) < want || (s.availableReplicas ?? 0) < want || (s.replicas ?? 0) > want) {
        return `deployment ${d.metadata.namespace}/${d.metadata.name} is rolling out`;
      }
    }
    return undefined;
  }

  /** Nodes Ready=True and free of the not-ready/unreachable taints (the node lifecycle controller removes them). */
  async waitForNodesReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodes = await this.backend.list('nodes');
      let why = '';
      for (const name of this.nodeNames) {
        const n = nodes.find((x) => x.metadata.name === name);
        const ready = ((n?.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
        const taints = ((n?.spec?.taints ?? []) as { key: string }[]).filter((t) => NOT_READY_TAINTS.has(t.key)).map((t) => t.key);
        if (!n) why = `node ${name} is not registered`;
        else if (!ready) why = `node ${name} is not Ready`;
        else if (taints.length) why = `node ${name} still has ${taints.join(', ')}`;
        if (why) break;
      }
      if (!why) return;
      if (Date.now() > deadline) throw new Error(`nodes not ready within ${timeoutMs} ms: ${why}\n--- kube-controller-manager log tail:\n${this.controlPlane.logTail('kube-controller-manager', 20)}`);
      await sleep(200);
    }
  }

  /** Applies objects Namespaces first, then CRDs, then the rest; waits for each namespace's default ServiceAccount and each CRD's type. */
  async applyInOrder(objects: Scenario['objects']): Promise<void> {
    const rank = (o: KubeObject) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
    const sorted = [...objects].sort((a, b) => rank(a.object) - rank(b.object));
    for (const { object, documentIndex, source } of sorted) {
      try {
        await this.http.apply(object);
      } catch (e) {
        throw new Error(`${source}: document ${documentIndex + 1} (${object.kind} ${object.metadata.name}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (object.kind === 'Namespace') await this.waitForServiceAccount(object.metadata.name ?? '');
      if (object.kind === 'CustomResourceDefinition') await this.waitForCrd(object);
    }
  }

  /** ServiceAccount admission refuses pods until the namespace's "default" ServiceAccount exists (KCM creates it). */
  async waitForServiceAccount(namespace: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.backend.get('serviceaccounts', namespace, 'default'))) {
      if (Date.now() > deadline) throw new Error(`ServiceAccount ${namespace}/default not created within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  private async waitForCrd(crd: KubeObject, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const versions = (crd.spec?.versions ?? []) as { name: string; served?: boolean }[];
    const version = versions.find((v) => v.served !== false)?.name ?? '';
    for (;;) {
      const t = await this.http.lookupKind(`${crd.spec?.group as string}/${version}`, crd.spec?.names?.kind as string).catch(() => undefined);
      if (t) return;
      if (Date.now() > deadline) throw new Error(`CustomResourceDefinition ${crd.metadata.name} not served within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  // The simulator reads live settings (firewall, faults, timings) from ConfigMap kube-system/cni-migration-sim.
  private async watchLiveSettings(): Promise<void> {
    const { namespace, name, key } = LIVE_SETTINGS_CONFIGMAP;
    const apply = (cm: KubeObject | undefined) => {
      if (!cm) {
        this.liveSettingsError = undefined;
        this.settings.applyLive(this.baseSettings, {});
        return;
      }
      try {
        const raw: unknown = parseYaml(String(cm.data?.[key] ?? '{}'), { version: '1.1' }) ?? {};
        this.settings.applyLive(this.baseSettings, LiveSettingsSchema.parse(raw));
        this.liveSettingsError = undefined;
      } catch (e) {
        this.liveSettingsError = `ConfigMap ${namespace}/${name} key ${key}: ${e instanceof Error ? e.message : String(e)}`;
        this.log(this.liveSettingsError);
      }
    };
    this.stopLiveSettings = await this.backend.watch('configmaps', (ev) => {
      if (ev.object.metadata.namespace !== namespace || ev.object.metadata.name !== name) return;
      apply(ev.type === 'DELETED' ? undefined : ev.object);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
