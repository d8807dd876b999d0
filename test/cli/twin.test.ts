import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT, runCliProcess } from '../support/cliProcess.js';
import { KUBECTL, kubectl } from '../support/kubectl.js';
import { startSimWithKubeconfig } from '../support/simWithKubeconfig.js';

// `twin` as a user runs it: read a live (simulated) cluster, write a scenario, and rehearse on it.
// The twin must carry no secret — the Secret, a workload's environment value, another
// application's ConfigMap data — and must replay with the same plan as the cluster it twins.

type Sim = Awaited<ReturnType<typeof startSimWithKubeconfig>>;

describe.skipIf(!KUBECTL)('cni-migration twin', () => {
  const sims: Sim[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });
  const start = async (scenarioFile: string) => {
    const s = await startSimWithKubeconfig({ scenarioFile });
    sims.push(s);
    return s;
  };

  it('twins a cluster without its secrets, and the twin replays with the same plan', { timeout: 180_000 }, async () => {
    const original = await start(join(ROOT, 'scenarios', 'canal-policies.yaml'));
    const k = (...args: string[]) => kubectl(original.kubeconfig, args);
    expect((await k('-n', 'shop', 'create', 'secret', 'generic', 'db-pass', '--from-literal=password=hunter2-secret')).code).toBe(0);
    expect((await k('-n', 'shop', 'create', 'configmap', 'app-settings', '--from-literal=dsn=postgres://admin:cm-secret@db')).code).toBe(0);
    expect((await k('-n', 'shop', 'set', 'env', 'deployment/web', 'API_TOKEN=env-secret-123')).code).toBe(0);
    expect((await k('-n', 'shop', 'rollout', 'status', 'deployment/web', '--timeout=60s')).code).toBe(0);

    // The secrets are there to leak: the cluster shows them to a reader.
    expect((await k('-n', 'shop', 'get', 'deployment', 'web', '-o', 'yaml')).stdout).toContain('env-secret-123');
    expect((await k('-n', 'shop', 'get', 'configmap', 'app-settings', '-o', 'yaml')).stdout).toContain('cm-secret');

    const out = join(original.dir, 'twin.yaml');
    const r = await runCliProcess(['twin', '--out', out, '--kubeconfig', original.kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Twin written to .*twin\.yaml: 4 nodes, \d+ other objects \(source canal \(manifest, DaemonSet kube-system\/canal\)\)/);
    const text = readFileSync(out, 'utf8');
    for (const secret of ['hunter2-secret', 'cm-secret', 'env-secret-123', 'last-applied-configuration']) expect(text).not.toContain(secret);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata?: { name?: string; namespace?: string }; data?: Record<string, string>; spec?: any });
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    // Names kept, values emptied; the CNI's own configuration kept whole.
    expect(docs.find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'app-settings')?.data).toEqual({ dsn: '' });
    const web = docs.find((d) => d.kind === 'Deployment' && d.metadata?.name === 'web');
    expect(web?.spec.template.spec.containers[0].env).toContainEqual({ name: 'API_TOKEN', value: '' });
    expect(docs.find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'canal-config')?.data?.cni_network_config).toContain('"type": "calico"');
    expect(docs.filter((d) => d.kind === 'NetworkPolicy').map((d) => `${d.metadata?.namespace}/${d.metadata?.name}`).sort()).toEqual(['shop/db-from-web', 'shop/default-deny', 'shop/web-from-clients', 'storefront/client-egress']);

    const twin = await start(out);
    const plan = async (s: Sim) => {
      const p = await runCliProcess(['plan', '--steps', 'all', '-o', 'json', '--kubeconfig', s.kubeconfig]);
      expect(p.code, p.stderr).toBe(0);
      return JSON.parse(p.stdout) as unknown;
    };
    expect(await plan(twin)).toEqual(await plan(original));
    const detect = async (s: Sim) => JSON.parse((await runCliProcess(['detect', '-o', 'json', '--kubeconfig', s.kubeconfig])).stdout) as { kind: string; podCIDRs: { value: string[] }; confDir: { value: string } };
    const [a, b] = [await detect(original), await detect(twin)];
    expect([b.kind, b.podCIDRs.value, b.confDir.value]).toEqual([a.kind, a.podCIDRs.value, a.confDir.value]);
  });

  it('--scale keeps the control plane and spreads the kept nodes across zones, and the smaller twin rehearses a verified migration', { timeout: 240_000 }, async () => {
    const original = await start(join(ROOT, 'scenarios', 'canal-zones.yaml'));
    const out = join(original.dir, 'twin.yaml');
    const r = await runCliProcess(['twin', '--out', out, '--scale', '0.4', '--kubeconfig', original.kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('4 of 10 nodes kept (--scale 0.4): control-plane nodes first, then round-robin across zones');
    expect(r.stdout).toContain('replicas kept for workloads a PodDisruptionBudget guards (Deployment shop/web, StatefulSet shop/db)');
    const nodes = parseAllDocuments(readFileSync(out, 'utf8'))
      .map((d) => d.toJS() as { kind: string; metadata: { name: string; labels?: Record<string, string> } })
      .filter((d) => d.kind === 'Node');
    expect(nodes.map((n) => n.metadata.name)).toContain('cp-1');
    expect(new Set(nodes.map((n) => n.metadata.labels?.['topology.kubernetes.io/zone'])).size).toBe(3);
    const bad = await runCliProcess(['twin', '--out', out, '--scale', '2', '--kubeconfig', original.kubeconfig]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scale must be a number in (0, 1], got "2"');

    const demo = await runCliProcess(['demo', '--scenario', out, '--strategy', 'dual-overlay']);
    expect(demo.code, demo.stdout.slice(-2000)).toBe(0);
    expect(demo.stdout).toContain('every node migrated (4 nodes)');
  });
});
