import type { Command } from '@commander-js/extra-typings';
import { reportJsonSchema } from '../../report/reportSchema.js';

/** `cni-migration report-schema`: the JSON Schema of the report (run --report x.json, -o json's last line). */
export function addReportSchemaCommand(program: Command): void {
  program
    .command('report-schema')
    .description("print the JSON Schema of the run report (--report x.json, and the last line of -o json's NDJSON stream)")
    .action(() => {
      process.stdout.write(`${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
    });
}
