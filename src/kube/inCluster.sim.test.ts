import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startSimWithKubeconfig } from '../../test/support/simWithKubeconfig.js';
import { openCluster } from './cluster.js';

// The in-cluster path a Job takes (manifests/job): no kubeconfig anywhere, KUBERNETES_SERVICE_HOST
// and _PORT set, the service account's token and ca.crt in their directory. Against the simulated
// API server over HTTPS: the token file is what authenticates and the CA what verifies the server.

describe('in-cluster configuration against the simulated API server', () => {
  let sim: Awaited<ReturnType<typeof startSimWithKubeconfig>>;
  let dir: string;
  let env: Parameters<typeof openCluster>[2];
  let token: string;

  beforeAll(async () => {
    sim = await startSimWithKubeconfig({ nodes: 2 });
    const kc = parse(readFileSync(sim.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
    token = kc.users[0]!.user.token;
    const server = new URL(kc.clusters[0]!.cluster.server);
    dir = mkdtempSync(join(tmpdir(), 'cni-mig-incluster-'));
    const sa = join(dir, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), token);
    writeFileSync(join(sa, 'namespace'), 'cni-migration\n');
    writeFileSync(join(sa, 'ca.crt'), Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
    // No KUBECONFIG and an empty home: only the in-cluster files can configure the client.
    mkdirSync(join(dir, 'home'));
    env = { home: join(dir, 'home'), serviceHost: server.hostname, servicePort: server.port, serviceAccountDir: sa, cwd: dir };
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists nodes with the service account token, verifying the server with ca.crt, in the namespace file’s namespace', async () => {
    const { client, kubeconfig } = openCluster({}, {}, env);
    expect(kubeconfig.source.type).toBe('inCluster');
    expect(kubeconfig.namespace).toBe('cni-migration');
    expect((await client.listNodes()).map((n) => n.metadata.name).sort()).toEqual(['node-1', 'node-2']);
  });

  it('authenticates with the token file (a wrong one is refused), and refuses a server its CA did not sign', async () => {
    const sa = env!.serviceAccountDir!;
    const once = { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } };
    writeFileSync(join(sa, 'token'), 'not-the-token');
    try {
      await expect(openCluster({}, once, env).client.listNodes()).rejects.toThrow(/Unauthorized/);
    } finally {
      writeFileSync(join(sa, 'token'), token);
    }
    expect(await openCluster({}, once, env).client.listNodes()).toHaveLength(2);

    const other = join(dir, 'other-ca');
    mkdirSync(other);
    writeFileSync(join(other, 'token'), token);
    // A CA of another cluster (the simulator makes a fresh one per start).
    const second = await startSimWithKubeconfig({ nodes: 1 });
    try {
      const kc2 = parse(readFileSync(second.kubeconfig, 'utf8')) as { clusters: { cluster: { 'certificate-authority-data': string } }[] };
      writeFileSync(join(other, 'ca.crt'), Buffer.from(kc2.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
    } finally {
      await second.stop();
    }
    const { client: wrongCa } = openCluster({}, once, { ...env, serviceAccountDir: other });
    await expect(wrongCa.listNodes()).rejects.toThrow(/certificate|self[- ]signed|verify/i);
  });
});
