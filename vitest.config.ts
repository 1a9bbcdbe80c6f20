import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // services/checkout has its own config (with its coverage bar): `npm run test:checkout`.
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
