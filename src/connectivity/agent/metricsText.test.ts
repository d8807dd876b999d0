import { getMetricsFromIterator, type PromData, type PromHistogramData } from 'prom2javascript';
import { describe, expect, it } from 'vitest';
import { LatencyHistograms } from './latencyHistogram.js';
import { renderMetrics } from './metricsText.js';
import { PeerHistory } from './peerHistory.js';
import type { ProbeTarget } from './probeTypes.js';

const parse = (text: string) => getMetricsFromIterator(text.split('\n')[Symbol.iterator]());

function fixture() {
  const h = new PeerHistory();
  const b: ProbeTarget = { key: 'b@10.0.2.2', pod: 'probe-b', node: 'n2', ip: '10.0.2.2', network: 'flannel', interface: 'eth0', primary: true };
  // A label value that needs every escape the format has.
  const c: ProbeTarget = { key: 'c@172.29.3.2', pod: 'we"ird\\pod\nname', node: 'n3', ip: '172.29.3.2', network: 'cilium', interface: 'net1', primary: false };
  h.sync([b, c], 0);
  h.record(b.key, { at: 1, result: 'ok', latencyMs: 0.8 });
  h.record(b.key, { at: 2, result: 'ok', latencyMs: 3 });
  h.record(b.key, { at: 3, result: 'timeout', latencyMs: 1000 });
  h.record(c.key, { at: 1, result: 'refused', latencyMs: 1 });
  const lat = new LatencyHistograms();
  lat.observe({ peer_node: 'n2', network: 'flannel' }, 0.0008);
  lat.observe({ peer_node: 'n2', network: 'flannel' }, 0.003);
  lat.observe({ peer_node: 'n3', network: 'cilium' }, 0.2);
  return renderMetrics({ node: 'n1', rounds: 3, peers: h.all(), latency: lat.all(), openFlows: 2, flowBreaks: [{ peerNode: 'n2', network: 'flannel', reason: 'network', count: 1 }] });
}

describe('renderMetrics', () => {
  it('is valid Prometheus text that a parser reads back: requests by peer, node, network and result', async () => {
    const m = await parse(fixture());
    const requests = m.cni_migration_probe_requests_total!;
    expect(requests.type).toBe('counter');
    const byKey = Object.fromEntries((requests.data as PromData[]).map((d) => [`${d.labels.peer}|${d.labels.peer_node}|${d.labels.network}|${d.labels.result}`, d.value]));
    expect(byKey).toEqual({ 'probe-b|n2|flannel|ok': 2, 'probe-b|n2|flannel|timeout': 1, 'we"ird\\pod\nname|n3|cilium|refused': 1 });
    for (const d of requests.data as PromData[]) expect(d.labels.node).toBe('n1');
    const up = m.cni_migration_probe_peer_up!.data as PromData[];
    expect(up.map((d) => [d.labels.peer, d.value])).toEqual([
      ['probe-b', 0],
      ['we"ird\\pod\nname', 0],
    ]);
    expect((m.cni_migration_probe_rounds_total!.data as PromData[])[0]!.value).toBe(3);
    expect((m.cni_migration_probe_flows_open!.data as PromData[])[0]!.value).toBe(2);
    expect((m.cni_migration_probe_flow_breaks_total!.data as PromData[]).map((d) => [d.labels.peer_node, d.labels.reason, d.value])).toEqual([['n2', 'network', 1]]);
  });

  it('has a latency histogram per peer node and network with cumulative buckets', async () => {
    const m = await parse(fixture());
    const hist = m.cni_migration_probe_latency_seconds!;
    expect(hist.type).toBe('histogram');
    const series = hist.data as PromHistogramData[];
    const flannel = series.find((s) => s.labels.network === 'flannel')!;
    expect(flannel.labels).toEqual({ node: 'n1', peer_node: 'n2', network: 'flannel' });
    expect(flannel.count).toBe(2);
    expect(flannel.sum).toBeCloseTo(0.0038, 6);
    expect(flannel.buckets['0.0005']).toBe(0);
    expect(flannel.buckets['0.001']).toBe(1);
    expect(flannel.buckets['0.005']).toBe(2);
    expect(flannel.buckets['+Inf']).toBe(2);
    const cilium = series.find((s) => s.labels.network === 'cilium')!;
    expect([cilium.buckets['0.1'], cilium.buckets['0.25'], cilium.count]).toEqual([0, 1, 1]);
  });

  it('exposes nothing per peer before any peer is known', async () => {
    const m = await parse(renderMetrics({ node: 'n1', rounds: 0, peers: [], latency: [], openFlows: 0, flowBreaks: [] }));
    expect((m.cni_migration_probe_peers!.data as PromData[])[0]!.value).toBe(0);
    expect(m.cni_migration_probe_requests_total?.data ?? []).toEqual([]);
  });
});
