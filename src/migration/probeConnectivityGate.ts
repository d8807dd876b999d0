import type { MigrationConfig } from '../config/configSchema.js';
import { ConnectivityMonitor, type TimelineEntry } from '../connectivity/connectivityMonitor.js';
import type { ConnectivityMatrix } from '../connectivity/connectivityMatrix.js';
import { markProbes, staleProbes, type ProbeMarks, type StaleProbe } from '../connectivity/probeFreshness.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { WatchedPodList, withWatchedPods } from '../kube/watchedPodList.js';
import type { ConnectivityFailure, ConnectivityGate, ConnectivityVerdict } from './connectivityGate.js';

function failureOfEntry(e: TimelineEntry): ConnectivityFailure {
  return {
    from: e.fromPod,
    to: e.toPod ?? e.ip ?? '?',
    fromNode: e.fromNode,
    toNode: e.toNode,
    network: e.network,
    reason: e.kind === 'flow' ? `long-lived flow cut (${e.reason}): ${e.detail}` : `${e.reason}${e.detail ? `: ${e.detail}` : ''}`,
    firstSeen: new Date(e.firstSeen).toISOString(),
    lastSeen: new Date(e.lastSeen).toISOString(),
  };
}

function verdictOf(m: ConnectivityMatrix): ConnectivityVerdict {
  const at = m.collectedAt;
  const failures: ConnectivityFailure[] = [
    ...m.failing.map((f) => ({ from: f.fromPod, to: f.toPod, fromNode: f.fromNode, toNode: f.toNode, network: f.network, reason: `${f.result}${f.detail ? `: ${f.detail}` : ''} (${f.ip})`, firstSeen: f.failingSince ?? at, lastSeen: at })),
    ...m.flowBreaks.filter((b) => b.recent && b.reason === 'network').map((b) => ({ from: b.fromPod, to: b.toPod, fromNode: b.fromNode, toNode: b.toNode, network: b.network, reason: `long-lived flow cut: ${b.cause}`, firstSeen: b.brokenAt, lastSeen: b.brokenAt })),
    ...m.silent.map((s) => ({ from: s.pod, to: '(probe status)', fromNode: s.node, reason: `${s.state}: ${s.detail}`, firstSeen: at, lastSeen: at })),
  ];
  return { ok: m.ok, probes: m.summary.pods, pairs: m.summary.probes, failures: m.ok ? [] : failures };
}

/** Green but not re-probed in time: not a pass (the probes may be stuck, or too slow for the timeout). */
function staleVerdict(v: ConnectivityVerdict, stale: readonly StaleProbe[], seconds: number): ConnectivityVerdict {
  const at = new Date().toISOString();
  const failures = stale.map((p) => ({ from: p.pod, to: '(probe status)', fromNode: p.node, reason: `${p.stalePeers} peers not probed again within ${seconds}s of the checkpoint (raise timeouts.connectivitySeconds?)`, firstSeen: at, lastSeen: at }));
  return { ...v, ok: false, failures };
}

/**
 * The engine's connectivity gate over the probe agents: checkpoints wait until a collection is
 * all green (new probe pods need a round to report), and a background monitor catches failures
 * between checkpoints. A failure counts once a pair has failed for connectivity.failureThresholdSeconds,
 * so a probe pod being deleted on purpose (its peers still dialling it for a moment) does not.
 */
export function createProbeGate(client: ClusterClient, config: MigrationConfig): ConnectivityGate {
  const c = config.connectivity;
  // Every collection starts from the probe pods; one list and a watch serve them all (issue 10).
  const probePods = new WatchedPodList(client, { namespace: c.namespace, labelSelector: c.podSelector || undefined });
  const monitor = new ConnectivityMonitor(withWatchedPods(client, probePods), {
    namespace: c.namespace,
    labelSelector: c.podSelector,
    port: c.port,
    intervalMs: Math.max(1, Math.round(c.collectIntervalSeconds * 1000)),
    timeoutMs: Math.max(1000, Math.round(c.timeoutSeconds * 1000) * 5),
    failureThresholdMs: Math.round(c.failureThresholdSeconds * 1000),
    collection: c.collection,
    collectors: c.collectors,
  });
  let since = Date.now();
  let checkpoints = 0;
  let pairChecks = 0;
  let failedPairChecks = 0;
  return {
    async checkpoint(signal) {
      const deadline = Date.now() + config.timeouts.connectivitySeconds * 1000;
      // Results from before the checkpoint do not count (see probeFreshness.ts).
      let marks: ProbeMarks | undefined;
      let last: ConnectivityVerdict | undefined;
      for (;;) {
        const { matrix: m, collection } = await monitor.collect({ fresh: true });
        if (!marks) marks = markProbes(collection);
        const stale = staleProbes(collection, marks);
        last = verdictOf(m);
        if (last.ok && !stale.length) break;
        if (Date.now() >= deadline || signal?.aborted) {
          if (last.ok) last = staleVerdict(last, stale, config.timeouts.connectivitySeconds);
          break;
        }
        // Fresh results come a probe round later: look again then (not at the monitor's slower pace).
        await new Promise((r) => setTimeout(r, Math.max(50, Math.min(c.intervalSeconds, c.collectIntervalSeconds) * 1000)));
      }
      checkpoints++;
      pairChecks += last.pairs;
      failedPairChecks += last.failures.length;
      return last;
    },
    async settle(signal) {
      monitor.start();
      const until = Date.now() + (c.settleSeconds + c.failureThresholdSeconds) * 1000;
      while (Date.now() < until && !signal?.aborted) {
        await new Promise((r) => setTimeout(r, Math.min(until - Date.now(), Math.max(50, c.collectIntervalSeconds * 1000))));
      }
      // One collection after the window, so the timeline reaches its end.
      await monitor.collectOnce();
    },
    startMonitor() {
      monitor.start();
    },
    takeMonitorFailures() {
      const failures = monitor.failures({ since }).map(failureOfEntry);
      since = Date.now();
      return failures;
    },
    async stop() {
      try {
        await monitor.stop();
      } finally {
        await probePods.stop();
      }
    },
    stats() {
      return { collections: monitor.samples, pairChecks, failedPairChecks, checkpoints } as ReturnType<ConnectivityGate['stats']>;
    },
  };
}
