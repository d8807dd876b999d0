import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/simCluster.js';
import { SeedProcedure } from '../support/seedProcedure.js';
import { waitFor } from '../support/waitFor.js';

// The model's verdict on the original tool's procedure, performed by hand through the API.
describe("the seed's procedure on the simulated cluster", () => {
  let cluster: SimCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const start = async (nodes = 3) => {
    cluster = await SimCluster.start({ nodes });
    await cluster.waitUntilSettled();
    return new SeedProcedure(cluster);
  };

  it('in the right order keeps every running pod reachable and ends on Cilium', async () => {
    const seed = await start(3);
    await seed.preflight();
    await seed.prepare();
    for (const n of seed.nodes()) await seed.roll(n);
    for (const n of seed.nodes()) await seed.swapPriority(n);
    for (const n of seed.nodes()) await seed.migrate(n);
    await seed.cleanUp();
    const gt = cluster!.model.groundTruth;
    expect(gt.violations()).toEqual([]);
    const pods = cluster!.store.list('pods').items.filter((p) => !p.spec.hostNetwork);
    expect(pods.length).toBeGreaterThan(5);
    for (const p of pods) expect(p.status.podIP, `${p.metadata.namespace}/${p.metadata.name}`).toMatch(/^172\.29\./);
  });

  it('removing Canal before any node is migrated loses connectivity', async () => {
    const seed = await start(3);
    await seed.preflight();
    await seed.prepare();
    for (const n of seed.nodes()) await seed.roll(n);
    expect(cluster!.model.groundTruth.violations()).toEqual([]);
    // Every pod still has Flannel as its primary network; Cilium beside it does not carry those addresses.
    await seed.http.request('DELETE', '/apis/apps/v1/namespaces/kube-system/daemonsets/canal');
    await waitFor('the ground truth to see the loss', () => cluster!.model.groundTruth.violations().length > 0, 60_000);
    const violations = cluster!.model.groundTruth.violations();
    expect(violations.some((v) => v.added.some((p) => p.network === 'flannel'))).toBe(true);
  });

  it('blocking GENEVE breaks cross-node Cilium traffic', async () => {
    const seed = await start(3);
    await seed.preflight();
    await seed.prepare();
    await seed.roll(seed.nodes()[0]!);
    await seed.roll(seed.nodes()[1]!);
    // knet-stress pods are DaemonSet pods: after a roll the ones on each node carry both interfaces.
    const podWithCilium = (node: string) =>
      cluster!.store.list('pods', 'knet-stress').items.find((p) => p.spec.nodeName === node && cluster!.model.podInterfaces('knet-stress', p.metadata.name!)?.some((i) => i.network === 'cilium'));
    const a = podWithCilium(seed.nodes()[0]!);
    const b = podWithCilium(seed.nodes()[1]!);
    expect(a && b).toBeTruthy();
    const bCiliumIp = cluster!.model.podInterfaces('knet-stress', b!.metadata.name!)!.find((i) => i.network === 'cilium')!.ip;
    expect(cluster!.model.canReach(a!.metadata.namespace!, a!.metadata.name!, bCiliumIp).ok).toBe(true);
    await seed.http.request('POST', '/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cni-migration-sim' },
      data: { 'settings.yaml': 'firewall:\n  blocked:\n  - {protocol: udp, port: 6081}\n' },
    });
    await waitFor('firewall in force', () => cluster!.settings.get().firewall.blocked.length === 1);
    const verdict = cluster!.model.canReach(a!.metadata.namespace!, a!.metadata.name!, bCiliumIp);
    expect(verdict.ok).toBe(false);
    expect(verdict.network).toBe('cilium');
    // The flannel primary IPs are untouched.
    expect(cluster!.model.canReach(a!.metadata.namespace!, a!.metadata.name!, b!.status.podIP).ok).toBe(true);
  });
});
