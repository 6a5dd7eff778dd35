import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Timing-sensitive tests (pace against a limit) share two cores; running files one at a time
    // keeps their measurements honest.
    fileParallelism: false,
  },
});
