import { afterEach, describe, expect, it } from 'vitest';
import { discoverPeers } from '../../src/connectivity/agent/peerDiscovery.js';
import type { EndpointsLike, PeerSnapshot } from '../../src/connectivity/agent/probeTypes.js';
import { collectAggregated } from '../../src/connectivity/collectAggregated.js';
import type { ProbeCollection } from '../../src/connectivity/collectProbeStatuses.js';
import { buildConnectivityMatrix, type ConnectivityMatrix } from '../../src/connectivity/connectivityMatrix.js';
import { PROBE_SERVICE } from '../../src/connectivity/connectivitySettings.js';
import { SimPeerGrouping } from '../../src/sim/probes/simPeerGrouping.js';
import { waitFor } from '../support/waitFor.js';
import { NS, startProbedCluster, type ProbedCluster } from './probeCluster.js';

// The simulator's agents probe by reachability class (simPeerGrouping.ts): one member per class and
// side of their node per round. These tests hold that shortcut to what probing every peer would
// show: the same peers covered, one verdict per group, and a broken node seen by every agent within
// two of its rounds — at 200 nodes, through the aggregated collection `check` and the gate use.

/** The probe Service's peers as the store has them now. */
function snapshotOf(p: ProbedCluster): PeerSnapshot {
  return { endpoints: p.cluster.store.get('endpoints', NS, PROBE_SERVICE) as EndpointsLike | undefined, pods: p.cluster.store.list('pods', NS).items };
}

/** Blocks UDP `port` at one node through the live settings ConfigMap (or unblocks, with no node). */
async function blockAt(p: ProbedCluster, port: number, node: string | undefined): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cni-migration-sim', namespace: 'kube-system' }, data: { 'settings.yaml': node ? `firewall:\n  blocked:\n  - {protocol: udp, port: ${port}, nodes: [${node}]}\n` : 'firewall: {blocked: []}\n' } };
  const existing = p.cluster.store.get('configmaps', 'kube-system', 'cni-migration-sim');
  if (existing) await p.http.request('PUT', '/api/v1/namespaces/kube-system/configmaps/cni-migration-sim', body);
  else await p.http.request('POST', '/api/v1/namespaces/kube-system/configmaps', body);
}

/** Every agent's completed rounds, by pod. */
function rounds(p: ProbedCluster): Map<string, number> {
  return new Map(p.cluster.probes!.runningAgents().map((a) => [a.name, a.agent.completedRounds]));
}

/** Waits until every agent running now has completed `n` more rounds than in `before`. */
async function roundsPast(p: ProbedCluster, before: Map<string, number>, n: number): Promise<void> {
  await waitFor(`every agent ${n} rounds further`, () => [...rounds(p)].every(([pod, r]) => r >= (before.get(pod) ?? 0) + n), 60_000);
}

async function aggregated(p: ProbedCluster): Promise<{ matrix: ConnectivityMatrix; collection: ProbeCollection }> {
  const collection = await collectAggregated(p.client, { namespace: NS, collectors: 2, timeoutMs: 10_000 });
  return { matrix: buildConnectivityMatrix(collection), collection };
}

describe('grouped probing in the simulator', () => {
  let p: ProbedCluster | undefined;
  afterEach(async () => {
    await p?.stop();
    p = undefined;
  });

  it('covers exactly the peers each agent would discover, and groups only addresses the model gives one verdict', async () => {
    p = await startProbedCluster({ nodes: 6 });
    // Node-2's VXLAN dropped: its pods form classes of their own.
    await blockAt(p, 8472, 'node-2');
    await p.cluster.waitUntilSettled();
    const snapshot = snapshotOf(p);
    const runner = p.cluster.probes!;
    const agents = runner.runningAgents();
    expect(agents.length).toBe(12);
    const mixedGroups = (grouping: { groupsFor: SimPeerGrouping['groupsFor'] }) => {
      let mixed = 0;
      for (const { agent } of agents) {
        const view = grouping.groupsFor(agent.self);
        const grouped = view.groups.flatMap((g) => Array.from({ length: g.size }, (_, i) => g.at(i).key)).sort();
        expect(grouped, agent.self.pod).toEqual(discoverPeers(agent.self, snapshot).targets.map((t) => t.key).sort());
        for (const g of view.groups) {
          const reasons = new Set(Array.from({ length: g.size }, (_, i) => p!.cluster.model.canReach(NS, agent.self.pod, g.at(i).ip).reason));
          if (reasons.size > 1) mixed++;
        }
      }
      return mixed;
    };
    const real = runner.grouping(NS, PROBE_SERVICE);
    expect(mixedGroups(real)).toBe(0);
    // Several groups: the blocked node's addresses apart from the others', same-node pairs apart.
    expect(real.groupsFor(agents[0]!.agent.self).groups.length).toBeGreaterThan(1);
    // Negative control: a grouping that ignores the model's classes does mix verdicts.
    const careless = new SimPeerGrouping({ snapshot: () => ({ snapshot, version: 1 }), generation: () => 'fixed', classKeys: (ips) => ips.map(() => 'one class'), answersAsItself: () => true });
    expect(mixedGroups(careless)).toBeGreaterThan(0);
  });

  it('at 200 nodes, the aggregated collection shows every pair to a node whose VXLAN is dropped within two rounds of every agent, its agents unreachable, and nothing else', async () => {
    p = await startProbedCluster({ nodes: 200 });
    await waitFor('every probe pair ok', async () => {
      const { matrix } = await aggregated(p!);
      return matrix.ok && matrix.summary.reportingPods === 400 ? matrix : undefined;
    }, 120_000);
    const before = rounds(p);
    await blockAt(p, 8472, 'node-77');
    await roundsPast(p, before, 2);
    const { matrix: m, collection } = await aggregated(p);
    const probes = p.cluster.store.list('pods', NS).items;
    const onBroken = probes.filter((x) => x.spec.nodeName === 'node-77').map((x) => x.metadata.name!);
    // Every probe to node-77's pods fails, and no other; node-77's own agents cannot be read over
    // the pod network, which both collectors confirm (never a silent pass).
    expect(m.failing.length).toBe(onBroken.length * (probes.length - onBroken.length));
    expect(m.failing.every((f) => f.toNode === 'node-77' && f.fromNode !== 'node-77')).toBe(true);
    expect(new Set(m.failing.map((f) => f.result))).toEqual(new Set(['timeout']));
    const cutOff = collection.pods.filter((r) => r.state !== 'ok');
    expect(cutOff.map((r) => [r.pod, r.state]).sort()).toEqual(onBroken.map((pod) => [pod, 'unreachable']).sort());
    expect(cutOff.every((r) => 'detail' in r && r.detail.startsWith('no collector reached its agent over the pod network') && r.detail.includes('overlay-blocked-by-firewall'))).toBe(true);
    // Bytes through the API server grow with the failures, not with the pods' square.
    expect(collection.via!.proxyRequests).toBe(2);
    // The simulator's ground truth agrees: what is lost involves node-77 only.
    const truth = p.cluster.model.groundTruth.current();
    expect(truth.unreachableCount).toBeGreaterThan(0);
    expect(truth.pairs.every((x) => [x.from, x.to].some((label) => p!.cluster.store.get('pods', label.split('/')[0], label.split('/')[1]!)?.spec.nodeName === 'node-77'))).toBe(true);
    // Opened again: green within two rounds.
    const blocked = rounds(p);
    await blockAt(p, 8472, undefined);
    await roundsPast(p, blocked, 2);
    const healed = await aggregated(p);
    expect([healed.matrix.failing, healed.collection.pods.filter((r) => r.state !== 'ok')]).toEqual([[], []]);
  }, 240_000);
});
