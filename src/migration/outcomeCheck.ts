import type { MigrationConfig } from '../config/configSchema.js';
import type { ClusterClient } from '../kube/clusterClient.js';
import { isNotFound } from '../kube/kubeErrors.js';

/** One verified property of a finished migration. */
export interface OutcomeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const toInt = (s: string) => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const bits = Number(bitsText ?? 32);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base ?? '0.0.0.0') & mask) >>> 0);
}

/**
 * Verifies, from the cluster itself, that a migration is finished and clean: every node migrated,
 * no migration taint or cordon left, the old agents gone, every pod on Cilium's range; plus the
 * simulator's ground truth when there is one.
 */
export async function verifyMigrationOutcome(client: ClusterClient, config: MigrationConfig, groundTruthViolations?: unknown[]): Promise<{ ok: boolean; checks: OutcomeCheck[]; summary: string }> {
  const L = config.labels;
  const checks: OutcomeCheck[] = [];
  const nodes = await client.listNodes();
  const notMigrated = nodes.filter((n) => n.metadata.labels?.[L.migrated] !== L.value).map((n) => n.metadata.name);
  checks.push({ name: 'every node migrated', ok: notMigrated.length === 0, detail: notMigrated.length ? `not migrated: ${notMigrated.join(', ')}` : `${nodes.length} nodes` });
  const tainted = nodes.filter((n) => (n.spec?.taints ?? []).some((t) => t.key === L.cilium)).map((n) => n.metadata.name);
  checks.push({ name: 'no migration taint left', ok: tainted.length === 0, detail: tainted.join(', ') || 'none' });
  const cordoned = nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata.name);
  checks.push({ name: 'no node left cordoned', ok: cordoned.length === 0, detail: cordoned.join(', ') || 'none' });
  const left: string[] = [];
  for (const name of [config.cni.canalDaemonSet, 'cilium', 'kube-multus-canal', 'kube-multus-cilium']) {
    try {
      await client.getWorkload('DaemonSet', 'kube-system', name);
      left.push(name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  checks.push({ name: 'Canal, first Cilium and Multus removed', ok: left.length === 0, detail: left.length ? `still present: ${left.join(', ')}` : 'removed' });
  const pods = (await client.listPods()).filter((p) => !p.spec?.hostNetwork && p.status?.podIP);
  const outside = pods.filter((p) => !ipInCidr(p.status!.podIP!, config.cilium.podCIDR)).map((p) => `${p.metadata.namespace}/${p.metadata.name}=${p.status?.podIP}`);
  checks.push({ name: `every pod IP in Cilium's range ${config.cilium.podCIDR}`, ok: outside.length === 0, detail: outside.length ? outside.slice(0, 10).join(', ') : `${pods.length} pods` });
  if (groundTruthViolations) {
    checks.push({ name: 'simulator saw no pod pair lose connectivity', ok: groundTruthViolations.length === 0, detail: `${groundTruthViolations.length} violation entries` });
  }
  const ok = checks.every((c) => c.ok);
  const summary = [`Migration ${ok ? 'verified' : 'NOT verified'}:`, ...checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.detail})`)].join('\n');
  return { ok, checks, summary };
}
