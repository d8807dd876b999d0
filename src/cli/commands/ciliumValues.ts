import type { Command } from '@commander-js/extra-typings';
import { ciliumHelmValuesYaml } from '../../cilium/ciliumValues.js';
import { ciliumTunnel } from '../../manifests/renderManifests.js';
import { formatCidr, parseCidr } from '../../net/ipv4.js';
import { configFrom } from '../cliContext.js';
import { UsageError } from '../errors.js';

/** `cni-migration cilium-values`: the Helm values for installing Cilium yourself for a dual-overlay migration. */
export function addCiliumValuesCommand(program: Command): void {
  program
    .command('cilium-values')
    .description('print the Cilium Helm chart values for a dual-overlay migration: --phase migration (install, latent) or final (after every node)')
    .option('--phase <phase>', 'migration or final', 'migration')
    .addHelpText(
      'after',
      `
The pool and tunnel come from the configuration (-c): cilium.podCIDR, cilium.tunnelProtocol,
cilium.tunnelPort (default VXLAN on UDP 8473, Cilium's guide). Needs no cluster.

  cni-migration cilium-values --phase migration > values-migration.yaml
  helm install cilium cilium/cilium --version 1.18.4 -n kube-system -f values-migration.yaml
  cni-migration run --strategy dual-overlay --steps all --no-dry-run     # detects and checks it
  cni-migration cilium-values --phase final > values-final.yaml             # when step 3 asks for it`,
    )
    .action((opts) => {
      if (opts.phase !== 'migration' && opts.phase !== 'final') throw new UsageError(`--phase must be migration or final, got "${opts.phase}"`);
      const config = configFrom(program.opts()).config;
      const pool = parseCidr(config.cilium.podCIDR);
      if (!pool) throw new UsageError(`cilium.podCIDR "${config.cilium.podCIDR}" is not an IPv4 CIDR`);
      const t = ciliumTunnel(config, 'vxlan');
      process.stdout.write(ciliumHelmValuesYaml(opts.phase, { pool: formatCidr(pool), maskSize: 24, tunnelProtocol: t.protocol, tunnelPort: t.port }));
    });
}
