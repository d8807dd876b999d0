/**
 * One surface for tests that must pass against both backends (DESIGN §5): the simulated cluster
 * (SimCluster, in-process) and a real control plane with simulated nodes (RealCluster, e2e). A
 * conformance test written against ClusterUnderTest runs unchanged on either; see
 * e2e/controlPlane.e2e.test.ts for the real one and startSimUnderTest() for the simulator.
 *
 * Everything is async and goes through the API (no store peeking), because the real cluster's
 * state lives in etcd. The model (ground truth, reachability, interfaces) is in-process for both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RealCluster, RealClusterOptions } from '../../e2e/harness/realCluster.js';
import type { NetworkModel } from '../../src/sim/model/networkModel.js';
import type { SimCluster, SimClusterOptions } from '../../src/sim/simCluster.js';
import type { SettingsHolder } from '../../src/sim/simSettings.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';

/** The REST client tests use (SimHttp and KubeHttp both have these methods). */
export interface ClusterHttp {
  // The REST boundary is untyped JSON.
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<any>;
  get(path: string): Promise<any>;
  mergePatch(path: string, body: unknown): Promise<any>;
  /** Server-side apply; errors carry `status` and the Status `body`. */
  apply(obj: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string }; [field: string]: unknown }, path: string): Promise<any>;
}

/** A served type, by apiVersion/kind. */
export interface ClusterType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** What a conformance test needs from a cluster, whichever backend runs it. */
export interface ClusterUnderTest {
  readonly backend: 'sim' | 'real';
  /** kubeconfig for the real kubectl and the CLI. */
  readonly kubeconfigPath: string;
  readonly http: ClusterHttp;
  /** The node/CNI model: groundTruth, canReach, podInterfaces, nodeState, registerPodHandler. */
  readonly model: NetworkModel;
  /** Simulation settings in force (live settings ConfigMap applied). */
  readonly settings: SettingsHolder;
  nodeNames(): string[];
  list(resource: string, namespace?: string): Promise<KubeObject[]>;
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** The type serving apiVersion/kind, or undefined (e.g. v1beta1 RBAC on a current server). */
  lookupKind(apiVersion: string, kind: string): Promise<ClusterType | undefined>;
  /** Every pod Running and Ready, every DaemonSet and Deployment rolled out. */
  waitUntilSettled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Which backend(s) an e2e file runs: E2E_BACKEND=real (default) | sim | both. */
export function backendsToRun(): ('real' | 'sim')[] {
  const v = process.env.E2E_BACKEND ?? 'real';
  return v === 'sim' ? ['sim'] : v === 'both' ? ['real', 'sim'] : ['real'];
}

/** Starts a real control plane with simulated nodes and wraps it. */
export async function startRealUnderTest(opts: RealClusterOptions = {}): Promise<ClusterUnderTest & { cluster: RealCluster }> {
  const { RealCluster } = await import('../../e2e/harness/realCluster.js');
  return realUnderTest(await RealCluster.start(opts));
}

/** Wraps a started RealCluster. */
export function realUnderTest(cluster: RealCluster): ClusterUnderTest & { cluster: RealCluster } {
  return {
    backend: 'real',
    cluster,
    kubeconfigPath: cluster.kubeconfigPath,
    http: {
      request: (m, p, b, ct) => cluster.http.request(m, p, b, ct),
      get: (p) => cluster.http.get(p),
      mergePatch: (p, b) => cluster.http.mergePatch(p, b),
      apply: (o, p) => cluster.http.apply(o, p),
    },
    model: cluster.model,
    settings: cluster.settings,
    nodeNames: () => [...cluster.nodeNames],
    list: (r, ns) => cluster.backend.list(r, ns),
    get: (r, ns, n) => cluster.backend.get(r, ns, n),
    lookupKind: (av, k) => cluster.http.lookupKind(av, k),
    waitUntilSettled: (ms) => cluster.waitUntilSettled(ms ?? 120_000),
    stop: () => cluster.stop(),
  };
}

/** Starts a simulated cluster (with a kubeconfig in a temp dir) and wraps it. */
export async function startSimUnderTest(opts: SimClusterOptions = {}): Promise<ClusterUnderTest & { cluster: SimCluster }> {
  const [{ SimCluster }, { SimHttp }] = await Promise.all([import('../../src/sim/simCluster.js'), import('./simHttp.js')]);
  const dir = mkdtempSync(join(tmpdir(), 'sim-under-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const cluster = await SimCluster.start({ ...opts, kubeconfigOut: opts.kubeconfigOut ?? kubeconfigPath });
  await cluster.waitUntilSettled();
  const http = new SimHttp(cluster);
  return {
    backend: 'sim',
    cluster,
    kubeconfigPath: opts.kubeconfigOut ?? kubeconfigPath,
    http,
    model: cluster.model,
    settings: cluster.settings,
    nodeNames: () => cluster.store.list('nodes').items.map((n) => n.metadata.name!),
    list: (r, ns) => Promise.resolve(cluster.store.list(r, ns).items),
    get: (r, ns, n) => Promise.resolve(cluster.store.get(r, ns, n)),
    lookupKind: (av, k) => {
      const t = cluster.registry.lookupKind(av, k);
      return Promise.resolve(t ? { group: t.group, version: t.version, plural: t.plural, kind: t.kind, namespaced: t.namespaced } : undefined);
    },
    waitUntilSettled: (ms) => cluster.waitUntilSettled(ms ?? 30_000),
    stop: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The URL path of an object of a served type. */
export function objectPath(t: ClusterType, namespace: string | undefined, name?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return `${base}${t.namespaced && namespace ? `/namespaces/${namespace}` : ''}/${t.plural}${name ? `/${name}` : ''}`;
}
