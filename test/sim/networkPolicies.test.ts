import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/simCluster.js';
import type { KubeObject } from '../../src/sim/store/kubeObject.js';
import { ROOT } from '../support/cliProcess.js';
import { KUBECTL, kubectl } from '../support/kubectl.js';
import { waitFor } from '../support/waitFor.js';

// NetworkPolicy in the simulated cluster, on the stock installs with the shop's policies
// (scenarios/*-policies.yaml): served and validated like kube-apiserver, listed by the real
// kubectl, enforced as each CNI does (felix in Canal and Calico, nothing in plain Flannel), and
// judged by the ground truth against what the user's policies intend.

const dir = mkdtempSync(join(tmpdir(), 'sim-netpol-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pods(cluster: SimCluster, namespace: string, app: string): KubeObject[] {
  return cluster.store.list('pods', namespace).items.filter((p) => p.metadata.labels?.app === app && p.status?.phase === 'Running' && p.status?.podIP);
}

async function start(scenario: string, kubeconfig: string): Promise<SimCluster> {
  const cluster = await SimCluster.start({ scenarioFile: join(ROOT, 'scenarios', scenario), nodes: 3, kubeconfigOut: kubeconfig });
  await cluster.waitUntilSettled(60_000);
  await waitFor('shop and storefront pods running', () => pods(cluster, 'shop', 'web').length === 4 && pods(cluster, 'shop', 'db').length === 3 && pods(cluster, 'storefront', 'client').length === 2, 60_000);
  return cluster;
}

const reach = (cluster: SimCluster, from: KubeObject, to: KubeObject) => cluster.model.canReach(from.metadata.namespace!, from.metadata.name!, to.status!.podIP as string);

describe('NetworkPolicy on the stock Canal install (felix enforces)', () => {
  let cluster: SimCluster;
  const kc = join(dir, 'canal.kubeconfig');
  beforeAll(async () => {
    cluster = await start('canal-policies.yaml', kc);
  }, 120_000);
  afterAll(() => cluster?.stop());

  it.skipIf(!KUBECTL)('kubectl lists the policies with their pod selectors, as kube-apiserver prints them', async () => {
    const r = await kubectl(kc, ['get', 'netpol', '-n', 'shop']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows[0]).toEqual(['NAME', 'POD-SELECTOR', 'AGE']);
    expect(rows.slice(1).map((c) => c.slice(0, 2))).toEqual([
      ['db-from-web', 'app=db'],
      ['default-deny', '<none>'],
      ['web-from-clients', 'app=web'],
    ]);
  });

  it.skipIf(!KUBECTL)('refuses an invalid policy with the API server\'s field errors and stores nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'bad', namespace: 'shop' },
        spec: { podSelector: {}, policyTypes: ['Inbound'], ingress: [{ from: [{}, { ipBlock: { cidr: '10.0.0.0/24', except: ['192.168.0.0/24'] } }], ports: [{ protocol: 'TCP', port: 'http', endPort: 90 }] }] },
      }),
    );
    const r = await kubectl(kc, ['apply', '-f', bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.policyTypes[0]: Unsupported value: "Inbound": supported values: "Ingress", "Egress"');
    expect(r.stderr).toContain('spec.ingress[0].from[0]: Required value: must specify a peer');
    expect(r.stderr).toContain('spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "192.168.0.0/24": must be a strict subset of `cidr`');
    expect(r.stderr).toContain('spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric');
    expect(cluster.store.get('networking.k8s.io/networkpolicies', 'shop', 'bad')).toBeUndefined();
  });

  it('allows what the policies allow and drops the rest, naming felix, the node and the policy', () => {
    const [web] = pods(cluster, 'shop', 'web');
    const [db] = pods(cluster, 'shop', 'db');
    const [client] = pods(cluster, 'storefront', 'client');
    const [controllers] = cluster.store.list('pods', 'kube-system').items.filter((p) => p.metadata.name?.startsWith('calico-kube-controllers') && p.status?.podIP);
    expect(reach(cluster, client!, web!)).toMatchObject({ ok: true });
    expect(reach(cluster, web!, db!)).toMatchObject({ ok: true });
    expect(reach(cluster, web!, web!).ok).toBe(true);
    const egress = reach(cluster, client!, db!);
    expect(egress).toMatchObject({ ok: false, reason: 'denied-by-policy' });
    expect(egress.detail).toMatch(/^felix on node-\d drops egress .*storefront\/client-egress/);
    const ingress = reach(cluster, controllers!, db!);
    expect(ingress).toMatchObject({ ok: false, reason: 'denied-by-policy' });
    expect(ingress.detail).toContain('shop/db-from-web, shop/default-deny');
    // The enforced matrix is the intended one: nothing cut, nothing opened.
    expect(cluster.model.groundTruth.current()).toMatchObject({ unreachableCount: 0, openedCount: 0 });
  });

  it('negative control: an allow-all companion policy opens denied pairs, and the ground truth says which', async () => {
    const [controllers] = cluster.store.list('pods', 'kube-system').items.filter((p) => p.metadata.name?.startsWith('calico-kube-controllers') && p.status?.podIP);
    const [db] = pods(cluster, 'shop', 'db');
    cluster.store.create('networking.k8s.io/networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-all-bridge', namespace: 'shop', labels: { 'cni-migration.io/purpose': 'policy-bridge' } },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] },
    });
    const opened = await waitFor('opened pairs in the ground truth', () => {
      const c = cluster.model.groundTruth.current();
      return c.openedCount > 0 ? c : undefined;
    });
    expect(reach(cluster, controllers!, db!).ok).toBe(true);
    expect(opened.unreachableCount).toBe(0);
    expect(opened.pairs).toContainEqual(expect.objectContaining({ from: `kube-system/${controllers!.metadata.name}`, to: `shop/${db!.metadata.name}`, reason: 'policy-not-enforced', kind: 'opened' }));
    cluster.store.delete('networking.k8s.io/networkpolicies', 'shop', 'allow-all-bridge');
    await waitFor('no opened pair once it is gone', () => cluster.model.groundTruth.current().openedCount === 0);
    expect(reach(cluster, controllers!, db!).ok).toBe(false);
  });

  it("felix enforces Calico's own GlobalNetworkPolicies before the Kubernetes ones; the user's are part of what is intended, the bridge's are not", async () => {
    const [web] = pods(cluster, 'shop', 'web');
    const [client] = pods(cluster, 'storefront', 'client');
    const gnp = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkPolicy',
      metadata: { name, labels },
      spec: { order: 10, selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { namespaceSelector: "kubernetes.io/metadata.name == 'storefront'" } }] },
    });
    expect(reach(cluster, client!, web!).ok).toBe(true);
    // The user's own deny: the pair is dropped, and that is what the policies mean — no violation.
    cluster.store.create('crd.projectcalico.org/globalnetworkpolicies', gnp('deny-storefront', {}));
    await waitFor('felix applies the GlobalNetworkPolicy', () => reach(cluster, client!, web!).ok === false);
    expect(reach(cluster, client!, web!).detail).toContain('GlobalNetworkPolicy deny-storefront');
    expect(cluster.model.groundTruth.current()).toMatchObject({ unreachableCount: 0, openedCount: 0 });
    cluster.store.delete('crd.projectcalico.org/globalnetworkpolicies', '', 'deny-storefront');
    await waitFor('allowed again', () => reach(cluster, client!, web!).ok);
    // The same deny marked as the migration's bridge cuts allowed pairs, and the ground truth re-judges them at once.
    cluster.store.create('crd.projectcalico.org/globalnetworkpolicies', gnp('bad-bridge', { 'cni-migration.io/purpose': 'policy-bridge' }));
    const cut = await waitFor('cut pairs in the ground truth', () => {
      const c = cluster.model.groundTruth.current();
      return c.unreachableCount > 0 ? c : undefined;
    });
    expect(cut.pairs).toContainEqual(expect.objectContaining({ from: `storefront/${client!.metadata.name}`, to: `shop/${web!.metadata.name}`, reason: 'denied-by-policy' }));
    cluster.store.delete('crd.projectcalico.org/globalnetworkpolicies', '', 'bad-bridge');
    await waitFor('no cut pair once it is gone', () => cluster.model.groundTruth.current().unreachableCount === 0);
  });
});

describe('NetworkPolicy on the stock Flannel install (nothing enforces)', () => {
  let cluster: SimCluster;
  beforeAll(async () => {
    cluster = await start('flannel-policies.yaml', join(dir, 'flannel.kubeconfig'));
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('every pair connects, so the ground truth counts the denied ones as opened', async () => {
    const [client] = pods(cluster, 'storefront', 'client');
    const [db] = pods(cluster, 'shop', 'db');
    expect(reach(cluster, client!, db!)).toMatchObject({ ok: true });
    const current = await waitFor('opened pairs', () => {
      const c = cluster.model.groundTruth.current();
      return c.openedCount > 0 ? c : undefined;
    });
    expect(current.unreachableCount).toBe(0);
    expect(current.pairs).toContainEqual(expect.objectContaining({ from: `storefront/${client!.metadata.name}`, to: `shop/${db!.metadata.name}`, kind: 'opened' }));
  });
});
