import { stringify } from 'yaml';

// The Helm values of Cilium's chart for each phase of Cilium's per-node migration (its guide's
// values-migration.yaml, then the post-migration settings), for users who install Cilium with Helm
// themselves. The keys are the chart's (1.14 and later: routingMode/tunnelProtocol).

/** What the values are made of. */
export interface CiliumValuesInput {
  pool: string;
  maskSize: number;
  tunnelProtocol: 'vxlan' | 'geneve';
  tunnelPort: number;
}

/**
 * The chart values for a phase, as an object. The final phase is applied with --reuse-values, so
 * it holds only what changes: repeating the pool or tunnel there could only contradict the install
 * (a cluster pool cannot change once CiliumNodes have their ranges; a user who installed with
 * other values than this tool's configuration would move it under running pods).
 */
export function ciliumHelmValues(phase: 'migration' | 'final', v: CiliumValuesInput): Record<string, unknown> {
  const migration = phase === 'migration';
  if (!migration) {
    return {
      operator: { unmanagedPodWatcher: { restart: true } },
      cni: { customConf: false, exclusive: true },
      policyEnforcementMode: 'default',
    };
  }
  return {
    operator: { unmanagedPodWatcher: { restart: !migration } },
    routingMode: 'tunnel',
    tunnelProtocol: v.tunnelProtocol,
    tunnelPort: v.tunnelPort,
    cni: { customConf: migration, uninstall: false, ...(migration ? {} : { exclusive: true }) },
    ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: [v.pool], clusterPoolIPv4MaskSize: v.maskSize } },
    policyEnforcementMode: migration ? 'never' : 'default',
    bpf: { hostLegacyRouting: true },
  };
}

/** The values as a YAML document with a header saying what they are for. */
export function ciliumHelmValuesYaml(phase: 'migration' | 'final', v: CiliumValuesInput): string {
  const header =
    phase === 'migration'
      ? [
          '# Cilium Helm values for the mixed phase of a dual-overlay migration (cni-migration cilium-values --phase migration):',
          '# latent agents on every node (no CNI file), their own pool and tunnel port, no policy enforcement,',
          "# no restarting of pods Cilium does not manage. Install with: helm install cilium cilium/cilium -n kube-system -f <this file>",
        ]
      : [
          '# Cilium Helm values after every node is migrated (cni-migration cilium-values --phase final):',
          '# the agents manage the CNI file everywhere (exclusive), enforce policy, restart unmanaged pods.',
          '# Only what changes: the pool, tunnel and routing stay as installed (hence --reuse-values).',
          '# Apply with: helm upgrade cilium cilium/cilium -n kube-system --reuse-values -f <this file>',
        ];
  return `${header.join('\n')}\n${stringify(ciliumHelmValues(phase, v))}`;
}
