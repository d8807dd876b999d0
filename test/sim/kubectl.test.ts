import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/simCluster.js';
import { KUBECTL, kubectl } from '../support/kubectl.js';
import { waitFor } from '../support/waitFor.js';

// Real kubectl as an independent client of the simulated cluster (issue 2's conformance list).
const SEED = join(import.meta.dirname, '..', '..', '..', 'shared', 'seed');

describe.skipIf(!KUBECTL)('real kubectl against the simulated cluster', () => {
  let cluster: SimCluster;
  let dir: string;
  let kc: string;
  const k = (...args: string[]) => kubectl(kc, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-kubectl-'));
    kc = join(dir, 'kubeconfig');
    cluster = await SimCluster.start({ nodes: 3, kubeconfigOut: kc });
    await cluster.waitUntilSettled();
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets nodes and pods across namespaces with -o wide columns', async () => {
    const r = await k('get', 'nodes,pods', '-A', '-o', 'wide');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/node\/node-1\s+Ready\s+control-plane/);
    expect(r.stdout).toMatch(/INTERNAL-IP/);
    const webLine = r.stdout.split('\n').find((l) => l.includes('pod/web-'));
    expect(webLine).toMatch(/1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+node-\d/);
  });

  it('labels a node and removes the label', async () => {
    expect((await k('label', 'node', 'node-2', 'example.com/role=test')).code).toBe(0);
    expect(cluster.store.get('nodes', undefined, 'node-2')?.metadata.labels?.['example.com/role']).toBe('test');
    const sel = await k('get', 'nodes', '-l', 'example.com/role=test', '-o', 'name');
    expect(sel.stdout.trim()).toBe('node/node-2');
    expect((await k('label', 'node', 'node-2', 'example.com/role-')).code).toBe(0);
    expect(cluster.store.get('nodes', undefined, 'node-2')?.metadata.labels?.['example.com/role']).toBeUndefined();
  });

  it('taints and untaints a node', async () => {
    const r = await k('taint', 'node', 'node-3', 'example.com/maint=yes:NoSchedule');
    expect(r.stdout).toContain('node/node-3 tainted');
    expect(cluster.store.get('nodes', undefined, 'node-3')?.spec.taints).toEqual([{ key: 'example.com/maint', value: 'yes', effect: 'NoSchedule' }]);
    expect((await k('taint', 'node', 'node-3', 'example.com/maint-')).stdout).toContain('untainted');
    expect(cluster.store.get('nodes', undefined, 'node-3')?.spec.taints ?? []).toEqual([]);
  });

  it('cordons and uncordons, with the unschedulable taint the node lifecycle controller adds', async () => {
    expect((await k('cordon', 'node-3')).stdout).toContain('node/node-3 cordoned');
    await waitFor('unschedulable taint', () =>
      (cluster.store.get('nodes', undefined, 'node-3')?.spec.taints ?? []).some((t: { key: string }) => t.key === 'node.kubernetes.io/unschedulable'),
    );
    const get = await k('get', 'node', 'node-3');
    expect(get.stdout).toContain('Ready,SchedulingDisabled');
    expect((await k('uncordon', 'node-3')).stdout).toContain('node/node-3 uncordoned');
    expect(cluster.store.get('nodes', undefined, 'node-3')?.spec.unschedulable).toBeFalsy();
  });

  it('reports DaemonSet rollout status and waits for pod readiness', async () => {
    const r = await k('rollout', 'status', 'daemonset/canal', '-n', 'kube-system', '--timeout=30s');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('daemon set "canal" successfully rolled out');
    const w = await k('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '-n', 'demo', '--timeout=30s');
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/condition met/);
  });

  it('drains a node: blocked by a PodDisruptionBudget, then allowed', async () => {
    // Make the PDB refuse every eviction, and pick a node that runs a web pod.
    expect((await k('patch', 'pdb', 'web', '-n', 'demo', '--type=merge', '-p', '{"spec":{"maxUnavailable":0}}')).code).toBe(0);
    const node = cluster.store.list('pods', 'demo').items.find((p) => p.metadata.labels?.app === 'web')!.spec.nodeName as string;
    const blocked = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=4s');
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr + blocked.stdout).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(cluster.store.get('nodes', undefined, node)?.spec.unschedulable).toBe(true);
    expect((await k('patch', 'pdb', 'web', '-n', 'demo', '--type=merge', '-p', '{"spec":{"maxUnavailable":1}}')).code).toBe(0);
    const ok = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s');
    expect(ok.stderr).not.toContain('error');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`node/${node} drained`);
    const left = cluster.store.list('pods').items.filter((p) => p.spec.nodeName === node && !p.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'DaemonSet'));
    expect(left).toEqual([]);
    expect((await k('uncordon', node)).code).toBe(0);
    await cluster.waitUntilSettled();
  });

  it("applies the seed's Cilium and Multus manifests", async () => {
    const cilium = await k('apply', '-f', join(SEED, 'resources_cilium.yaml'));
    expect(cilium.stderr).toBe('');
    expect(cilium.stdout).toContain('daemonset.apps/cilium-migrated created');
    const multus = await k('apply', '-f', join(SEED, 'resources_multus.yaml'));
    expect(multus.code).toBe(0);
    expect(multus.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/network-attachment-definitions.k8s.cni.cncf.io created');
    expect(cluster.store.get('apps/daemonsets', 'kube-system', 'kube-multus-canal')).toBeDefined();
    // Re-applying is a no-op, as with a real API server.
    const again = await k('apply', '-f', join(SEED, 'resources_multus.yaml'));
    expect(again.stdout).toContain('daemonset.apps/kube-multus-canal unchanged');
    const crs = await k('get', 'net-attach-def', '-A');
    expect(crs.code).toBe(0);
  });

  it("refuses the seed's v1beta1 RBAC like a current API server", async () => {
    const r = await k('apply', '-f', join(SEED, 'resources_knet-stress.yaml'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no matches for kind "Role" in version "rbac.authorization.k8s.io/v1beta1"');
  });

  it('deletes objects, pods gracefully', async () => {
    const manifest = join(dir, 'cm.yaml');
    writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scratch\n  namespace: default\ndata:\n  a: "1"\n');
    expect((await k('apply', '-f', manifest)).stdout).toContain('configmap/scratch created');
    expect((await k('delete', '-f', manifest)).stdout).toContain('configmap "scratch" deleted');
    const pod = cluster.store.list('pods', 'demo').items[0]!;
    const d = await k('delete', 'pod', '-n', 'demo', pod.metadata.name!, '--wait=true', '--timeout=30s');
    expect(d.code).toBe(0);
    expect(cluster.store.get('pods', 'demo', pod.metadata.name!)).toBeUndefined();
    await cluster.waitUntilSettled();
  });

  it('creates objects with kubectl create (protobuf bodies) and changes live settings through the ConfigMap', async () => {
    const r = await k('-n', 'kube-system', 'create', 'configmap', 'cni-migration-sim', '--from-literal=settings.yaml=firewall: {blocked: [{protocol: udp, port: 6081}]}');
    expect(r.stdout).toContain('configmap/cni-migration-sim created');
    await waitFor('firewall rule in force', () => cluster.settings.get().firewall.blocked.some((b) => b.port === 6081));
    expect((await k('-n', 'kube-system', 'delete', 'configmap', 'cni-migration-sim')).code).toBe(0);
    await waitFor('firewall rule lifted', () => cluster.settings.get().firewall.blocked.length === 0);
    expect((await k('create', 'namespace', 'scratch-ns')).stdout).toContain('namespace/scratch-ns created');
    expect(cluster.store.get('namespaces', undefined, 'scratch-ns')?.metadata.labels?.['kubernetes.io/metadata.name']).toBe('scratch-ns');
  });

  it('creates workloads, Services, PDBs and RBAC with kubectl create (typed protobuf bodies), as JSON would have', async () => {
    expect((await k('create', 'namespace', 'typed')).code).toBe(0);
    const created = await Promise.all([
      k('-n', 'typed', 'create', 'deployment', 'hello', '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', '--replicas=2', '--port=8080', '--', '/agnhost', 'netexec'),
      k('-n', 'typed', 'create', 'service', 'clusterip', 'hello', '--tcp=80:8080'),
      k('-n', 'typed', 'create', 'poddisruptionbudget', 'hello', '--selector=app=hello', '--max-unavailable=1'),
      k('-n', 'typed', 'create', 'role', 'reader', '--verb=get,list', '--resource=pods'),
      k('-n', 'typed', 'create', 'rolebinding', 'reader', '--role=reader', '--serviceaccount=typed:default'),
    ]);
    for (const r of created) expect(r.code, r.stderr).toBe(0);
    expect((await k('-n', 'typed', 'rollout', 'status', 'deployment/hello', '--timeout=30s')).code).toBe(0);
    const d = cluster.store.get('apps/deployments', 'typed', 'hello')!;
    const container = (d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!;
    // Zero values of omitempty fields (hostPort 0, stdin false) are left out, as a JSON client sends them.
    expect(container).toMatchObject({ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', command: ['/agnhost', 'netexec'], ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect(container).not.toHaveProperty('stdin');
    expect((d.spec as { replicas: number }).replicas).toBe(2);
    expect(cluster.store.get('services', 'typed', 'hello')?.spec).toMatchObject({ ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'hello' } });
    expect(cluster.store.get('policy/poddisruptionbudgets', 'typed', 'hello')?.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'hello' } } });
    expect(cluster.store.get('rbac.authorization.k8s.io/roles', 'typed', 'reader')).toMatchObject({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] });
    expect(cluster.store.get('rbac.authorization.k8s.io/rolebindings', 'typed', 'reader')).toMatchObject({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'typed' }] });
    // Deletes send protobuf DeleteOptions too.
    expect((await k('delete', 'namespace', 'typed', '--wait=true', '--timeout=60s')).code).toBe(0);
  });

  it('kubectl get -w keeps its columns for every change (watch events as Tables)', async () => {
    const pod = cluster.store.list('pods', 'demo').items[0]!;
    const child = spawn(KUBECTL!, ['get', 'pods', '-n', 'demo', '-o', 'wide', '-w', '--request-timeout=5s'], { env: { ...process.env, KUBECONFIG: kc } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    // The listing is printed once the watch is about to start: change a pod then.
    await waitFor('the first listing', () => out.includes(pod.metadata.name!), 10_000);
    await k('delete', 'pod', '-n', 'demo', pod.metadata.name!, '--wait=false');
    await waitFor('the change in the watch', () => /Terminating/.test(out), 10_000);
    child.kill();
    await exited;
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    // The change arrives as a row with every column, not just NAME and AGE.
    expect(lines.slice(1)).toContainEqual(expect.stringMatching(new RegExp(`^${pod.metadata.name}\\s+\\d/\\d\\s+Terminating\\s+\\d+\\s+\\S+\\s+10\\.244\\.\\d+\\.\\d+\\s+node-\\d`)));
    await cluster.waitUntilSettled();
  });

  it('answers a bad request with a clear error and keeps serving', async () => {
    const bad = await k('get', 'pods', '-l', 'app in (');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unable to parse requirement|Unexpected/);
    expect((await k('get', 'nodes')).code).toBe(0);
  });
});
