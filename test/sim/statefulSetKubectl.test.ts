import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/simCluster.js';
import { KUBECTL, kubectl } from '../support/kubectl.js';

// Real kubectl reading a StatefulSet the simulated controller runs: rollout status, tables, revisions.
const MANIFEST = `
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: default
spec:
  clusterIP: None
  selector:
    app: db
  ports:
    - name: postgres
      port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: default
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
        - name: postgres
          image: postgres:16
          ports:
            - name: postgres
              containerPort: 5432
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 1Gi
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: db
  namespace: default
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: db
`;

describe.skipIf(!KUBECTL)('real kubectl and a simulated StatefulSet', () => {
  let cluster: SimCluster;
  let dir: string;
  let kc: string;
  const k = (...args: string[]) => kubectl(kc, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-sts-kubectl-'));
    kc = join(dir, 'kubeconfig');
    cluster = await SimCluster.start({ nodes: 3, kubeconfigOut: kc });
    await cluster.waitUntilSettled();
    writeFileSync(join(dir, 'db.yaml'), MANIFEST);
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rolls out, shows READY in kubectl get sts, and rolls a new image', async () => {
    const applied = await k('apply', '-f', join(dir, 'db.yaml'));
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('statefulset.apps/db created');

    const status = await k('rollout', 'status', 'statefulset/db', '--timeout=60s');
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');

    const get = await k('get', 'sts');
    expect(get.code).toBe(0);
    const [header, row] = get.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'READY', 'AGE']);
    expect(row).toMatch(/^db\s+3\/3\s+\d+s$/);
    const wide = await k('get', 'statefulset', 'db', '-o', 'wide');
    expect(wide.stdout.split('\n')[0]!.split(/\s+/)).toEqual(['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
    expect(wide.stdout).toMatch(/db\s+3\/3\s+\S+\s+postgres\s+postgres:16/);

    const pods = await k('get', 'pods', '-l', 'app=db', '-o', 'name');
    expect(pods.stdout.trim().split('\n').sort()).toEqual(['pod/db-0', 'pod/db-1', 'pod/db-2']);
    const pdb = await k('get', 'pdb', 'db', '-o', 'jsonpath={.status.disruptionsAllowed}');
    expect(pdb.stdout).toBe('1');

    expect((await k('set', 'image', 'statefulset/db', 'postgres=postgres:17')).code).toBe(0);
    const again = await k('rollout', 'status', 'statefulset/db', '--timeout=60s');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
    const images = cluster.store.list('pods', 'default').items.filter((p) => p.metadata.labels?.app === 'db').map((p) => p.spec.containers[0].image);
    expect(images).toEqual(['postgres:17', 'postgres:17', 'postgres:17']);

    const revs = await k('get', 'controllerrevisions', '-l', 'app=db');
    expect(revs.stdout.split('\n')[0]!.split(/\s+/)).toEqual(['NAME', 'CONTROLLER', 'REVISION', 'AGE']);
    expect(revs.stdout).toMatch(/db-\S+\s+statefulset\.apps\/db\s+1\s/);
    expect(revs.stdout).toMatch(/db-\S+\s+statefulset\.apps\/db\s+2\s/);
    const history = await k('rollout', 'history', 'statefulset/db');
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  });
});
