import { cidrContains, parseCidr, parseIp } from '../../net/ipv4.js';
import type { ObjectRef } from '../../kube/kubeTypes.js';
import { daemonSetRef } from '../objectRefs.js';
import type { Action } from '../plan.js';
import type { PreflightCheck } from '../preflightChecks.js';
import type { StrategyContext } from '../strategy.js';

// Calico's node address autodetection meeting Cilium's cilium_host (cilium#31273, DB Schenker's
// outage): the check every strategy that runs Cilium beside Calico makes, and the fix it applies
// with the user's consent (cni.fixCalicoAutodetection / --fix-calico-autodetection) before Cilium
// runs anywhere.

/** The preflight check, given Cilium's planned pool (nodes already captured show an address in it). */
export function calicoAutodetectionCheck(ctx: StrategyContext, ciliumPool: readonly string[]): PreflightCheck | undefined {
  const { source, facts } = ctx;
  const a = source.ipAutodetection;
  if (!a) return undefined;
  const pools = ciliumPool.map(parseCidr).filter((p) => p !== undefined);
  const captured = facts.nodes.filter((n) => {
    const ip = n.calicoAddress?.split('/')[0];
    const v = ip ? parseIp(ip) : undefined;
    return v !== undefined && pools.some((p) => cidrContains(p, v));
  });
  const name = "Calico's address autodetection leaves cilium_host alone";
  if (captured.length) {
    return {
      name,
      verdict: 'fail',
      detail: `nodes whose Calico address is inside Cilium's pool: ${captured.map((n) => `${n.name} ${n.calicoAddress}`).join(', ')}`,
      fix: "switch Calico to IP_AUTODETECTION_METHOD=kubernetes-internal-ip (or rerun with --fix-calico-autodetection) and wait until each node's projectcalico.org/IPv4Address is its InternalIP",
    };
  }
  if (a.picksCiliumHost && !ctx.config.cni.fixCalicoAutodetection) {
    return {
      name,
      verdict: 'fail',
      detail: `${a.setting} is ${a.method}: once Cilium creates cilium_host, calico-node takes its address within a minute and the node's Calico routes break (cilium#31273)`,
      fix: `rerun with --fix-calico-autodetection (the tool switches it to the node's InternalIP and waits for every calico-node first), or set ${source.installation ? 'spec.calicoNetwork.nodeAddressAutodetectionV4: {kubernetes: NodeInternalIP} in the Installation' : 'IP_AUTODETECTION_METHOD=kubernetes-internal-ip on calico-node'} yourself`,
    };
  }
  return { name, verdict: 'pass', detail: a.picksCiliumHost ? `${a.method} would pick cilium_host: it is switched to the node's InternalIP before Cilium runs (--fix-calico-autodetection)` : `${a.method} (${a.setting})` };
}

/** The actions that switch the autodetection to the node's InternalIP and wait for its effect; none when not needed or not allowed. */
export function calicoAutodetectionFix(ctx: StrategyContext): Action[] {
  const { source } = ctx;
  if (!source.ipAutodetection?.picksCiliumHost || !ctx.config.cni.fixCalicoAutodetection) return [];
  const ds: ObjectRef = daemonSetRef(source.daemonSet.namespace, source.daemonSet.name);
  const patch: Action = source.installation
    ? {
        kind: 'patchObject',
        target: { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: source.installation.name },
        patch: { type: 'merge', body: { spec: { calicoNetwork: { nodeAddressAutodetectionV4: { kubernetes: 'NodeInternalIP' } } } } },
        what: `switch Calico's node address autodetection to the node's InternalIP (was ${source.ipAutodetection.method})`,
      }
    : {
        kind: 'patchObject',
        target: ds,
        patch: { type: 'strategic', body: { spec: { template: { spec: { containers: [{ name: 'calico-node', env: [{ name: 'IP_AUTODETECTION_METHOD', value: 'kubernetes-internal-ip' }] }] } } } } },
        what: `switch Calico's node address autodetection to the node's InternalIP (IP_AUTODETECTION_METHOD was ${source.ipAutodetection.method})`,
      };
  return [patch, { kind: 'waitRollouts', resources: [ds] }, { kind: 'verifyCalicoAddresses' }];
}
