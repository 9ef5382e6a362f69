import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['api/**/*.test.ts', 'client/**/*.test.ts', 'cluster/**/*.test.ts', 'plugin/**/*.test.ts', 'server/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // One control plane per run, started before any file and stopped after all.
          globalSetup: ['test/integration/global-setup.ts'],
          // Each file gets its own namespace; two cores run two files at a time.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
