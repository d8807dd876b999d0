import { ensureBinaries } from './controlPlane.js';

/**
 * Builds the control plane once before any e2e file runs (about 4.5 min cold on 2 cores, 0.01 s
 * when bin/ is up to date), outside every hook's timeout; each ControlPlane.start() then reuses it.
 */
export default function setup(): void {
  const t = performance.now();
  ensureBinaries((line) => process.stderr.write(`[e2e] ${line}\n`));
  process.stderr.write(`[e2e] control plane binaries ready in ${((performance.now() - t) / 1000).toFixed(2)} s\n`);
}
