/**
 * The NetworkPolicy inventory as preflight checks (pure): which policies isolate which pods, what
 * happens to their enforcement during the migration with this source and strategy, ipBlocks that
 * name pod ranges (pod addresses change, and Cilium never matches pod addresses by CIDR), and
 * Calico's own policies, which have no Cilium effect.
 */
import type { KubeObject, Pod } from '../kube/kubeTypes.js';
import type { PreflightCheck } from '../migration/preflightChecks.js';
import { shortList } from '../migration/shortList.js';
import { cidrsOverlap, parseCidr } from '../net/ipv4.js';
import { policyDocOf, policySelects, type PolicyDoc, type PolicyDirection } from '../policy/networkPolicySemantics.js';
import type { SourceDescription } from '../source/sourceTypes.js';

/** What the policy checks read; "forbidden": the user may not list them; omitted: none. */
export interface PolicyInventory {
  pods: Pod[];
  networkPolicies?: KubeObject[] | 'forbidden';
  /** Calico's NetworkPolicy and GlobalNetworkPolicy objects (crd.projectcalico.org/v1); empty when not served. */
  calicoPolicies?: KubeObject[] | 'forbidden';
}

/** What the checks judge against. */
export interface PolicyCheckContext {
  source: Pick<SourceDescription, 'kind' | 'podCIDRs' | 'policyEnforcement'>;
  strategy: string;
  /** Cilium's pod ranges. */
  ciliumPool: string[];
  /** The run bridges NetworkPolicies across the two CNIs (dual-overlay from Calico/Canal). */
  policyBridge?: boolean;
}

const MAX_NAMES = 6;

const names = (list: readonly string[]) => shortList(list, MAX_NAMES);

/** The pods each policy isolates, per direction (running pod-network pods only). */
export function isolatedPods(policies: readonly PolicyDoc[], pods: readonly Pod[]): Map<string, { ingress: number; egress: number }> {
  const out = new Map<string, { ingress: number; egress: number }>();
  const live = pods.filter((p) => !p.spec?.hostNetwork && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  for (const p of policies) {
    const count = (d: PolicyDirection) => live.filter((pod) => policySelects(p, { namespace: pod.metadata.namespace ?? 'default', labels: pod.metadata.labels ?? {} }, d)).length;
    out.set(`${p.namespace}/${p.name}`, { ingress: count('Ingress'), egress: count('Egress') });
  }
  return out;
}

function inventoryCheck(policies: PolicyDoc[], inv: PolicyInventory, ctx: PolicyCheckContext): PreflightCheck {
  const name = 'NetworkPolicies';
  if (!policies.length) return { name, verdict: 'pass', detail: 'none: there is no isolation to keep' };
  const isolated = isolatedPods(policies, inv.pods);
  const live = inv.pods.filter((p) => !p.spec?.hostNetwork);
  const podsIsolated = live.filter((pod) => policies.some((p) => policySelects(p, { namespace: pod.metadata.namespace ?? 'default', labels: pod.metadata.labels ?? {} }, 'Ingress') || policySelects(p, { namespace: pod.metadata.namespace ?? 'default', labels: pod.metadata.labels ?? {} }, 'Egress')));
  const namespaces = [...new Set(policies.map((p) => p.namespace))].sort();
  const listed = names([...isolated].map(([k, v]) => `${k} (${[v.ingress ? `${v.ingress} ingress` : '', v.egress ? `${v.egress} egress` : ''].filter(Boolean).join(', ') || 'no pods'})`));
  const summary = `${policies.length} in ${namespaces.length} namespace(s) (${names(namespaces)}) isolate ${podsIsolated.length} pod(s): ${listed}`;
  if (ctx.source.policyEnforcement === 'none') {
    return {
      name,
      verdict: 'warn',
      detail: `${summary}. ${ctx.source.kind} enforces none of them today: they take effect for the first time as pods move to Cilium`,
      fix: 'review them before migrating (rehearse with `cni-migration demo --scenario` and a twin of these policies); they were never tested against live traffic',
    };
  }
  if (ctx.policyBridge) {
    return {
      name,
      verdict: 'pass',
      detail: `${summary}. Bridged while nodes are mixed: step 1 adds GlobalNetworkPolicies (felix denies, at the legacy end, what migrated pods' policies deny) and a CiliumClusterwideNetworkPolicy admitting legacy pods without isolating any, and Cilium enforces on each node as it switches; clean-up removes the bridge`,
    };
  }
  const gap =
    ctx.strategy === 'dual-overlay'
      ? 'without the policy bridge (a Cilium Helm manages, or --no-policy-bridge) Cilium runs with enable-policy never until finalize, so pods of migrated nodes lose this isolation until then (felix keeps enforcing on unmigrated nodes, and knows migrated pods by their status address)'
      : 'while pods have both interfaces, felix ties a pod to its status address only: a pod whose status address is already Cilium\'s, reaching a pod over the legacy network, is not matched by pod or namespace selectors, so those allowed flows can be dropped until both ends are on Cilium';
  return { name, verdict: 'warn', detail: `${summary}. During the migration: ${gap}`, fix: 'rehearse with `cni-migration demo --scenario` to see which pairs; the policies themselves are kept and enforced by Cilium at the end' };
}

function ipBlockCheck(policies: PolicyDoc[], ctx: PolicyCheckContext): PreflightCheck {
  const name = 'ipBlocks naming pod ranges';
  const ranges = [...ctx.source.podCIDRs.value.map((c) => ({ cidr: c, what: `${ctx.source.kind}'s pod CIDR` })), ...ctx.ciliumPool.map((c) => ({ cidr: c, what: "Cilium's pool" }))];
  const hits: string[] = [];
  for (const p of policies) {
    for (const r of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
      for (const peer of [...(r.from ?? []), ...(r.to ?? [])]) {
        const b = peer.ipBlock;
        if (!b) continue;
        for (const text of [b.cidr, ...(b.except ?? [])]) {
          const c = parseCidr(text);
          const range = c && ranges.find((x) => cidrsOverlap(parseCidr(x.cidr)!, c));
          if (range) hits.push(`${p.namespace}/${p.name} ${text} (overlaps ${range.what} ${range.cidr})`);
        }
      }
    }
  }
  if (!hits.length) return { name, verdict: 'pass', detail: 'no ipBlock overlaps a pod range' };
  return {
    name,
    verdict: 'warn',
    detail: `${names(hits)}: pod addresses move to Cilium's pool, and Cilium matches pods by identity, never by CIDR`,
    fix: 'express these peers with pod or namespace selectors before migrating',
  };
}

function calicoCheck(inv: PolicyInventory): PreflightCheck {
  const name = 'Calico-specific policies';
  if (inv.calicoPolicies === 'forbidden') return { name, verdict: 'warn', detail: 'could not list Calico NetworkPolicies/GlobalNetworkPolicies (forbidden)', fix: 'grant list on networkpolicies and globalnetworkpolicies in crd.projectcalico.org' };
  if (!inv.calicoPolicies?.length) return { name, verdict: 'pass', detail: 'none' };
  const listed = inv.calicoPolicies.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
  return { name, verdict: 'warn', detail: `${names(listed)}: Cilium does not read them; they stop applying when felix goes at clean-up`, fix: 'translate them to CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy before clean-up' };
}

/** The policy checks, in report order. */
export function policyChecks(inv: PolicyInventory, ctx: PolicyCheckContext): PreflightCheck[] {
  if (inv.networkPolicies === 'forbidden') {
    return [{ name: 'NetworkPolicies', verdict: 'warn', detail: 'could not list NetworkPolicies (forbidden): their continuity was not checked', fix: 'grant list on networkpolicies (networking.k8s.io), as manifests/rbac/cni-migration.yaml does' }];
  }
  const policies = (inv.networkPolicies ?? []).map(policyDocOf).filter((p) => !p.bridge);
  const out = [inventoryCheck(policies, inv, ctx)];
  if (policies.length) out.push(ipBlockCheck(policies, ctx));
  if (ctx.source.policyEnforcement === 'calico') out.push(calicoCheck(inv));
  return out;
}
