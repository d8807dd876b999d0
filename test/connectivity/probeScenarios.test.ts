import { getMetricsFromIterator, type PromData } from 'prom2javascript';
import { afterEach, describe, expect, it } from 'vitest';
import { matrixCell } from '../../src/connectivity/connectivityMatrix.js';
import { renderMatrixText } from '../../src/report/matrixText.js';
import { SeedProcedure } from '../support/seedProcedure.js';
import { waitFor } from '../support/waitFor.js';
import { blockGeneve, checkOnce, NS, probePodsOn, startProbedCluster, waitForMatrix, type ProbedCluster } from './probeCluster.js';

// The probe agents' real code on the simulated cluster, collected through the API server's pod
// proxy with the product's client over HTTPS — the path `check` takes against a real cluster.
describe('probe agents on the simulated cluster', () => {
  let p: ProbedCluster | undefined;
  afterEach(async () => {
    await p?.stop();
    p = undefined;
  });

  const pairsInvolving = (nodes: string[], node: string) => nodes.flatMap((a) => nodes.filter((b) => a === node || b === node).map((b) => `${a}>${b}`));

  it('reports every pair ok on a healthy Canal cluster, same-node pairs included', async () => {
    p = await startProbedCluster({ nodes: 3 });
    const m = await waitForMatrix(p.client, 'every pair ok', (x) => x.ok && x.summary.probes === 6 * 5);
    expect(m.nodes).toEqual(['node-1', 'node-2', 'node-3']);
    expect(m.summary).toMatchObject({ pods: 6, reportingPods: 6, nodePairs: 9, okNodePairs: 9, failedProbes: 0 });
    for (const a of m.nodes) for (const b of m.nodes) expect(matrixCell(m, a, b)!.state, `${a} -> ${b}`).toBe('ok');
    expect(renderMatrixText(m)).toMatch(/: OK\n/);
    // The same agent serves Prometheus metrics through the proxy.
    const pod = probePodsOn(p, 'node-1')[0]!;
    const res = await p.client.proxyPodGet(NS, pod, 8080, '/metrics');
    const metrics = await getMetricsFromIterator(res.body.split('\n')[Symbol.iterator]());
    const ok = (metrics.cni_migration_probe_requests_total!.data as PromData[]).filter((d) => d.labels.result === 'ok');
    expect(new Set(ok.map((d) => d.labels.peer_node))).toEqual(new Set(['node-1', 'node-2', 'node-3']));
  });

  it('fails as soon as probe pods carry Cilium interfaces while GENEVE is blocked, naming the pairs and network cilium', async () => {
    p = await startProbedCluster({ nodes: 3 });
    await blockGeneve(p);
    const seed = new SeedProcedure(p.cluster);
    await seed.prepare();
    // Still all green: the probe pods only have their Flannel interface (the seed's knet-stress
    // would stay green until the priority swap made Cilium primary, too late).
    expect((await waitForMatrix(p.client, 'pairs ok after prepare', (x) => x.ok)).networks).toEqual(['default']);
    for (const pod of p.cluster.store.list('pods', NS).items) await p.client.deletePod(NS, pod.metadata.name!);
    await p.cluster.waitUntilSettled();
    const m = await waitForMatrix(p.client, 'cilium pairs failing', (x) => !x.ok && x.failing.length === 6 * 4 && x.silent.length === 0);
    expect(m.networks).toEqual(['cilium', 'flannel']);
    // Every cross-node pair fails on the Cilium extra interface only; Flannel and same-node paths are fine.
    expect(new Set(m.failing.map((f) => f.network))).toEqual(new Set(['cilium']));
    expect(m.failing.every((f) => f.fromNode !== f.toNode && !f.primary && f.result === 'timeout')).toBe(true);
    expect(new Set(m.failing.map((f) => `${f.fromNode}>${f.toNode}`))).toEqual(new Set(['node-1>node-2', 'node-1>node-3', 'node-2>node-1', 'node-2>node-3', 'node-3>node-1', 'node-3>node-2']));
    expect(m.failing[0]!.detail).toContain('overlay-blocked-by-firewall');
    expect(m.problems).toEqual(['6 node pairs failing (24 probes on cilium)']);
    const text = renderMatrixText(m);
    expect(text).toContain('FAILED');
    expect(text).toMatch(/node-1 -> node-2 {2}\S+ -> \S+ 172\.\d+\.\d+\.\d+ \(cilium, extra interface\): timeout/);
  });

  it('fails the pairs to and from a node whose Canal agent is gone, cuts flows there, and reports its new probe pod not Ready', async () => {
    p = await startProbedCluster({ nodes: 3 });
    await waitForMatrix(p.client, 'every pair ok with flows open', (x) => x.ok);
    await waitFor('flows open to node-3', async () => {
      const docs = await Promise.all(['node-1', 'node-2'].flatMap((n) => probePodsOn(p!, n)).map(async (pod) => JSON.parse((await p!.client.proxyPodGet(NS, pod, 8080, '/status')).body) as { flows: { open: { peerNode: string }[] } }));
      return docs.some((d) => d.flows.open.some((f) => f.peerNode === 'node-3'));
    });
    // Canal leaves node-3: its nodeSelector now needs a label node-3 does not have.
    for (const n of ['node-1', 'node-2']) await p.client.patchNode(n, { metadata: { labels: { 'test.cni-migration.dev/canal': 'true' } } });
    await p.client.patchWorkload('DaemonSet', 'kube-system', 'canal', { type: 'strategic', body: { spec: { template: { spec: { nodeSelector: { 'test.cni-migration.dev/canal': 'true' } } } } } });
    await waitFor('canal gone from node-3', () => !p!.cluster.store.list('pods', 'kube-system').items.some((x) => x.metadata.name!.startsWith('canal-') && x.spec.nodeName === 'node-3'));
    const nodes = ['node-1', 'node-2', 'node-3'];
    const expected = new Set(pairsInvolving(nodes, 'node-3'));
    const m = await waitForMatrix(p.client, 'exactly the pairs involving node-3 failing', (x) => {
      const failing = new Set(x.cells.filter((c) => c.state === 'failed').map((c) => `${c.from}>${c.to}`));
      return failing.size === expected.size && [...expected].every((k) => failing.has(k));
    });
    expect(matrixCell(m, 'node-1', 'node-2')!.state).toBe('ok');
    expect(m.failing.every((f) => f.network === 'default')).toBe(true);
    expect(m.failing.some((f) => f.detail?.includes('datapath-down'))).toBe(true);
    // Long-lived flows to or from node-3 were cut while both ends lived: downtime, not a pod going away.
    const cut = m.flowBreaks.filter((b) => b.reason === 'network');
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((b) => b.toNode === 'node-3' || b.fromNode === 'node-3')).toBe(true);
    expect(m.problems.some((x) => x.includes('cut by the network'))).toBe(true);

    // A probe pod restarted on node-3 cannot get a sandbox: collection reports it, it does not crash.
    const victim = probePodsOn(p, 'node-3')[0]!;
    await p.client.deletePod(NS, victim);
    const silent = await waitForMatrix(p.client, 'the replacement reported not Ready', (x) => x.silent.some((s) => s.node === 'node-3' && s.state === 'not-ready' && !s.detail.startsWith('terminating')));
    const entry = silent.silent.find((s) => s.node === 'node-3' && s.state === 'not-ready')!;
    expect(entry.pod).not.toBe(victim);
    expect(entry.detail).toMatch(/^Pending \(ContainerCreating: Failed to create pod sandbox: .*calico\/node container is running/);
    expect(renderMatrixText(silent)).toContain(`${entry.pod} on node-3: not-ready: Pending`);
  });

  it('reports a long-lived flow cut by a probe pod restart as the peer going away', async () => {
    p = await startProbedCluster({ nodes: 2 });
    await waitForMatrix(p.client, 'every pair ok', (x) => x.ok);
    // Find a flow some agent holds, then restart the pod at its other end.
    const { holder, peer } = await waitFor('a long-lived flow open', async () => {
      for (const pod of p!.cluster.store.list('pods', NS).items.map((x) => x.metadata.name!)) {
        const doc = JSON.parse((await p!.client.proxyPodGet(NS, pod, 8080, '/status')).body) as { flows: { open: { peer: string }[] } };
        const open = doc.flows.open[0];
        if (open) return { holder: pod, peer: open.peer };
      }
      return undefined;
    });
    await p.client.deletePod(NS, peer);
    const m = await waitForMatrix(p.client, 'the cut flow reported', (x) => x.flowBreaks.some((b) => b.fromPod === holder && b.toPod === peer));
    const cut = m.flowBreaks.find((b) => b.fromPod === holder && b.toPod === peer)!;
    expect(cut).toMatchObject({ reason: 'peer-gone', cause: 'peer-closed' });
    expect(renderMatrixText(m)).toContain(`${holder} -> ${peer}`);
    // The replacement comes up and every pair is ok again; the cut does not fail the check.
    await p.cluster.waitUntilSettled();
    const after = await waitForMatrix(p.client, 'every pair ok again', (x) => x.ok);
    expect(after.flowBreaks.some((b) => b.toPod === peer && b.reason === 'peer-gone')).toBe(true);
  });

  it('reports a probe pod whose agent does not answer and an API server proxy failure, without crashing', async () => {
    p = await startProbedCluster({ nodes: 2 });
    await waitForMatrix(p.client, 'every pair ok', (x) => x.ok);
    // A pod labelled as a probe that runs no agent: the pod proxy answers 503 connection refused.
    await p.http.request('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'impostor', labels: { 'app.kubernetes.io/name': 'cni-migration-probe' } },
      spec: { nodeName: 'node-2', containers: [{ name: 'sleep', image: 'busybox', command: ['sleep', 'infinity'] }] },
    });
    const m = await waitForMatrix(p.client, 'the impostor reported', (x) => x.silent.some((s) => s.pod === 'impostor' && s.state === 'proxy-error'));
    expect(m.silent.find((s) => s.pod === 'impostor')!.detail).toMatch(/^HTTP 503: .*connection refused/);
    expect(m.summary.reportingPods).toBe(4);
    expect(m.ok).toBe(false);
    // The API server itself failing every pods/proxy request: every pod reported, none crashes the collection.
    await p.http.request('POST', '/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cni-migration-sim' },
      data: { 'settings.yaml': 'faults:\n- {resource: pods/proxy, verb: get, code: 500}\n' },
    });
    await waitFor('fault in force', () => p!.cluster.settings.get().faults.length === 1);
    const broken = await checkOnce(p.client);
    expect(broken.summary).toMatchObject({ pods: 5, reportingPods: 0 });
    expect(broken.silent.every((s) => s.state === 'proxy-error' && s.detail.startsWith('HTTP 500'))).toBe(true);
    expect(broken.problems).toContain('no probe pod reported its status');
  });
});
