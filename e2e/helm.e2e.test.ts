import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealUnderTest, startSimUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';
import { KUBECTL, kubectl } from '../test/support/kubectl.js';
import { ROOT } from '../test/support/cliProcess.js';

// Helm, the other client users bring (they install Cilium with it): a Helm built from its Go
// module (e2e/helm/build.sh) installs, upgrades, rolls back and uninstalls a small chart of our
// own (e2e/helm/chart) against the simulated API server, and — the reference — against the real
// control plane. Helm sends protobuf DeleteOptions when it deletes (uninstall's release Secrets,
// an upgrade's dropped objects); the simulator once refused them with 415.

const HELM_DIR = join(ROOT, 'e2e', 'helm');
const HELM = join(HELM_DIR, 'bin', 'helm');
const log = (line: string) => {
  if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[e2e] ${line}\n`);
};

interface Run {
  code: number;
  out: string;
}

describe.skipIf(!KUBECTL).each(['sim', 'real'] as const)('helm against the %s API server', (backend) => {
  let c: ClusterUnderTest;
  let home: string;
  const helm = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const env = { ...process.env, KUBECONFIG: c.kubeconfigPath, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
      execFile(HELM, args, { env, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }));
    });
  const getJson = async (...args: string[]): Promise<any> => {
    const r = await kubectl(c.kubeconfigPath, ['get', ...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  // The real controller-manager publishes kube-root-ca.crt in every namespace; the simulator does
  // not (e2e/DIFFERENCES.md C4), and Helm has nothing to do with it.
  const names = async (kinds: string) =>
    ((await getJson(kinds, '-n', 'apps')).items as { kind: string; metadata: { name: string } }[])
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .filter((n) => n !== 'ConfigMap/kube-root-ca.crt')
      .sort();

  beforeAll(async () => {
    const b = spawnSync(join(HELM_DIR, 'build.sh'), [], { encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`e2e/helm/build.sh failed:\n${`${b.stdout}${b.stderr}`.split('\n').slice(-30).join('\n')}`);
    log(`helm build: ${b.stdout.trim().split('\n').pop()}`);
    home = mkdtempSync(join(tmpdir(), 'e2e-helm-'));
    c = backend === 'real' ? await startRealUnderTest({ nodes: 2, log }) : await startSimUnderTest({ nodes: 2 });
  });

  afterAll(async () => {
    await c?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('installs, upgrades (dropping an object), rolls back and uninstalls a chart, waiting on readiness each time', async () => {
    const chart = join(HELM_DIR, 'chart');
    const install = await helm('install', 'echo', chart, '-n', 'apps', '--create-namespace', '--wait', '--timeout', '90s');
    expect(install.code, install.out).toBe(0);
    expect(install.out).toContain('STATUS: deployed');
    let deploy = await getJson('deployment', 'echo-echo', '-n', 'apps');
    expect(deploy.status.readyReplicas).toBe(2);
    expect((await getJson('configmap', 'echo-echo', '-n', 'apps')).data).toEqual({ message: 'hello' });
    expect(await names('pdb')).toEqual(['PodDisruptionBudget/echo-echo']);
    // Helm keeps each revision in a Secret it writes with its typed (protobuf) client.
    const releases = await getJson('secrets', '-n', 'apps', '-l', 'owner=helm,name=echo');
    expect(releases.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual(['sh.helm.release.v1.echo.v1']);

    const upgrade = await helm('upgrade', 'echo', chart, '-n', 'apps', '--set', 'replicas=3', '--set', 'message=bye', '--set', 'pdb=false', '--wait', '--timeout', '90s');
    expect(upgrade.code, upgrade.out).toBe(0);
    deploy = await getJson('deployment', 'echo-echo', '-n', 'apps');
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.status.readyReplicas).toBe(3);
    expect((await getJson('configmap', 'echo-echo', '-n', 'apps')).data).toEqual({ message: 'bye' });
    expect(await names('pdb')).toEqual([]);

    const rollback = await helm('rollback', 'echo', '1', '-n', 'apps', '--wait', '--timeout', '90s');
    expect(rollback.code, rollback.out).toBe(0);
    deploy = await getJson('deployment', 'echo-echo', '-n', 'apps');
    expect(deploy.spec.replicas).toBe(2);
    expect((await getJson('configmap', 'echo-echo', '-n', 'apps')).data).toEqual({ message: 'hello' });
    expect(await names('pdb')).toEqual(['PodDisruptionBudget/echo-echo']);
    const history = await helm('history', 'echo', '-n', 'apps', '-o', 'json');
    expect(history.code, history.out).toBe(0);
    expect((JSON.parse(history.out) as { revision: number; status: string; description: string }[]).map((h) => `${h.revision} ${h.status} ${h.description}`)).toEqual([
      '1 superseded Install complete',
      '2 superseded Upgrade complete',
      '3 deployed Rollback to 1',
    ]);

    const uninstall = await helm('uninstall', 'echo', '-n', 'apps', '--wait', '--timeout', '90s');
    expect(uninstall.code, uninstall.out).toBe(0);
    expect(uninstall.out).toContain('release "echo" uninstalled');
    expect(await names('deployments,services,configmaps,pdb')).toEqual([]);
    expect((await getJson('secrets', '-n', 'apps', '-l', 'owner=helm')).items).toEqual([]);
    const list = await helm('list', '-A', '-q');
    expect(list.out.trim()).toBe('');
  });
});
