import { defineConfig } from 'vitest/config';

/**
 * Tests that measure a pace against a limit (requests or tokens per minute, at the simulator) run
 * one file at a time, after everything else: on a shared two-core machine, a neighbour's load would
 * skew what they measure. The rest — most of the suite, mostly waiting on child processes and
 * sockets — run four files at a time.
 */
const PACED = [
  'test/run/pacing.test.ts',
  'test/run/shared-limits.test.ts',
  'test/run/organization.test.ts',
  'test/run/prompt-cache.test.ts',
  'test/proxy/must-show.test.ts',
  'test/proxy/shared-limits.test.ts',
  'test/proxy/organization.test.ts',
  'test/library/shared-limits.test.ts',
  'test/library/organization.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unpaced', include: ['test/**/*.test.ts'], exclude: PACED, fileParallelism: true, maxWorkers: 4, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'paced', include: PACED, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
