import { ciliumTunnel } from '../../../manifests/renderManifests.js';
import { cidrContains, cidrsOverlap, formatCidr, parseCidr, parseIp } from '../../../net/ipv4.js';
import { describeOverlay, overlayUdpPorts } from '../../../source/sourceTypes.js';
import type { PreflightCheck } from '../../preflightChecks.js';
import { calicoAutodetectionCheck } from '../calicoAutodetection.js';
import type { StrategyContext } from '../../strategy.js';

// What a dual-overlay migration needs of the cluster before it writes anything (Cilium's guide's
// requirements, and what went wrong for others): judged on the discovered source, the installed
// Cilium (or the one we would install) and the cluster's addresses. Pure; each failure names the
// setting, its value and the fix.

/** The Cilium the migration works with: the installed one, else what the bundled manifest will be. */
export interface PlannedCilium {
  pool: string[];
  routingMode: string;
  tunnelProtocol: string;
  tunnelPort: number;
  /** Where the values come from, and the setting that changes each (for messages). */
  from: string;
  poolSetting: string;
  portSetting: string;
  installed: boolean;
}

/** The planned Cilium settings. */
export function plannedCilium(ctx: StrategyContext): PlannedCilium {
  const installed = ctx.facts.cilium;
  if (installed) {
    const s = installed.settings;
    return {
      pool: s.pool,
      routingMode: s.routingMode,
      tunnelProtocol: s.tunnelProtocol,
      tunnelPort: s.tunnelPort,
      from: `the installed Cilium (${s.from})`,
      poolSetting: `cluster-pool-ipv4-cidr in ${s.from} (Helm: ipam.operator.clusterPoolIPv4PodCIDRList)`,
      portSetting: `tunnel-port in ${s.from} (Helm: tunnelPort)`,
      installed: true,
    };
  }
  return bundledCilium(ctx, 'vxlan');
}

/** The settings of the bundled Cilium a strategy installs (its default tunnel protocol differs). */
export function bundledCilium(ctx: StrategyContext, defaultProtocol: 'geneve' | 'vxlan'): PlannedCilium {
  const t = ciliumTunnel(ctx.config, defaultProtocol);
  const pool = parseCidr(ctx.config.cilium.podCIDR);
  return {
    pool: [pool ? formatCidr(pool) : ctx.config.cilium.podCIDR],
    routingMode: 'tunnel',
    tunnelProtocol: t.protocol,
    tunnelPort: t.port,
    from: 'cilium.* settings, for the bundled Cilium',
    poolSetting: 'cilium.podCIDR',
    portSetting: ctx.config.cilium.tunnelPort !== undefined ? 'cilium.tunnelPort' : 'cilium.tunnelProtocol / cilium.tunnelPort',
    installed: false,
  };
}

/** The dual-overlay preflight. */
export function dualOverlayPreflight(ctx: StrategyContext): PreflightCheck[] {
  const checks = ciliumRangeChecks(ctx, plannedCilium(ctx));
  checks.push(...latentCiliumChecks(ctx));
  return checks;
}

/**
 * Cilium's pool is a range of its own and its tunnel does not take the source overlay's port:
 * both CNIs run side by side in either strategy's mixed phase.
 */
export function ciliumRangeChecks(ctx: StrategyContext, c: PlannedCilium): PreflightCheck[] {
  const { source, facts } = ctx;
  const checks: PreflightCheck[] = [];
  const pools = c.pool.map((p) => ({ text: p, cidr: parseCidr(p) }));

  // 1. Cilium's pool is a range of its own.
  const clashes: string[] = [];
  for (const p of pools) {
    if (!p.cidr) {
      clashes.push(`${p.text} is not an IPv4 CIDR`);
      continue;
    }
    for (const sc of source.podCIDRs.value) {
      const other = parseCidr(sc);
      if (other && cidrsOverlap(p.cidr, other)) clashes.push(`${p.text} overlaps the ${source.kind} pod CIDR ${sc} (${source.podCIDRs.from})`);
    }
    for (const sc of facts.serviceCIDRs?.value ?? []) {
      const other = parseCidr(sc);
      if (other && cidrsOverlap(p.cidr, other)) clashes.push(`${p.text} overlaps the Service CIDR ${sc} (${facts.serviceCIDRs!.from})`);
    }
    const svcIp = facts.kubernetesServiceIP ? parseIp(facts.kubernetesServiceIP) : undefined;
    if (svcIp !== undefined && cidrContains(p.cidr, svcIp)) clashes.push(`${p.text} holds the kubernetes Service's ClusterIP ${facts.kubernetesServiceIP}`);
    const nodesInside = facts.nodes.filter((n) => n.internalIP && parseIp(n.internalIP) !== undefined && cidrContains(p.cidr!, parseIp(n.internalIP)!));
    if (nodesInside.length) clashes.push(`${p.text} holds node addresses (${nodesInside.slice(0, 3).map((n) => `${n.name} ${n.internalIP}`).join(', ')})`);
  }
  checks.push(
    clashes.length
      ? { name: "Cilium's pool is a range of its own", verdict: 'fail', detail: `${c.poolSetting}: ${clashes.join('; ')}`, fix: `choose a pool disjoint from the pod, Service and node ranges (e.g. 10.245.0.0/16 if free) in ${c.poolSetting}` }
      : { name: "Cilium's pool is a range of its own", verdict: 'pass', detail: `${c.pool.join(', ')} (${c.from}) is disjoint from the ${source.kind} pod CIDR ${source.podCIDRs.value.join(', ')}${facts.serviceCIDRs ? `, the Service CIDR ${facts.serviceCIDRs.value.join(', ')}` : ''} and the node addresses` },
  );
  if (!facts.serviceCIDRs) {
    checks.push({ name: 'Service CIDR known', verdict: 'warn', detail: `the cluster has no ServiceCIDR objects; only the kubernetes Service's ClusterIP${facts.kubernetesServiceIP ? ` ${facts.kubernetesServiceIP}` : ''} was checked`, fix: 'set cilium.serviceCIDR in the configuration (kube-apiserver --service-cluster-ip-range)' });
  }

  // 2. Its own overlay.
  if (c.routingMode !== 'tunnel') {
    checks.push({ name: "Cilium's overlay", verdict: 'fail', detail: `routing-mode ${c.routingMode} (${c.from}): the mixed phase needs Cilium's own tunnel between nodes`, fix: 'install Cilium with routingMode=tunnel (Helm) for the migration' });
  } else {
    const taken = overlayUdpPorts(source.overlay.value);
    const collides = c.tunnelProtocol !== 'ip' && taken.includes(c.tunnelPort);
    checks.push(
      collides
        ? {
            name: "Cilium's tunnel port differs from the source overlay's",
            verdict: 'fail',
            detail: `${c.portSetting}: ${c.tunnelProtocol.toUpperCase()} on UDP ${c.tunnelPort} is the ${source.kind} overlay's port (${describeOverlay(source.overlay.value)}, ${source.overlay.from}); the second device on one port fails to come up`,
            fix: `use another port (Cilium's guide: VXLAN on 8473) or GENEVE (6081) in ${c.portSetting}`,
          }
        : { name: "Cilium's tunnel port differs from the source overlay's", verdict: 'pass', detail: `Cilium ${c.tunnelProtocol.toUpperCase()} on UDP ${c.tunnelPort}; the ${source.kind} overlay: ${describeOverlay(source.overlay.value)}` },
    );
  }

  return checks;
}

/** An installed Cilium is latent and the CiliumNodeConfig API is served (dual-overlay only). */
function latentCiliumChecks(ctx: StrategyContext): PreflightCheck[] {
  const { facts } = ctx;
  const checks: PreflightCheck[] = [];
  // 3. An installed Cilium must be latent for the mixed phase (not on a resumed run: finalize changes it).
  const installed = facts.cilium;
  if (installed && !ctx.started) {
    const s = installed.settings;
    const problems: string[] = [];
    if (s.managesCniFile) problems.push(`write-cni-conf-when-ready is ${installed.config['write-cni-conf-when-ready']}: every agent writes its CNI file and takes over its node at once (Helm: cni.customConf=true)`);
    if (s.policyEnforcement !== 'never') problems.push(`enable-policy is ${s.policyEnforcement}: Cilium would enforce policy on a half-migrated cluster (Helm: policyEnforcementMode=never)`);
    if (s.unmanagedPodWatcher !== '0') problems.push(`unmanaged-pod-watcher-interval is ${s.unmanagedPodWatcher}: the operator would restart every pod still on the source CNI (Helm: operator.unmanagedPodWatcher.restart=false)`);
    checks.push(
      problems.length
        ? { name: 'the installed Cilium is latent', verdict: 'fail', detail: `${s.from}: ${problems.join('; ')}`, fix: 'helm upgrade Cilium with the values of `cni-migration cilium-values --phase migration`' }
        : { name: 'the installed Cilium is latent', verdict: 'pass', detail: `${s.from}: no CNI file, policy enforcement never, unmanaged-pod restarts off` },
    );
    checks.push(
      installed.nodeConfigApiVersion
        ? { name: 'CiliumNodeConfig API served', verdict: 'pass', detail: `${installed.nodeConfigApiVersion} CiliumNodeConfig` }
        : { name: 'CiliumNodeConfig API served', verdict: 'fail', detail: 'neither cilium.io/v2 nor cilium.io/v2alpha1 CiliumNodeConfig is served', fix: 'make sure cilium-operator runs: it registers the CRD at start (Cilium ≥1.13)' },
    );
  }

  // 4. Calico's node address autodetection would capture cilium_host (cilium#31273).
  const calico = calicoAutodetectionCheck(ctx, plannedCilium(ctx).pool);
  if (calico) checks.push(calico);
  return checks;
}
