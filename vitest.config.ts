import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real worker threads on a 2-core machine: generous limits, never used as assertions.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    server: { deps: { external: [/\/dist\//] } },
  },
});
