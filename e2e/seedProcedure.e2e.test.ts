import { afterEach, describe, expect, it } from 'vitest';
import { backendsToRun, startRealUnderTest, startSimUnderTest, type ClusterUnderTest } from '../test/support/e2eCluster.js';
import { ClusterSeedProcedure } from '../test/support/e2eSeedProcedure.js';
import { waitFor } from '../test/support/waitFor.js';

// The model's verdict on the original tool's procedure, performed by hand through the API of a
// real control plane whose nodes the model simulates (test/sim/seedProcedure.test.ts's checks).
// E2E_BACKEND=sim|both runs the same against the simulator.

const BACKENDS = backendsToRun();
const log = (line: string) => {
  if (process.env.E2E_VERBOSE === '1') process.stderr.write(`[e2e] ${line}\n`);
};

describe.each(BACKENDS)("the seed's procedure on the %s control plane", (backend) => {
  let c: ClusterUnderTest | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  const start = async (nodes = 3) => {
    c = backend === 'real' ? await startRealUnderTest({ nodes, log }) : await startSimUnderTest({ nodes });
    return new ClusterSeedProcedure(c);
  };
  const step = async (what: string, fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    log(`${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };

  it('in the right order keeps every running pod reachable and ends on Cilium', async () => {
    const seed = await start(3);
    await step('preflight', () => seed.preflight());
    await step('prepare', () => seed.prepare());
    for (const n of seed.nodes()) await step(`roll ${n}`, () => seed.roll(n));
    for (const n of seed.nodes()) await step(`swap ${n}`, () => seed.swapPriority(n));
    for (const n of seed.nodes()) await step(`migrate ${n}`, () => seed.migrate(n));
    await step('clean up', () => seed.cleanUp());
    expect(c!.model.groundTruth.violations()).toEqual([]);
    const pods = (await c!.list('pods')).filter((p) => !p.spec.hostNetwork);
    expect(pods.length).toBeGreaterThan(5);
    for (const p of pods) expect(p.status.podIP, `${p.metadata.namespace}/${p.metadata.name}`).toMatch(/^172\.29\./);
  });

  it('removing Canal before any node is migrated loses connectivity', async () => {
    const seed = await start(3);
    await seed.preflight();
    await seed.prepare();
    for (const n of seed.nodes()) await seed.roll(n);
    expect(c!.model.groundTruth.violations()).toEqual([]);
    // Every pod still has Flannel as its primary network; Cilium beside it does not carry those addresses.
    await seed.http.request('DELETE', '/apis/apps/v1/namespaces/kube-system/daemonsets/canal');
    await waitFor('the ground truth to see the loss', () => c!.model.groundTruth.violations().length > 0, 60_000);
    const violations = c!.model.groundTruth.violations();
    expect(violations.some((v) => v.added.some((p) => p.network === 'flannel'))).toBe(true);
  });

  it('blocking GENEVE breaks cross-node Cilium traffic', async () => {
    const seed = await start(3);
    await seed.prepare();
    await seed.roll(seed.nodes()[0]!);
    await seed.roll(seed.nodes()[1]!);
    // Two pods on different nodes with a Cilium interface: which nodes the web pods land on after
    // the drains is the scheduler's choice (none is left on the second rolled node).
    const pods = (await c!.list('pods')).filter((p) => !p.spec.hostNetwork);
    const ciliumIp = (p: { metadata: { namespace?: string; name?: string } }) => c!.model.podInterfaces(p.metadata.namespace!, p.metadata.name!)?.find((i) => i.network === 'cilium')?.ip;
    const a = pods.find((p) => ciliumIp(p));
    const b = pods.find((p) => p.spec.nodeName !== a?.spec.nodeName && ciliumIp(p));
    expect(a && b, pods.map((p) => `${p.metadata.name}@${p.spec.nodeName}:${ciliumIp(p) ?? '-'}`).join(' ')).toBeTruthy();
    const bCiliumIp = ciliumIp(b!)!;
    expect(c!.model.canReach(a!.metadata.namespace!, a!.metadata.name!, bCiliumIp).ok).toBe(true);
    await seed.http.request('POST', '/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cni-migration-sim' },
      data: { 'settings.yaml': 'firewall:\n  blocked:\n  - {protocol: udp, port: 6081}\n' },
    });
    await waitFor('firewall in force', () => c!.settings.get().firewall.blocked.length === 1, 30_000);
    const verdict = c!.model.canReach(a!.metadata.namespace!, a!.metadata.name!, bCiliumIp);
    expect(verdict.ok).toBe(false);
    expect(verdict.network).toBe('cilium');
    // The flannel primary IPs are untouched.
    expect(c!.model.canReach(a!.metadata.namespace!, a!.metadata.name!, b!.status.podIP).ok).toBe(true);
  });
});
