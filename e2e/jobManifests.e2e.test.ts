import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import { startRealUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';
import { KUBECTL, kubectl } from '../test/support/kubectl.js';
import { ROOT } from '../test/support/cliProcess.js';

// manifests/job as a user applies it, judged by a real kube-apiserver: the Job (podFailurePolicy
// and all) passes server-side validation, and the ServiceAccount it runs as holds exactly the
// least-privilege role — what the run needs, and no Secrets.

const JOB = join(ROOT, 'manifests', 'job', 'cni-migration-job.yaml');
const RBAC = join(ROOT, 'manifests', 'rbac', 'cni-migration.yaml');
const log = (line: string) => {
  if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[e2e] ${line}\n`);
};

describe.skipIf(!KUBECTL)('manifests/job against the real control plane', () => {
  let c: ClusterUnderTest;
  const k = (...args: string[]) => kubectl(c.kubeconfigPath, args);

  beforeAll(async () => {
    c = await startRealUnderTest({ nodes: 1, log });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('applies with the role, and its ServiceAccount may do what a run does and nothing it need not', async () => {
    const docs = parseAllDocuments(readFileSync(JOB, 'utf8')).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'ClusterRoleBinding', 'ConfigMap', 'Job']);
    expect((await k('apply', '-f', RBAC)).code).toBe(0);
    // A server-side dry run of namespaced objects needs their namespace to exist, as a real apply would create it first.
    expect((await k('create', 'namespace', 'cni-migration')).code).toBe(0);
    const dry = await k('apply', '--dry-run=server', '-f', JOB);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('job.batch/cni-migration created (server dry run)');
    const real = await k('apply', '-f', JOB);
    expect(real.code, real.stderr).toBe(0);
    // Its image cannot run on a simulated node: remove the Job once it is in.
    expect((await k('-n', 'cni-migration', 'delete', 'job', 'cni-migration', '--wait=false')).code).toBe(0);

    const as = ['--as', 'system:serviceaccount:cni-migration:cni-migration'];
    const can = async (...args: string[]) => (await k('auth', 'can-i', ...args, ...as)).stdout.trim();
    expect(await can('create', 'pods/eviction', '-n', 'shop')).toBe('yes');
    expect(await can('patch', 'nodes')).toBe('yes');
    expect(await can('get', 'pods/proxy', '-n', 'cni-migration-probe')).toBe('yes');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', 'kube-system')).toBe('yes');
    expect(await can('patch', 'configmaps', '-n', 'cni-migration')).toBe('yes');
    expect(await can('get', 'secrets', '-n', 'kube-system')).toBe('no');
    expect(await can('delete', 'nodes')).toBe('no');
  });
});
