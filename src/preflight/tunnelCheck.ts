/**
 * The tunnel-port check: before Cilium runs anywhere, a short-lived hostNetwork DaemonSet binds
 * Cilium's tunnel port on every node and each agent is asked, through the pod proxy, whether every
 * other node answers on it. A firewall that drops the port shows here as named node pairs, before
 * the first node is switched (rather than as the first node's lost connectivity and a rollback).
 * The DaemonSet is deleted, and its pods waited out (they hold the port), whatever the outcome.
 */
import { mapLimited } from '../connectivity/collectProbeStatuses.js';
import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import type { KubeObject, Node } from '../kube/kubeTypes.js';
import { mirrorImage } from '../manifests/imageReference.js';
import type { PreflightCheck } from '../migration/preflightChecks.js';
import { Deadline } from '../ops/deadline.js';
import { waitForRollout } from '../ops/rollout.js';
import { watchUntil } from '../ops/watchUntil.js';
import { formatTargets, TUNNEL_CHECK_PATH, TunnelCheckDocumentSchema, type TunnelTarget } from '../connectivity/tunnelCheck/tunnelCheckDocument.js';
import { names } from './clusterChecks.js';
import { ciliumSettingsOf } from '../cilium/ciliumSettings.js';
import { isNotFound, isTransient } from '../kube/kubeErrors.js';
import type { PreparedMigration } from '../migration/runMigration.js';

export const TUNNEL_CHECK = { name: 'cni-migration-tunnel-check', label: 'app.kubernetes.io/name' } as const;
const CHECK_NAME = "Cilium's tunnel port open between every pair of nodes";

/** The check's Namespace and DaemonSet. */
export function tunnelCheckManifests(config: MigrationConfig, port: number): KubeObject[] {
  const ns = config.connectivity.namespace;
  const httpPort = config.connectivity.tunnelCheck.httpPort;
  const labels = { [TUNNEL_CHECK.label]: TUNNEL_CHECK.name, 'app.kubernetes.io/managed-by': 'cni-migration' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: TUNNEL_CHECK.name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: { [TUNNEL_CHECK.label]: TUNNEL_CHECK.name } },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            // Every node, control plane and tainted ones included: Cilium's tunnel reaches them all.
            tolerations: [{ operator: 'Exists' }],
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'tunnel-check',
                image: mirrorImage(config.images.probeAgent, config.images.registryMirror),
                args: ['tunnel-check-agent', `--port=${port}`, `--http-port=${httpPort}`],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                ports: [{ name: 'http', containerPort: httpPort, protocol: 'TCP' }, { name: 'tunnel', containerPort: port, protocol: 'UDP' }],
                readinessProbe: { httpGet: { path: '/healthz', port: httpPort }, periodSeconds: 1 },
                resources: { requests: { cpu: '10m', memory: '32Mi' } },
              },
            ],
          },
        },
      },
    },
  ];
}

/** Targets in chunks whose `targets=` list stays within `maxChars` (URL-encoded, about 3 KiB of margin under 16 KiB). */
export function chunkTargets(targets: readonly TunnelTarget[], maxChars = 12_000): TunnelTarget[][] {
  const chunks: TunnelTarget[][] = [];
  let current: TunnelTarget[] = [];
  let size = 0;
  for (const t of targets) {
    const len = encodeURIComponent(`${t.node}@${t.ip},`).length;
    if (current.length && size + len > maxChars) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += len;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

function internalIp(n: Node): string | undefined {
  const addresses = (n.status as { addresses?: { type?: string; address?: string }[] } | undefined)?.addresses ?? [];
  return addresses.find((a) => a.type === 'InternalIP')?.address;
}

/** Runs the check for Cilium's tunnel port; never throws for what it finds (a verdict says it). */
export async function runTunnelCheck(client: ClusterClient, config: MigrationConfig, tunnel: { protocol: string; port: number }, opts: { timeoutMs?: number; removeCreatedNamespace?: boolean } = {}): Promise<PreflightCheck> {
  const ns = config.connectivity.namespace;
  const what = `UDP ${tunnel.port} (${tunnel.protocol.toUpperCase()})`;
  const fix = `open ${what} between the nodes (security groups, host firewalls), or set cilium.tunnelPort to a port that is open`;
  const objects = tunnelCheckManifests(config, tunnel.port);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // `preflight` alone leaves the cluster as it found it; a run keeps the namespace its probes go into next.
  const created = opts.removeCreatedNamespace === true && !(await namespaceExists(client, ns));
  try {
    const nodes = await client.listNodes();
    const targets: TunnelTarget[] = nodes.flatMap((n) => (internalIp(n) ? [{ node: n.metadata.name ?? '', ip: internalIp(n)! }] : []));
    for (const o of objects) await client.applyObject(o);
    try {
      await waitForRollout(client, { kind: 'DaemonSet', namespace: ns, name: TUNNEL_CHECK.name }, { deadline: Deadline.in(timeoutMs) });
    } catch (e) {
      return { name: CHECK_NAME, verdict: 'fail', detail: `the check's agents (DaemonSet ${ns}/${TUNNEL_CHECK.name}) did not all start — is ${what} already in use on a node? ${e instanceof Error ? e.message : String(e)}`, fix };
    }
    const pods = await client.listPods({ namespace: ns, labelSelector: `${TUNNEL_CHECK.label}=${TUNNEL_CHECK.name}` });
    const failed: string[] = [];
    let pairs = 0;
    // At most 32 agents asked at once; each about its peers in chunks, so no request's URL outgrows
    // what an HTTP server takes (Node's: 16 KiB of headers; 1000 nodes' targets are about 25 KiB).
    await mapLimited(pods, 32, async (p) => {
      const from = p.spec?.nodeName ?? '?';
      for (const chunk of chunkTargets(targets.filter((t) => t.node !== from))) {
        let res;
        try {
          res = await readAgent(client, ns, p.metadata.name ?? '', config.connectivity.tunnelCheck.httpPort, formatTargets(chunk));
        } catch (e) {
          failed.push(`${from}: its agent could not be read through the pod proxy: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        let doc;
        try {
          doc = TunnelCheckDocumentSchema.parse(JSON.parse(res.body));
        } catch {
          failed.push(`${from}: its agent answered ${res.status} ${res.body.slice(0, 120)}`);
          return;
        }
        for (const r of doc.results) {
          pairs++;
          if (!r.ok) failed.push(`${from} → ${r.node} (${r.detail ?? 'no answer'})`);
        }
      }
    });
    if (failed.length) return { name: CHECK_NAME, verdict: 'fail', detail: `${what} does not get through: ${names(failed.sort())}`, fix };
    return { name: CHECK_NAME, verdict: 'pass', detail: `${what}: ${pairs} node pairs answered (a short-lived hostNetwork DaemonSet ${ns}/${TUNNEL_CHECK.name})` };
  } finally {
    await removeTunnelCheck(client, ns);
    if (created) {
      await client.deleteObject({ apiVersion: 'v1', kind: 'Namespace', name: ns });
      // Gone before the command ends, so a run started right after does not meet it terminating.
      await namespaceExists(client, ns);
    }
  }
}

/** Whether the namespace exists; one still terminating (an earlier preflight's) is waited out. */
async function namespaceExists(client: ClusterClient, name: string): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const ns = await client.getObject({ apiVersion: 'v1', kind: 'Namespace', name });
      if ((ns.status as { phase?: string } | undefined)?.phase !== 'Terminating') return true;
      if (Date.now() > deadline) throw new Error(`namespace ${name} is still terminating after 60s`);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * One agent's answer through the pod proxy. The proxy is not retried by the client (probe reads
 * pace themselves), so a dropped connection or a 5xx/429 from the API server on the way is tried
 * again here a few times before it counts.
 */
async function readAgent(client: ClusterClient, ns: string, pod: string, port: number, targets: string): Promise<{ status: number; body: string }> {
  const attempts = 4;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.proxyPodGet(ns, pod, port, TUNNEL_CHECK_PATH, { query: { targets, timeoutMs: '1000' }, timeoutMs: 15_000 });
      if ((res.status < 500 && res.status !== 429) || attempt >= attempts) return res;
    } catch (e) {
      if (!isTransient(e) || attempt >= attempts) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }
}

/**
 * The tunnel port to check for a prepared migration, from the Cilium it will apply (its
 * cilium-config), or why there is nothing to check: Cilium already runs (it holds the port; the
 * connectivity gate checks its tunnel), the migration has started, or Cilium routes natively.
 */
export function tunnelToCheck(prepared: PreparedMigration): { protocol: string; port: number } | { skip: string } {
  if (!prepared.ctx.config.connectivity.tunnelCheck.enabled) return { skip: 'connectivity.tunnelCheck.enabled is false' };
  if (prepared.ctx.facts.cilium) return { skip: 'Cilium already runs and holds its tunnel port; the connectivity gate checks its tunnel' };
  if (prepared.ctx.started) return { skip: 'the migration has started' };
  const cm = Object.values(prepared.manifests)
    .flat()
    .find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'cilium-config');
  if (!cm) return { skip: "no cilium-config among the manifests to apply" };
  const s = ciliumSettingsOf((cm as { data?: Record<string, string> }).data ?? {}, `ConfigMap ${cm.metadata.namespace ?? ''}/cilium-config`);
  if (s.routingMode === 'native') return { skip: 'Cilium routes natively (no tunnel)' };
  return { protocol: s.tunnelProtocol, port: s.tunnelPort };
}

/**
 * A check DaemonSet left by a run killed while it checked: its pods bind Cilium's tunnel port on
 * every node, so a run that does not check again (Cilium installed, the check turned off) must not
 * leave it there. Returns whether there was one.
 */
export async function removeLeftoverTunnelCheck(client: ClusterClient, namespace: string): Promise<boolean> {
  try {
    await client.getObject({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name: TUNNEL_CHECK.name });
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
  await removeTunnelCheck(client, namespace);
  return true;
}

/** Deletes the DaemonSet and waits until its pods are gone (they hold the port Cilium will bind). */
export async function removeTunnelCheck(client: ClusterClient, namespace: string): Promise<void> {
  await client.deleteObject({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name: TUNNEL_CHECK.name }, { propagationPolicy: 'Background' });
  await watchUntil(
    client,
    `the tunnel check's pods to be gone`,
    { kind: { apiVersion: 'v1', kind: 'Pod' }, namespace, labelSelector: `${TUNNEL_CHECK.label}=${TUNNEL_CHECK.name}` },
    (pods) => (pods.length === 0 ? { done: true, value: undefined } : { done: false, status: `${pods.length} left` }),
    { deadline: Deadline.in(60_000) },
  );
}
