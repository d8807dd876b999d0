/**
 * A simulated cluster with the probe manifest applied through the real client over HTTPS, and
 * helpers that wait (with deadlines) for what `check` would see.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectProbeStatuses } from '../../src/connectivity/collectProbeStatuses.js';
import { buildConnectivityMatrix, type ConnectivityMatrix } from '../../src/connectivity/connectivityMatrix.js';
import { probeManifests } from '../../src/connectivity/probeManifests.js';
import { openClusterFromText, type KubeCluster } from '../../src/kube/cluster.js';
import { applyManifests } from '../../src/ops/applyManifests.js';
import { Deadline } from '../../src/ops/deadline.js';
import { renderMatrixText } from '../../src/report/matrixText.js';
import { SimCluster, type SimClusterOptions } from '../../src/sim/simCluster.js';
import { SimHttp } from '../support/simHttp.js';

/** The probe namespace. */
export const NS = 'cni-migration-probe';

/** A running simulated cluster with probes deployed. */
export interface ProbedCluster {
  cluster: SimCluster;
  client: KubeCluster;
  http: SimHttp;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

/** Starts a cluster, applies the probe manifest with the product's client, waits until every pair is ok. */
export async function startProbedCluster(opts: SimClusterOptions = {}): Promise<ProbedCluster> {
  const cluster = await SimCluster.start({ nodes: 3, ...opts });
  const dir = mkdtempSync(join(tmpdir(), 'probe-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, cluster.kubeconfig(), { mode: 0o600 });
  const { client } = openClusterFromText(cluster.kubeconfig());
  const stop = async () => {
    client.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await cluster.waitUntilSettled();
    await applyManifests(client, probeManifests({ image: 'registry.example/cni-migration/probe-agent:test' }), { deadline: Deadline.in(30_000) });
    await cluster.waitUntilSettled();
  } catch (e) {
    await stop();
    throw e;
  }
  return { cluster, client, http: new SimHttp(cluster), kubeconfigPath, stop };
}

/** Collects and builds the matrix once, as `check` does. */
export async function checkOnce(client: KubeCluster): Promise<ConnectivityMatrix> {
  return buildConnectivityMatrix(await collectProbeStatuses(client, { timeoutMs: 5000 }));
}

/** Collects until the matrix satisfies `ok`; the error shows the last matrix. */
export async function waitForMatrix(client: KubeCluster, what: string, ok: (m: ConnectivityMatrix) => boolean, timeoutMs = 20_000): Promise<ConnectivityMatrix> {
  const deadline = Date.now() + timeoutMs;
  let last: ConnectivityMatrix | undefined;
  for (;;) {
    last = await checkOnce(client);
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last matrix:\n${renderMatrixText(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Blocks GENEVE (UDP 6081) between all nodes through the live settings ConfigMap. */
export async function blockGeneve(p: ProbedCluster): Promise<void> {
  await p.http.request('POST', '/api/v1/namespaces/kube-system/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cni-migration-sim' },
    data: { 'settings.yaml': 'firewall:\n  blocked:\n  - {protocol: udp, port: 6081}\n' },
  });
}

/** The probe pods on a node (names). */
export function probePodsOn(p: ProbedCluster, node: string): string[] {
  return p.cluster.store
    .list('pods', NS)
    .items.filter((x) => x.spec.nodeName === node)
    .map((x) => x.metadata.name!);
}
