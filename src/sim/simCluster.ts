import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './api/apiError.js';
import { SimApiServer, type ApiResponse, type ExtraRoute } from './api/apiServer.js';
import { generateServingCert, type ServingCert } from './api/servingCert.js';
import { applyDefaults } from './api/defaults.js';
import { registerCrd } from './api/crdTypes.js';
import { resourceKey, ResourceRegistry } from './api/resourceRegistry.js';
import { validateObject } from './api/validation.js';
import { startControllers } from './controllers/controllerManager.js';
import { decideEviction, recordEviction } from './controllers/disruptionController.js';
import { orphanDependents } from './controllers/garbageCollector.js';
import { InProcessBackend } from './model/clusterBackend.js';
import { NetworkModel } from './model/networkModel.js';
import { startSimProbes, type SimProbeOptions, type SimProbeRunner } from './probes/simProbeRunner.js';
import { loadScenarioFile, parseScenario, type Scenario } from './scenario/scenarioLoader.js';
import { LIVE_SETTINGS_CONFIGMAP, LiveSettingsSchema, SettingsHolder, type SimulationSettings } from './simSettings.js';
import type { KubeObject } from './store/kubeObject.js';
import { ObjectStore } from './store/objectStore.js';
import { storeInfoFrom } from './store/storeInfo.js';
import { parseManifestDocuments } from '../kube/manifestParser.js';

/** How to start a simulated cluster. */
export interface SimClusterOptions {
  /** Node count when the scenario sets no nodes (neither Simulation.nodes nor Node objects). */
  nodes?: number | undefined;
  /** Scenario file (multi-document YAML); the built-in Canal cluster when omitted. */
  scenarioFile?: string;
  /** Scenario text, for tests. */
  scenarioText?: string;
  /** Port to listen on (0 = any free port). */
  port?: number;
  /** Where to write a kubeconfig for this cluster. */
  kubeconfigOut?: string;
  /** Extra settings overrides (tests). */
  settings?: Partial<SimulationSettings>;
  /** How the simulated probe agents run (src/sim/probes). */
  probes?: SimProbeOptions;
  log?: (line: string) => void;
}

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONTEXT = 'cni-migration-sim';
/**
 * The built-in cluster (no scenario given): the original tool's Canal cluster, whose kubelets read
 * CNI configuration from /etc/kubernetes/cni/net.d rather than the CRI default.
 */
export const BUILTIN_SCENARIO = ['apiVersion: sim.cni-migration.dev/v1alpha1', 'kind: Simulation', 'cniConfDir: /etc/kubernetes/cni/net.d', ''].join('\n');

/**
 * A whole simulated cluster in this process: object store, API server on 127.0.0.1, controllers,
 * and the node/CNI model acting as every node's kubelet.
 */
/** The simulated cluster's Service range (ClusterIPs come from 10.96.0.10 on). */
const SERVICE_CIDR = '10.96.0.0/12';

export class SimCluster {
  private stopControllers: (() => void) | undefined;
  private stopProbes: (() => void) | undefined;
  /** The simulated probe agents (tests and debugging). */
  probes: SimProbeRunner | undefined;
  private stopLiveSettings: (() => void) | undefined;
  liveSettingsError: string | undefined;

  private constructor(
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
    readonly settings: SettingsHolder,
    readonly baseSettings: SimulationSettings,
    readonly model: NetworkModel,
    readonly server: SimApiServer,
    readonly url: string,
    readonly token: string,
    readonly kubeconfigPath: string | undefined,
    /** PEM of the API server's self-signed certificate (trust it to connect). */
    readonly caCert: string,
  ) {}

  /** Starts a cluster and waits until its nodes are registered and its objects created. */
  static async start(opts: SimClusterOptions = {}): Promise<SimCluster> {
    const log = opts.log ?? (() => {});
    const overrides: Partial<SimulationSettings> = { ...(opts.settings ?? {}) };
    const scenarioOpts = { defaultNodes: opts.nodes };
    const scenario: Scenario = opts.scenarioFile
      ? loadScenarioFile(opts.scenarioFile, overrides, scenarioOpts)
      : parseScenario(opts.scenarioText ?? BUILTIN_SCENARIO, opts.scenarioText !== undefined ? '<scenario text>' : '<built-in scenario>', overrides, scenarioOpts);
    for (const n of scenario.notes) log(`scenario: ${n}`);
    const registry = new ResourceRegistry();
    const store = new ObjectStore(storeInfoFrom(registry));
    const settings = new SettingsHolder(scenario.settings);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      createObject(store, registry, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    // What kube-apiserver creates at start (--service-cluster-ip-range 10.96.0.0/12, the kubeadm default).
    createObject(store, registry, { apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: 'kubernetes' }, spec: { cidrs: [SERVICE_CIDR] } });
    createObject(store, registry, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    });
    const nodeNames = scenario.settings.nodes;
    // The scenario's Node objects exist before their kubelets register (which keeps their labels,
    // taints and spec, and posts their status), as a node object created ahead of a kubelet does.
    applyInOrder(store, registry, scenario.objects.filter((o) => o.object.kind === 'Node'));
    const model = new NetworkModel(new InProcessBackend(store, registry), settings, { nodeNames });
    const token = randomBytes(24).toString('hex');
    const tls: ServingCert = await generateServingCert();
    const server = new SimApiServer({
      tls,
      store,
      registry,
      settings,
      token,
      log,
      hooks: {
        decideEviction: (pod) => decideEviction(store, pod),
        recordEviction: (pdb, podName) => recordEviction(store, pdb, podName),
        orphanDependents: (uid) => orphanDependents(store, uid),
        proxyToPod: (ns, name, port, req) => model.proxy(ns, name, port, req),
        podLog: (ns, name) => `simulated container log of ${ns}/${name}\n`,
      },
    });
    const controllers = startControllers({ store, registry, settings, log });
    await model.start();
    labelControlPlaneNodes(store, nodeNames, scenario.settings.controlPlaneNodes);
    const objects = [...(scenario.settings.defaultCluster ? defaultClusterObjects(scenario.settings, nodeNames.length) : []), ...scenario.objects.filter((o) => o.object.kind !== 'Node')];
    applyInOrder(store, registry, objects);
    const url = await server.listen(opts.port ?? 0);
    const kubeconfigPath = opts.kubeconfigOut;
    if (kubeconfigPath) writeKubeconfig(kubeconfigPath, url, token, tls.cert);
    const cluster = new SimCluster(store, registry, settings, scenario.settings, model, server, url, token, kubeconfigPath, tls.cert);
    cluster.stopControllers = () => controllers.stop();
    const probes = startSimProbes(store, model, { log, ...opts.probes });
    cluster.probes = probes;
    cluster.stopProbes = () => probes.stop();
    cluster.watchLiveSettings();
    server.addRoute(cluster.debugRoutes());
    return cluster;
  }

  private stopped = false;

  /** A kubeconfig (YAML) for this cluster. */
  kubeconfig(): string {
    return kubeconfigYaml(this.url, this.token, this.caCert);
  }

  /** Stops the API server, controllers and model. */
  async stop(): Promise<void> {
    this.stopLiveSettings?.();
    this.stopControllers?.();
    this.stopProbes?.();
    this.model.stop();
    this.stopped = true;
    await this.server.close();
  }

  /** Restarts the API server (state kept, connections cut, refused for `downMs`); not once stopped. */
  async restartApiServer(downMs: number): Promise<void> {
    if (this.stopped) return;
    await this.server.restart(downMs);
    // Stopped meanwhile: the restart must not leave a listener behind.
    if (this.stopped) await this.server.close();
  }

  /** Waits until every pod is Running and Ready and every DaemonSet/Deployment has rolled out. */
  async waitUntilSettled(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const problem = this.unsettledReason();
      if (!problem) return;
      if (Date.now() > deadline) throw new Error(`simulated cluster did not settle within ${timeoutMs} ms: ${problem}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Why the cluster is not settled yet, or undefined when it is. */
  unsettledReason(): string | undefined {
    for (const p of this.store.peekAll('pods')) {
      const ready = (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      if (!ready || p.metadata.deletionTimestamp) return `pod ${p.metadata.namespace}/${p.metadata.name} is ${p.metadata.deletionTimestamp ? 'terminating' : (p.status?.phase ?? 'Pending')}`;
    }
    for (const ds of this.store.peekAll('apps/daemonsets')) {
      const s = ds.status ?? {};
      if ((s.observedGeneration ?? 0) < (ds.metadata.generation ?? 1) || s.updatedNumberScheduled !== s.desiredNumberScheduled || s.numberAvailable !== s.desiredNumberScheduled) {
        return `daemonset ${ds.metadata.namespace}/${ds.metadata.name} is rolling out`;
      }
    }
    for (const sts of this.store.peekAll('apps/statefulsets')) {
      const s = sts.status ?? {};
      const want = sts.spec?.replicas ?? 1;
      if ((s.observedGeneration ?? 0) < (sts.metadata.generation ?? 1) || (s.readyReplicas ?? 0) < want || (s.replicas ?? 0) > want) {
        return `statefulset ${sts.metadata.namespace}/${sts.metadata.name} is rolling out`;
      }
    }
    for (const d of this.store.peekAll('apps/deployments')) {
      const s = d.status ?? {};
      if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 1) || (s.updatedReplicas ?? 0) < d.spec.replicas || (s.availableReplicas ?? 0) < d.spec.replicas || (s.replicas ?? 0) > d.spec.replicas) {
        return `deployment ${d.metadata.namespace}/${d.metadata.name} is rolling out`;
      }
    }
    return undefined;
  }

  private watchLiveSettings(): void {
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
      }
    };
    apply(this.store.get('configmaps', namespace, name));
    this.stopLiveSettings = this.store.watch({ resource: 'configmaps', namespace }, (ev) => {
      if (ev.object.metadata.name !== name) return;
      apply(ev.type === 'DELETED' ? undefined : ev.object);
    });
  }

  private debugRoutes(): ExtraRoute {
    return (path, req): ApiResponse | undefined => {
      if (path === '/sim/v1/groundtruth') {
        return { status: 200, body: { current: this.model.groundTruth.current(), violations: this.model.groundTruth.violations(), entries: this.model.groundTruth.entries() } };
      }
      if (path === '/sim/v1/settings') return { status: 200, body: { settings: this.settings.get(), liveSettingsError: this.liveSettingsError ?? null } };
      if (path === '/sim/v1/requests') return { status: 200, body: Object.fromEntries(this.server.requestCounts) };
      if (path === '/sim/v1/stats') return { status: 200, body: this.server.requestStats.summary() };
      if (path === '/sim/v1/faults') return { status: 200, body: Object.fromEntries(this.server.faultCounts) };
      if (path === '/sim/v1/restart-api' && req.method === 'POST') {
        const downMs = Math.min(60_000, Math.max(0, Number(req.query.get('downMs') ?? '1000') || 0));
        // After this answer is on its way: the restart cuts every connection, this one included.
        setTimeout(() => void this.restartApiServer(downMs), 20);
        return { status: 202, body: { restarting: true, downMs } };
      }
      const m = /^\/sim\/v1\/nodes\/([^/]+)$/.exec(path);
      if (m) return { status: 200, body: this.model.nodeState(decodeURIComponent(m[1]!)) ?? null };
      if (path === '/sim/v1/reach') {
        const from = req.query.get('from') ?? '';
        const [ns, pod] = from.split('/');
        return { status: 200, body: this.model.canReach(ns ?? '', pod ?? '', req.query.get('to') ?? '') };
      }
      return undefined;
    };
  }
}

function labelControlPlaneNodes(store: ObjectStore, names: string[], count: number): void {
  for (const name of names.slice(0, count)) {
    store.mutate('nodes', undefined, name, (n) => {
      n.metadata.labels = { ...(n.metadata.labels ?? {}), 'node-role.kubernetes.io/control-plane': '' };
    });
  }
}

/** The built-in Canal cluster's objects (manifests/sim), for the simulator and the e2e harness. */
export function defaultClusterObjects(s: SimulationSettings, nodeCount: number): Scenario['objects'] {
  const out: Scenario['objects'] = [];
  for (const file of ['canal.yaml', 'control-plane.yaml', 'sample-workload.yaml']) {
    const path = join(PACKAGE_ROOT, 'manifests', 'sim', file);
    const text = readFileSync(path, 'utf8')
      .replaceAll('__CNI_CONF_DIR__', s.cniConfDir)
      .replaceAll('__WEB_REPLICAS__', String(Math.max(2, nodeCount)));
    for (const d of parseManifestDocuments(text, path)) out.push({ object: d.value as unknown as KubeObject, documentIndex: d.index, source: path });
  }
  return out;
}

/** Creates objects Namespaces first, then CRDs, then the rest, so references resolve. */
function applyInOrder(store: ObjectStore, registry: ResourceRegistry, objects: Scenario['objects']): void {
  const rank = (o: KubeObject) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
  const sorted = [...objects].sort((a, b) => rank(a.object) - rank(b.object));
  for (const { object, documentIndex, source } of sorted) {
    try {
      createObject(store, registry, object);
    } catch (e) {
      const why = e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
      throw new Error(`${source}: document ${documentIndex + 1} (${object.kind} ${object.metadata.name}): ${why}`, { cause: e });
    }
  }
}

function createObject(store: ObjectStore, registry: ResourceRegistry, input: KubeObject): KubeObject {
  const obj = structuredClone(input);
  const type = registry.lookupKind(obj.apiVersion, obj.kind);
  if (!type) throw new ApiError(404, 'NotFound', `no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
  if (type.namespaced) obj.metadata.namespace ??= 'default';
  if (type.namespaced && !store.get('namespaces', undefined, obj.metadata.namespace!)) {
    throw new ApiError(404, 'NotFound', `namespaces "${obj.metadata.namespace}" not found`);
  }
  validateObject(obj, type, { strict: true });
  applyDefaults(obj, { creating: true });
  const key = resourceKey(type.group, type.plural);
  const existing = store.get(key, obj.metadata.namespace, obj.metadata.name ?? '');
  const stored = existing ? store.update(key, { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion } }) : store.create(key, obj);
  return type.kind === 'CustomResourceDefinition' ? registerCrd(store, registry, stored) : stored;
}

/** kubeconfig YAML for a simulated cluster at url with a bearer token. */
export function kubeconfigYaml(url: string, token: string, caCert: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${CONTEXT}`,
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${Buffer.from(caCert).toString('base64')}`,
    'users:',
    `- name: ${CONTEXT}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${CONTEXT}`,
    '  context:',
    `    cluster: ${CONTEXT}`,
    `    user: ${CONTEXT}`,
    '    namespace: default',
    `current-context: ${CONTEXT}`,
    '',
  ].join('\n');
}

function writeKubeconfig(path: string, url: string, token: string, caCert: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, kubeconfigYaml(url, token, caCert), { mode: 0o600 });
}
