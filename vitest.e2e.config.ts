import { defineConfig } from 'vitest/config';

// The e2e tier: a real control plane (e2e/controlplane, built by build.sh in globalSetup) with
// simulated nodes. One cluster per test file, started in beforeAll; files run one at a time in a
// single worker (2-core machines; each cluster is 4 processes and ~0.5 GB).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    globalSetup: ['e2e/harness/globalSetup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    teardownTimeout: 120_000,
  },
});
