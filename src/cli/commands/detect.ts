import type { Command } from '@commander-js/extra-typings';
import { discoverSource } from '../../source/discoverSource.js';
import { renderSourceText } from '../../report/sourceText.js';
import { clusterFrom, configFrom, outputFormat, type GlobalOptions } from '../cliContext.js';

/** `cni-migration detect`: which CNI the cluster runs, read from its objects, and how each fact was found. */
export function addDetectCommand(program: Command): void {
  program
    .command('detect')
    .description("detect the cluster's CNI (Canal, Calico by manifest or operator, Flannel) and print what the migration will work from")
    .addHelpText(
      'after',
      `
Reads DaemonSets, their ConfigMaps, Calico's IPPools/FelixConfiguration/Installation and the nodes;
changes nothing. Settings cni.* in the config (-c) override what is detected, with a warning.
Uses --kubeconfig, --context and -o text|json from the root command.

Exit codes: 0 one source found, 1 none or more than one (the message lists what was found), 2 bad usage or config.`,
    )
    .action(async () => {
      const g = program.opts() as GlobalOptions;
      const loaded = configFrom(g);
      const format = outputFormat(g);
      const source = await discoverSource(clusterFrom(g, loaded.config.api), loaded.config.cni);
      process.stdout.write(format === 'json' ? `${JSON.stringify(source, null, 2)}\n` : renderSourceText(source));
    });
}
