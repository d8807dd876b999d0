import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { E2E_ENGINE_CONFIG, e2eLog } from './harness/engineSettings.js';
import { openCluster, type KubeCluster } from '../src/kube/cluster.js';
import { loadManifestBundles } from '../src/migration/manifestBundles.js';
import type { MigrationEvent } from '../src/migration/migrationEvents.js';
import { verifyMigrationOutcome } from '../src/migration/outcomeCheck.js';
import { PreflightRefusedError } from '../src/migration/preflightChecks.js';
import { createProbeGate } from '../src/migration/probeConnectivityGate.js';
import { planMigration, prepareMigration, runMigration } from '../src/migration/runMigration.js';
import { clusterPreflight } from '../src/preflight/clusterPreflight.js';
import { startRealUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';

// Least privilege against a kube-apiserver that enforces RBAC: the tool runs with a
// ServiceAccount token bound only to manifests/rbac/cni-migration.yaml. A whole migration must
// succeed with it, and a role missing one verb must be caught by the preflight, before any write.

const ROOT = join(import.meta.dirname, '..');
const SA = { namespace: 'kube-system', name: 'cni-migration-operator' };

const log = e2eLog;
const config = E2E_ENGINE_CONFIG;

interface Role {
  [field: string]: unknown;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

function shippedRole(): Role {
  return parseAllDocuments(readFileSync(join(ROOT, 'manifests', 'rbac', 'cni-migration.yaml'), 'utf8'))[0]!.toJS() as Role;
}

/** Binds the ServiceAccount to `role` and writes a kubeconfig that authenticates as it with a fresh token. */
async function restrictedKubeconfig(cluster: ClusterUnderTest, role: Role): Promise<string> {
  const http = cluster.http;
  await http.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: SA }, `/api/v1/namespaces/${SA.namespace}/serviceaccounts/${SA.name}`);
  await http.apply(role, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role.metadata.name}`);
  await http.apply(
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `cni-migration-operator-${role.metadata.name}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name }, subjects: [{ kind: 'ServiceAccount', ...SA }] },
    // roleRef is immutable: one binding per role (the full role grants all the weaker one does).
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cni-migration-operator-${role.metadata.name}`,
  );
  const tr = await http.request('POST', `/api/v1/namespaces/${SA.namespace}/serviceaccounts/${SA.name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  const admin = parseYaml(readFileSync(cluster.kubeconfigPath, 'utf8')) as { clusters: unknown[]; contexts: { name: string; context: { cluster: string } }[] };
  const kc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: admin.clusters,
    users: [{ name: 'operator', user: { token: (tr as { status: { token: string } }).status.token } }],
    contexts: [{ name: 'operator', context: { cluster: admin.contexts[0]!.context.cluster, user: 'operator' } }],
    'current-context': 'operator',
  };
  const path = join(dirname(cluster.kubeconfigPath), `operator-${role.metadata.name}.kubeconfig`);
  writeFileSync(path, stringify(kc), { mode: 0o600 });
  return path;
}

describe('least privilege on the real control plane (RBAC enforced)', () => {
  let cluster: ClusterUnderTest | undefined;
  const clients: KubeCluster[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cluster?.stop();
    cluster = undefined;
  });

  it('a role missing one verb is refused by the preflight naming it; with manifests/rbac the whole migration runs and is verified', async () => {
    cluster = await startRealUnderTest({ nodes: 3, log });
    const render = (source: Parameters<typeof loadManifestBundles>[2], s: { name: string }) => loadManifestBundles(config, undefined, source, (w) => log(`manifests: ${w}`), s.name);

    // Negative control: the shipped role without pods/eviction.
    const full = shippedRole();
    const lacking: Role = { ...full, metadata: { name: 'cni-migration-no-eviction' }, rules: full.rules.filter((r) => !r.resources.includes('pods/eviction')) };
    const weak = openCluster({ kubeconfig: await restrictedKubeconfig(cluster, lacking) }).client;
    clients.push(weak);
    const weakPrepared = await prepareMigration(weak, config, { render });
    const { plan } = await planMigration(weak, weakPrepared, { steps: [0, 1, 2, 3, 4, 5] });
    const checks = await clusterPreflight(weak, weakPrepared, plan);
    const access = checks.find((c) => c.name === 'permissions for every action');
    expect(access?.verdict).toBe('fail');
    expect(access?.detail).toBe('not allowed: create pods/eviction (evict pods (drain))');
    const events: MigrationEvent[] = [];
    const refused = await runMigration({ client: weak, config, prepared: weakPrepared, selection: { steps: [0, 1, 2, 3, 4, 5] }, dryRun: false, gate: () => createProbeGate(weak, config), events: (e) => events.push(e), pollIntervalMs: 100, resumeCommand: 'test' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PreflightRefusedError);
    expect(events.some((e) => e.type === 'action')).toBe(false);
    expect(await cluster.get('configmaps', 'kube-system', 'cni-migration')).toBeUndefined();

    // The shipped role: every check passes that concerns permissions, and the migration runs.
    const client = openCluster({ kubeconfig: await restrictedKubeconfig(cluster, full) }).client;
    clients.push(client);
    const prepared = await prepareMigration(client, config, { render });
    const t = performance.now();
    await runMigration({
      client,
      config,
      prepared,
      selection: { steps: [0, 1, 2, 3, 4, 5] },
      dryRun: false,
      gate: () => createProbeGate(client, config),
      events: (e) => log(`engine: ${JSON.stringify(e)}`),
      pollIntervalMs: 100,
      resumeCommand: 'test',
    });
    log(`steps 0–5 as the ServiceAccount: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const admin = openCluster({ kubeconfig: cluster.kubeconfigPath }).client;
    clients.push(admin);
    const outcome = await verifyMigrationOutcome(admin, await prepareMigration(admin, config, { render }), cluster.model.groundTruth.violations());
    expect(outcome.ok, outcome.summary).toBe(true);
    expect(cluster.model.groundTruth.violations()).toEqual([]);
  });

  it('the dual-overlay strategy runs as the same ServiceAccount, bound only to manifests/rbac', async () => {
    cluster = await startRealUnderTest({ nodes: 3, log });
    const render = (source: Parameters<typeof loadManifestBundles>[2], s: { name: string }) => loadManifestBundles(config, undefined, source, (w) => log(`manifests: ${w}`), s.name);
    const client = openCluster({ kubeconfig: await restrictedKubeconfig(cluster, shippedRole()) }).client;
    clients.push(client);
    const prepared = await prepareMigration(client, config, { strategy: 'dual-overlay', render });
    await runMigration({ client, config, prepared, selection: { steps: prepared.strategy.steps.map((s) => s.id) }, dryRun: false, gate: () => createProbeGate(client, config), events: (e) => log(`engine: ${JSON.stringify(e)}`), pollIntervalMs: 100, resumeCommand: 'test' });
    const admin = openCluster({ kubeconfig: cluster.kubeconfigPath }).client;
    clients.push(admin);
    const outcome = await verifyMigrationOutcome(admin, await prepareMigration(admin, config, { strategy: 'dual-overlay', render }), cluster.model.groundTruth.violations());
    expect(outcome.ok, outcome.summary).toBe(true);
    expect(cluster.model.groundTruth.violations()).toEqual([]);
  });
});
