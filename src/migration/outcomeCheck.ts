import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';
import { ipInCidrText } from '../net/ipv4.js';
import { usesPodNetwork } from '../ops/deleteNodePods.js';
import { POLICY_BRIDGE_LABEL } from '../policy/networkPolicySemantics.js';
import { CCNP_KIND, GNP_KIND } from './actions/policyBridgeActions.js';
import { readClusterSnapshot } from './clusterSnapshot.js';
import type { PreparedMigration } from './runMigration.js';

/** One verified property of a finished migration. */
export interface OutcomeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** A moment the simulator's ground truth recorded a violation (structurally its GroundTruthEntry). */
export interface ViolationEntry {
  at: string;
  unreachableCount: number;
  openedCount: number;
  added: readonly { from: string; to: string; network: string; reason: string; kind?: 'opened' }[];
}

/** What the ground truth saw, for the outcome line: how often, how bad at worst, and the first pairs it named. */
export function describeViolations(entries: readonly ViolationEntry[]): string {
  if (!entries.length) return 'no violation at any moment';
  const worstCut = Math.max(...entries.map((e) => e.unreachableCount));
  const worstOpen = Math.max(...entries.map((e) => e.openedCount));
  const first = entries[0]!;
  const named = entries.flatMap((e) => e.added).slice(0, 3);
  const pairs = named.map((p) => `${p.from} -> ${p.to} (${p.network}, ${p.kind === 'opened' ? 'denied but open' : 'cut'}: ${p.reason})`);
  const worst = [worstCut ? `${worstCut} allowed pair(s) cut` : '', worstOpen ? `${worstOpen} denied pair(s) open` : ''].filter(Boolean).join(', ');
  return `${entries.length} moment(s) from ${first.at}; at worst ${worst}; e.g. ${pairs.join('; ')}`;
}

/**
 * Verifies, from the cluster itself, that a migration is finished and clean: every step done,
 * every node migrated, no migration taint or cordon left, the source agent gone, every pod on
 * Cilium's range; plus the simulator's ground truth when there is one.
 */
export async function verifyMigrationOutcome(client: ClusterClient, prepared: PreparedMigration, groundTruthViolations?: readonly ViolationEntry[]): Promise<{ ok: boolean; checks: OutcomeCheck[]; summary: string }> {
  const { strategy, ctx, source } = prepared;
  const checks: OutcomeCheck[] = [];
  const s = await readClusterSnapshot(client, strategy.snapshotQuery(ctx));
  const open = strategy.steps.map((st) => strategy.readiness(st.id, s, ctx)).filter((r) => !r.ready);
  checks.push({ name: `every step of the ${strategy.name} strategy done`, ok: open.length === 0, detail: open.length ? open.map((r) => `step ${r.step}: ${r.reason}`).join('; ') : `${strategy.steps.length} steps` });
  const notMigrated = s.nodes.filter((n) => strategy.nodePhase(n, ctx) !== strategy.finalPhase).map((n) => `${n.name} (${strategy.nodePhase(n, ctx)})`);
  checks.push({ name: 'every node migrated', ok: notMigrated.length === 0, detail: notMigrated.length ? `not migrated: ${notMigrated.join(', ')}` : `${s.nodes.length} nodes` });
  const keys = strategy.taintKeys(ctx);
  const tainted = s.nodes.filter((n) => n.taints.some((t) => keys.includes(t.key))).map((n) => n.name);
  checks.push({ name: 'no migration taint left', ok: tainted.length === 0, detail: tainted.join(', ') || 'none' });
  const cordoned = s.nodes.filter((n) => n.unschedulable).map((n) => n.name);
  checks.push({ name: 'no node left cordoned', ok: cordoned.length === 0, detail: cordoned.join(', ') || 'none' });
  const ds = `${source.daemonSet.namespace}/${source.daemonSet.name}`;
  let sourceLeft = false;
  try {
    await client.getWorkload('DaemonSet', source.daemonSet.namespace, source.daemonSet.name);
    sourceLeft = true;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  checks.push({ name: `source CNI (${source.kind}) removed`, ok: !sourceLeft, detail: sourceLeft ? `DaemonSet ${ds} still present` : `DaemonSet ${ds} gone` });
  const pools = strategy.ciliumPool(ctx);
  const cidr = pools.join(', ');
  const pods = (await client.listPods()).filter((p) => usesPodNetwork(p) && p.status?.podIP);
  const outside = pods.filter((p) => !pools.some((c) => ipInCidrText(p.status!.podIP!, c))).map((p) => `${p.metadata.namespace}/${p.metadata.name}=${p.status?.podIP}`);
  checks.push({ name: `every pod IP in Cilium's range ${cidr}`, ok: outside.length === 0, detail: outside.length ? outside.slice(0, 10).join(', ') : `${pods.length} pods` });
  const bridge: string[] = [];
  for (const kind of [GNP_KIND, CCNP_KIND]) {
    if (!(await client.servesKind(kind))) continue;
    for (const o of await client.listObjects(kind, { labelSelector: `${POLICY_BRIDGE_LABEL.key}=${POLICY_BRIDGE_LABEL.value}` })) bridge.push(`${o.kind} ${o.metadata.name}`);
  }
  checks.push({ name: 'no NetworkPolicy bridge left', ok: bridge.length === 0, detail: bridge.length ? bridge.join(', ') : 'none' });
  if (groundTruthViolations) {
    checks.push({ name: 'simulator saw no pod pair lose connectivity (nor a denied pair open)', ok: groundTruthViolations.length === 0, detail: describeViolations(groundTruthViolations) });
  }
  const ok = checks.every((c) => c.ok);
  const summary = [`Migration ${ok ? 'verified' : 'NOT verified'}:`, ...checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.detail})`)].join('\n');
  return { ok, checks, summary };
}
