import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsToRun, startRealUnderTest, startSimUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';
import { KUBECTL, kubectl } from '../test/support/kubectl.js';
import { SEED_DIR } from '../test/support/seedProcedure.js';
import { waitFor } from '../test/support/waitFor.js';

// test/sim/kubectl.test.ts's conformance list (real kubectl as an independent client), run against
// the real control plane with simulated nodes; state is read through the API, not a store.
// E2E_BACKEND=sim|both runs the same against the simulator.

const BACKENDS = backendsToRun();
const log = (line: string) => {
  if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[e2e] ${line}\n`);
};

describe.skipIf(!KUBECTL).each(BACKENDS)('real kubectl against the %s control plane', (backend) => {
  let c: ClusterUnderTest;
  let dir: string;
  const k = (...args: string[]) => kubectl(c.kubeconfigPath, args);
  const node = async (name: string) => (await c.get('nodes', undefined, name))!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-kubectl-'));
    c = backend === 'real' ? await startRealUnderTest({ nodes: 3, log }) : await startSimUnderTest({ nodes: 3 });
  });

  afterAll(async () => {
    await c?.stop();
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
    expect((await node('node-2')).metadata.labels?.['example.com/role']).toBe('test');
    const sel = await k('get', 'nodes', '-l', 'example.com/role=test', '-o', 'name');
    expect(sel.stdout.trim()).toBe('node/node-2');
    expect((await k('label', 'node', 'node-2', 'example.com/role-')).code).toBe(0);
    expect((await node('node-2')).metadata.labels?.['example.com/role']).toBeUndefined();
  });

  it('taints and untaints a node', async () => {
    const r = await k('taint', 'node', 'node-3', 'example.com/maint=yes:NoSchedule');
    expect(r.stdout).toContain('node/node-3 tainted');
    expect((await node('node-3')).spec.taints).toEqual([{ key: 'example.com/maint', value: 'yes', effect: 'NoSchedule' }]);
    expect((await k('taint', 'node', 'node-3', 'example.com/maint-')).stdout).toContain('untainted');
    expect((await node('node-3')).spec.taints ?? []).toEqual([]);
  });

  it('cordons and uncordons, with the unschedulable taint the node lifecycle controller adds', async () => {
    expect((await k('cordon', 'node-3')).stdout).toContain('node/node-3 cordoned');
    await waitFor('unschedulable taint', async () => ((await node('node-3')).spec.taints ?? []).some((t: { key: string }) => t.key === 'node.kubernetes.io/unschedulable'), 30_000, 50);
    const get = await k('get', 'node', 'node-3');
    expect(get.stdout).toContain('Ready,SchedulingDisabled');
    expect((await k('uncordon', 'node-3')).stdout).toContain('node/node-3 uncordoned');
    expect((await node('node-3')).spec.unschedulable).toBeFalsy();
    await waitFor('unschedulable taint removed', async () => !((await node('node-3')).spec.taints ?? []).length, 30_000, 50);
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
    expect((await k('patch', 'pdb', 'web', '-n', 'demo', '--type=merge', '-p', '{"spec":{"maxUnavailable":0}}')).code).toBe(0);
    await waitFor('PDB allows no disruption', async () => (await c.get('policy/poddisruptionbudgets', 'demo', 'web'))?.status?.disruptionsAllowed === 0, 30_000, 50);
    const node = (await c.list('pods', 'demo')).find((p) => p.metadata.labels?.app === 'web')!.spec.nodeName as string;
    const blocked = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=4s');
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr + blocked.stdout).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect((await c.get('nodes', undefined, node))?.spec.unschedulable).toBe(true);
    expect((await k('patch', 'pdb', 'web', '-n', 'demo', '--type=merge', '-p', '{"spec":{"maxUnavailable":1}}')).code).toBe(0);
    const ok = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s');
    expect(ok.stderr).not.toContain('error');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`node/${node} drained`);
    const left = (await c.list('pods')).filter((p) => p.spec.nodeName === node && !p.metadata.ownerReferences?.some((o: { kind: string }) => o.kind === 'DaemonSet'));
    expect(left).toEqual([]);
    expect((await k('uncordon', node)).code).toBe(0);
    await c.waitUntilSettled();
  });

  it("applies the seed's Cilium and Multus manifests", async () => {
    const cilium = await k('apply', '-f', join(SEED_DIR, 'resources_cilium.yaml'));
    // kube-apiserver sends a Warning header for the seed's deprecated critical-pod annotation.
    expect(cilium.stderr).toBe('Warning: spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead\n');
    expect(cilium.stdout).toContain('daemonset.apps/cilium-migrated created');
    const multus = await k('apply', '-f', join(SEED_DIR, 'resources_multus.yaml'));
    expect(multus.code).toBe(0);
    expect(multus.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/network-attachment-definitions.k8s.cni.cncf.io created');
    expect(await c.get('apps/daemonsets', 'kube-system', 'kube-multus-canal')).toBeDefined();
    // Re-applying is a no-op, as with a real API server.
    const again = await k('apply', '-f', join(SEED_DIR, 'resources_multus.yaml'));
    expect(again.stdout).toContain('daemonset.apps/kube-multus-canal unchanged');
    const crs = await k('get', 'net-attach-def', '-A');
    expect(crs.code).toBe(0);
  });

  it("refuses the seed's v1beta1 RBAC like a current API server", async () => {
    const r = await k('apply', '-f', join(SEED_DIR, 'resources_knet-stress.yaml'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no matches for kind "Role" in version "rbac.authorization.k8s.io/v1beta1"');
  });

  it('deletes objects, pods gracefully', async () => {
    const manifest = join(dir, 'cm.yaml');
    writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scratch\n  namespace: default\ndata:\n  a: "1"\n');
    expect((await k('apply', '-f', manifest)).stdout).toContain('configmap/scratch created');
    expect((await k('delete', '-f', manifest)).stdout).toContain('configmap "scratch" deleted');
    const pod = (await c.list('pods', 'demo'))[0]!;
    const d = await k('delete', 'pod', '-n', 'demo', pod.metadata.name!, '--wait=true', '--timeout=30s');
    expect(d.code).toBe(0);
    expect(await c.get('pods', 'demo', pod.metadata.name!)).toBeUndefined();
    await c.waitUntilSettled();
  });

  it('answers a bad request with a clear error and keeps serving', async () => {
    const bad = await k('get', 'pods', '-l', 'app in (');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unable to parse requirement|Unexpected/);
    expect((await k('get', 'nodes')).code).toBe(0);
  });
});
