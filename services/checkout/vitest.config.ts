import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The checkout service's own tests, with the coverage bar issue 7 sets (≥ 80%); `npm test` runs them.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    coverage: {
      enabled: true,
      provider: 'v8',
      include: ['src/**'],
      reportsDirectory: '../../test-results/checkout-coverage',
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 80, statements: 80, functions: 80, branches: 80 },
    },
  },
});
