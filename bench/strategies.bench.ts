// The two strategies side by side on the stock-install scenarios: wall time of the migration and
// pod re-creations per workload, as `demo --report` measures them (BENCH_NODES nodes, default 8;
// BENCH_SCENARIOS to choose, default all five sources). Each run is a fresh `demo` process.
// Prints a table; asserts nothing (figures, not tests).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const nodes = process.env.BENCH_NODES ?? '8';
const scenarios = (process.env.BENCH_SCENARIOS ?? 'canal,calico,calico-vxlan,calico-operator,flannel').split(',');
// Stock Calico detects its address first-found; both strategies need consent to fix that first.
const flags = (scenario: string) => (scenario.startsWith('calico') ? ['--fix-calico-autodetection'] : []);

interface Report {
  ok: boolean;
  durationMs: number;
  extra: { 'Pod re-creations per workload'?: { workload: string; pods: number; recreated: number; perPod: number }[] };
}

const dir = mkdtempSync(join(tmpdir(), 'cni-migration-bench-'));
const rows: Record<string, string | number | boolean>[] = [];
try {
  for (const scenario of scenarios) {
    for (const strategy of ['multus', 'dual-overlay']) {
      const report = join(dir, `${scenario}-${strategy}.json`);
      const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'demo', '--strategy', strategy, '--nodes', nodes, '--scenario', join(ROOT, 'scenarios', `${scenario}.yaml`), '--report', report, ...flags(scenario)];
      try {
        execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
      } catch {
        // A failed run still writes its report; the table says it was not verified.
      }
      let rep: Report | undefined;
      try {
        rep = JSON.parse(readFileSync(report, 'utf8')) as Report;
      } catch {
        rep = undefined;
      }
      const per = rep?.extra['Pod re-creations per workload'] ?? [];
      const pods = per.reduce((n, w) => n + w.pods, 0);
      const recreated = per.reduce((n, w) => n + w.recreated, 0);
      rows.push({
        scenario,
        strategy,
        verified: rep?.ok ?? false,
        'migration s': rep ? Number((rep.durationMs / 1000).toFixed(1)) : '-',
        'workload pods': pods,
        're-created': recreated,
        'per pod': pods ? Number((recreated / pods).toFixed(2)) : '-',
        'worst workload': per.length ? per.reduce((a, b) => (b.perPod > a.perPod ? b : a)).workload : '-',
      });
      process.stderr.write(`measured ${scenario} with ${strategy}\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.table(rows);
