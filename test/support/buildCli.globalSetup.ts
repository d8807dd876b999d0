import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The CLI tests run what users run — bin/cni-migration.js over dist/ — compiled once from the
// current sources before any test file (and about 1.3 s faster per process than tsx).
export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
}
