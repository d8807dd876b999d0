import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/configSchema.js';
import { makeDaemonSet, makeNode, makePdb, makePod } from '../ops/testing/builders.js';
import { accessCheck, budgetsCheck, clusterChecks, drainsCheck, localDataCheck, names, nodesCheck, resourcesCheck, singleReplicaCheck, versionCheck, webhooksCheck, type ClusterInventory } from './clusterChecks.js';

const config = ConfigSchema.parse({});
const rs = { kind: 'ReplicaSet', name: 'web-5d8' };

/** Two Ready nodes, a replicated web app behind a budget that allows one eviction. */
function inventory(extra: Partial<ClusterInventory> = {}): ClusterInventory {
  return {
    version: { major: '1', minor: '33', gitVersion: 'v1.33.2' },
    nodes: [makeNode('n1'), makeNode('n2')],
    pods: [makePod('web-a', { namespace: 'shop', node: 'n1', owner: rs, labels: { app: 'web' } }), makePod('web-b', { namespace: 'shop', node: 'n2', owner: rs, labels: { app: 'web' } }), makePod('canal-n1', { namespace: 'kube-system', node: 'n1', owner: { kind: 'DaemonSet', name: 'canal' } })],
    daemonSets: [makeDaemonSet('canal')],
    deployments: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 2 } }],
    statefulSets: [],
    pdbs: [makePdb('web', 'shop', { app: 'web' }, 1)],
    webhookConfigurations: [],
    persistentVolumeClaims: [],
    persistentVolumes: [],
    access: [{ need: { verb: 'patch', kind: { apiVersion: 'v1', kind: 'Node' }, why: 'label nodes' }, resource: 'nodes', allowed: true }],
    resources: [],
    ...extra,
  };
}

describe('cluster preflight rules', () => {
  it('a healthy cluster passes every rule', () => {
    const checks = clusterChecks(inventory(), config);
    expect(checks.map((c) => [c.name, c.verdict])).toEqual([
      ['two or more Ready nodes', 'pass'],
      ['Kubernetes version', 'pass'],
      ['permissions for every action', 'pass'],
      ['drains can move every pod', 'pass'],
      ['PodDisruptionBudgets allow drains', 'pass'],
      ['pods with data on their node', 'pass'],
      ['workloads with more than one replica', 'pass'],
      ['admission webhooks', 'pass'],
      ['preflightResources ready', 'pass'],
    ]);
  });

  it('one node fails; a NotReady node warns by name', () => {
    expect(nodesCheck(inventory({ nodes: [makeNode('solo')] }))[0]).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('the cluster has 1 node:') });
    const down = makeNode('n2');
    down.status = { conditions: [{ type: 'Ready', status: 'Unknown' }] };
    expect(nodesCheck(inventory({ nodes: [makeNode('n1'), down] }))[0]).toMatchObject({ verdict: 'warn', detail: '2 nodes, not Ready: n2 — their agents will not become ready and the run stops there' });
  });

  it('versions: below 1.21 fails (no policy/v1), below 1.30 warns, unknown warns', () => {
    expect(versionCheck(inventory({ version: { major: '1', minor: '20', gitVersion: 'v1.20.15' } }))[0]!.verdict).toBe('fail');
    expect(versionCheck(inventory({ version: { major: '1', minor: '28+', gitVersion: 'v1.28.9-eks' } }))[0]).toMatchObject({ verdict: 'warn', detail: 'v1.28.9-eks: older than the oldest Kubernetes Cilium 1.18 is tested with (1.30)' });
    expect(versionCheck(inventory({ version: undefined }))[0]!.verdict).toBe('warn');
  });

  it('a pod without a controller fails the drains, naming node and pod, unless drain.force; emptyDir pods warn', () => {
    const bare = makePod('debug', { namespace: 'default', node: 'n2' });
    const scratch = makePod('cache-0', { namespace: 'shop', node: 'n1', owner: rs, emptyDir: true });
    const inv = inventory({ pods: [...inventory().pods, bare, scratch] });
    expect(drainsCheck(inv, config)[0]).toMatchObject({ verdict: 'fail', detail: 'node n2: cannot delete Pods declare no controller (use --force to override): default/debug' });
    const forced = ConfigSchema.parse({ drain: { force: true } });
    expect(drainsCheck(inv, forced)[0]).toMatchObject({ verdict: 'warn', detail: 'deleting Pods with local storage: shop/cache-0; deleting Pods that declare no controller: default/debug' });
    const keepData = ConfigSchema.parse({ drain: { deleteEmptyDirData: false, force: true } });
    expect(drainsCheck(inv, keepData)[0]!.detail).toContain('node n1: cannot delete Pods with local storage (use --delete-emptydir-data to override): shop/cache-0');
  });

  it('pods with hostPath volumes or claims on local PersistentVolumes warn by name and node; DaemonSet pods and network volumes do not', () => {
    const withVolumes = (name: string, node: string, volumes: Record<string, unknown>[], owner = rs) => {
      const p = makePod(name, { namespace: 'shop', node, owner });
      p.spec!.volumes = volumes.map((v, i) => ({ name: `v${i}`, ...v }));
      return p;
    };
    const claim = (name: string, volumeName: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'shop' }, spec: { volumeName } });
    const pv = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec });
    const inv = inventory({
      pods: [
        ...inventory().pods,
        withVolumes('logs-a', 'n1', [{ hostPath: { path: '/var/log/app' } }]),
        withVolumes('db-0', 'n2', [{ persistentVolumeClaim: { claimName: 'data-db-0' } }], { kind: 'StatefulSet', name: 'db' }),
        withVolumes('files-0', 'n1', [{ persistentVolumeClaim: { claimName: 'data-files-0' } }], { kind: 'StatefulSet', name: 'files' }),
        withVolumes('agent-n1', 'n1', [{ hostPath: { path: '/run' } }], { kind: 'DaemonSet', name: 'agent' }),
      ],
      persistentVolumeClaims: [claim('data-db-0', 'local-pv-1'), claim('data-files-0', 'nfs-7')],
      persistentVolumes: [pv('local-pv-1', { local: { path: '/mnt/disks/ssd1' }, nodeAffinity: {} }), pv('nfs-7', { nfs: { server: 'nas', path: '/x' } })],
    });
    const [check] = localDataCheck(inv);
    expect(check).toMatchObject({ name: 'pods with data on their node', verdict: 'warn' });
    expect(check!.detail).toBe(
      'hostPath volumes: shop/logs-a (node n1) — re-created on another node, they do not find that data; local PersistentVolumes: shop/db-0 (local PersistentVolume local-pv-1 on node n2) — re-created, they can only run on that node and stay Pending while it is cordoned for its drain',
    );
    // Negative control: the same pods without the local volume kinds pass.
    expect(localDataCheck(inventory({ pods: inv.pods.filter((p) => p.metadata.name !== 'logs-a'), persistentVolumeClaims: inv.persistentVolumeClaims, persistentVolumes: [pv('local-pv-1', { csi: { driver: 'ebs.csi.aws.com' } })] }))[0]!.verdict).toBe('pass');
  });

  it('budgets that can never allow an eviction, and ones blocked now, warn by name', () => {
    const strict = { ...makePdb('strict', 'shop', { app: 'web' }, 0), spec: { selector: { matchLabels: { app: 'web' } }, minAvailable: 2 } };
    expect(budgetsCheck(inventory({ pdbs: [strict] }), config)[0]).toMatchObject({ verdict: 'warn', detail: expect.stringMatching(/^never allow an eviction: shop\/strict \(minAvailable 2 of 2 pods\)/) });
    expect(budgetsCheck(inventory({ pdbs: [makePdb('busy', 'shop', { app: 'web' }, 0)] }), config)[0]).toMatchObject({ verdict: 'warn', detail: expect.stringMatching(/^blocked now: shop\/busy \(0 disruptions allowed now\)/) });
    // A budget selecting no pod blocks nothing.
    expect(budgetsCheck(inventory({ pdbs: [makePdb('none', 'shop', { app: 'other' }, 0)] }), config)[0]!.verdict).toBe('pass');
  });

  it('single-replica workloads warn; webhooks served in-cluster that fail closed warn; URL or Ignore ones pass', () => {
    expect(singleReplicaCheck(inventory({ statefulSets: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop' }, spec: { replicas: 1 } }] }))[0]).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('StatefulSet shop/db') });
    const hooks = (webhooks: unknown[]) => inventory({ webhookConfigurations: [{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'gate' }, webhooks }] });
    expect(webhooksCheck(hooks([{ name: 'pods.gate.io', clientConfig: { service: { namespace: 'gate', name: 'svc' } } }]))[0]).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('ValidatingWebhookConfiguration gate/pods.gate.io (Service gate/svc)') });
    expect(webhooksCheck(hooks([{ name: 'a', failurePolicy: 'Ignore', clientConfig: { service: { namespace: 'gate', name: 'svc' } } }, { name: 'b', clientConfig: { url: 'https://hooks.example.com' } }]))[0]!.verdict).toBe('pass');
  });

  it('a denied permission fails naming verb, resource, namespace and why', () => {
    const inv = inventory({ access: [{ need: { verb: 'create', kind: { apiVersion: 'v1', kind: 'Pod' }, subresource: 'eviction', why: 'evict pods (drain)' }, resource: 'pods', allowed: false }, { need: { verb: 'patch', kind: { apiVersion: 'v1', kind: 'ConfigMap' }, namespace: 'kube-system', why: 'keep the record' }, resource: 'configmaps', allowed: false }] });
    expect(accessCheck(inv)[0]).toMatchObject({ verdict: 'fail', detail: 'not allowed: create pods/eviction (evict pods (drain)), patch configmaps in kube-system (keep the record)' });
  });

  it('preflightResources: missing or not rolled out fails; the probes step 0 installs pass', () => {
    const resources = [
      { ref: 'DaemonSet knet-stress/probe-a', found: false, ready: false, detail: 'not found', installedByRun: true },
      { ref: 'Deployment ops/gateway', found: true, ready: false, detail: 'Waiting for deployment "gateway" rollout to finish: 1 of 2 updated replicas are available...', installedByRun: false },
    ];
    expect(resourcesCheck(inventory({ resources }))[0]).toMatchObject({ verdict: 'fail', detail: 'Deployment ops/gateway: Waiting for deployment "gateway" rollout to finish: 1 of 2 updated replicas are available...' });
    expect(resourcesCheck(inventory({ resources: resources.slice(0, 1) }))[0]).toMatchObject({ verdict: 'pass', detail: 'only 1 probe DaemonSet (installed by step 0)' });
  });

  it('long lists are cut with a count', () => {
    expect(names(['a', 'b', 'c'])).toBe('a, b, c');
    expect(names(Array.from({ length: 11 }, (_, i) => `p${i}`))).toBe('p0, p1, p2, p3, p4, p5, p6, p7 and 3 more');
  });
});
