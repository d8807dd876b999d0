import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess, startCli } from '../support/cliProcess.js';
import { waitFor } from '../support/waitFor.js';
import { startProbedCluster, waitForMatrix, type ProbedCluster } from './probeCluster.js';

// `cni-migration check` as a user runs it: a separate process with a kubeconfig file, talking
// HTTPS to the simulated cluster this test runs.
describe('cni-migration check', () => {
  let p: ProbedCluster;
  beforeAll(async () => {
    p = await startProbedCluster({ nodes: 3 });
    await waitForMatrix(p.client, 'every pair ok', (m) => m.ok);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('exits 0 with the matrix when every pair is ok, and 1 naming the pairs once a node loses its CNI agent — through collectors, and with --full', async () => {
    const healthy = await runCliProcess(['check', '--full', '--kubeconfig', p.kubeconfigPath]);
    expect(healthy.stderr).toBe('');
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^Connectivity in namespace cni-migration-probe at \S+: OK$/m);
    expect(healthy.stdout).toMatch(/node-1 +ok \S+ +ok \S+ +ok \S+/);
    const json = await runCliProcess(['--kubeconfig', p.kubeconfigPath, 'check', '--full', '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, nodes: ['node-1', 'node-2', 'node-3'], failing: [] });
    // Through two collector agents: two proxied requests for all six probe pods, the same verdict.
    const aggregated = await runCliProcess(['check', '--kubeconfig', p.kubeconfigPath, '-o', 'json']);
    expect(aggregated.code, aggregated.stderr).toBe(0);
    const agg = JSON.parse(aggregated.stdout) as { ok: boolean; summary: { pods: number; reportingPods: number; probes: number }; via: { mode: string; collectors: string[]; direct: number; proxyRequests: number } };
    expect(agg.ok).toBe(true);
    expect(agg.via).toMatchObject({ mode: 'aggregated', direct: 0, proxyRequests: 2 });
    expect(agg.via.collectors).toHaveLength(2);
    expect(agg.summary.reportingPods).toBe(agg.summary.pods);
    expect(agg.summary.probes).toBe((JSON.parse(json.stdout) as { summary: { probes: number } }).summary.probes);

    for (const n of ['node-1', 'node-2']) await p.client.patchNode(n, { metadata: { labels: { 'test.cni-migration.dev/canal': 'true' } } });
    await p.client.patchWorkload('DaemonSet', 'kube-system', 'canal', { type: 'strategic', body: { spec: { template: { spec: { nodeSelector: { 'test.cni-migration.dev/canal': 'true' } } } } } });
    await waitForMatrix(p.client, 'pairs to node-3 failing', (m) => m.failing.some((f) => f.fromNode === 'node-1' && f.toNode === 'node-3'));
    const broken = await runCliProcess(['check', '--full', '--kubeconfig', p.kubeconfigPath]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/: FAILED$/m);
    expect(broken.stdout).toMatch(/^ {2}node-1 -> node-3 {2}\S+ -> \S+ 10\.244\.\d+\.\d+ \(default, primary\): timeout/m);
    expect(broken.stdout).toMatch(/node-1 +ok \S+ +ok \S+ +FAIL \d+\/\d+ default/);
    // The collectors see the same failing pairs; node-3's agents cannot be reached from node-1 or
    // node-2, and a collector there is reached through the API server: never a silent pass.
    const brokenAgg = await runCliProcess(['check', '--kubeconfig', p.kubeconfigPath]);
    expect(brokenAgg.code).toBe(1);
    expect(brokenAgg.stdout).toMatch(/: FAILED$/m);
    expect(brokenAgg.stdout).toMatch(/^ {2}node-1 -> node-3 {2}\S+ -> \S+ 10\.244\.\d+\.\d+ \(default, primary\): timeout/m);
    expect(brokenAgg.stdout).toMatch(/^Collected through probe-\S+, probe-\S+/m);
    expect(brokenAgg.stdout).not.toMatch(/from \\ to/);
  });

  it('exits 2 on bad usage and bad configuration', async () => {
    const badTimeout = await runCliProcess(['check', '--kubeconfig', p.kubeconfigPath, '--timeout', 'soon']);
    expect([badTimeout.code, badTimeout.stderr]).toEqual([2, 'error: --timeout must be a duration above zero such as 500ms, 5s or 1m, got "soon"\n']);
    const badOutput = await runCliProcess(['check', '--kubeconfig', p.kubeconfigPath, '-o', 'yaml']);
    expect([badOutput.code, badOutput.stderr]).toEqual([2, 'error: -o/--output must be text or json, got "yaml"\n']);
    const noConfig = await runCliProcess(['check', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('--kubeconfig /nonexistent/kubeconfig: no such file');
  });
});

describe('cni-migration probe-agent', () => {
  it('refuses to start without the downward-API environment (exit 2)', async () => {
    const r = await runCliProcess(['probe-agent'], { POD_NAME: '', POD_NAMESPACE: '', NODE_NAME: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('probe-agent needs POD_NAME, POD_NAMESPACE, NODE_NAME in its environment');
  });

  it('serves /healthz and /status, and stops cleanly on SIGTERM', async () => {
    // A namespace without the probe Service: no peers, so nothing is probed from this machine.
    const p = await startProbedCluster({ nodes: 1 });
    try {
      const agent = startCli(['--kubeconfig', p.kubeconfigPath, 'probe-agent', '--listen-address', '127.0.0.1', '--port', '0', '--interval', '100ms'], {
        POD_NAME: 'lonely',
        POD_NAMESPACE: 'default',
        NODE_NAME: 'node-1',
        POD_IP: '127.0.0.1',
      });
      const port = await waitFor('the listening line', () => /listening on 127\.0\.0\.1:(\d+)/.exec(agent.output().stdout)?.[1], 30_000);
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        return { status: res.status, text: await res.text() };
      };
      expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n' });
      const status = await waitFor('a probe round', async () => {
        const doc = JSON.parse((await get('/status')).text) as { rounds: number; pod: { name: string; node: string }; peers: unknown[]; ok: boolean };
        return doc.rounds >= 1 ? doc : undefined;
      });
      expect(status).toMatchObject({ pod: { name: 'lonely', node: 'node-1' }, peers: [], ok: true });
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      expect(agent.output().stdout).toContain('probe-agent stopped');
    } finally {
      await p.stop();
    }
  });
});
