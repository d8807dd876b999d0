import { writeFileSync } from 'node:fs';
import { Option, type Command } from '@commander-js/extra-typings';
import { stringify } from 'yaml';
import { buildTwin } from '../../twin/twinBuilder.js';
import { readTwinInventory } from '../../twin/readTwinInventory.js';
import { clusterFrom, configFrom, type GlobalOptions } from '../cliContext.js';
import { UsageError } from '../errors.js';

/** `cni-migration twin`: a scenario of the live cluster, for `demo --scenario` to rehearse on. */
export function addTwinCommand(program: Command): void {
  program
    .command('twin')
    .description("write a scenario that twins the live cluster (nodes, workloads, PDBs, Services, NetworkPolicies, the CNI as installed) for demo --scenario")
    .requiredOption('--out <file>', 'where to write the scenario (YAML)')
    .addOption(
      new Option('--scale <fraction>', 'keep this share of the nodes (control plane first, then across zones) and of each workload’s replicas; 1 keeps all').default(1).argParser((v) => {
        const n = Number(v);
        if (!(n > 0 && n <= 1)) throw new UsageError(`--scale must be a number in (0, 1], got "${v}"`);
        return n;
      }),
    )
    .addHelpText(
      'after',
      `
Reads the cluster (--kubeconfig, --context) and changes nothing. The scenario never holds Secrets,
tokens, workloads' environment values (names kept) or the data of ConfigMaps that are not the
CNI's (keys kept); the CNI's DaemonSets and ConfigMaps are kept whole, as they configure it.

  cni-migration twin --out twin.yaml --scale 0.1
  cni-migration demo --scenario twin.yaml --strategy dual-overlay`,
    )
    .action(async (opts) => {
      const g = program.opts() as GlobalOptions;
      const loaded = configFrom(g);
      const { inventory, source } = await readTwinInventory(clusterFrom(g, loaded.config.api), loaded.config);
      const twin = buildTwin(inventory, { scale: opts.scale, from: source });
      const header = [
        `# A twin of the cluster (cni-migration twin, ${new Date().toISOString()}), source CNI: ${source}.`,
        '# Rehearse its migration with: cni-migration demo --scenario <this file>',
        ...twin.notes.map((n) => `# ${n}`),
      ];
      writeFileSync(opts.out, `${header.join('\n')}\n${twin.documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')}`);
      const nodes = twin.documents.filter((d) => d.kind === 'Node').length;
      process.stdout.write(`Twin written to ${opts.out}: ${nodes} nodes, ${twin.documents.length - 1 - nodes} other objects (source ${source})\n${twin.notes.map((n) => `  ${n}\n`).join('')}`);
    });
}
