import { defineConfig } from 'vitest/config';

// `npm run test:faults`: fault scenarios with real processes, one at a time (they cut shared connections through proxies of their own).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.faults.ts'],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
