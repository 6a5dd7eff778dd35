import { defineConfig } from 'vitest/config';

/**
 * Tests that measure a pace against a limit (requests or tokens per minute, at the simulator) run
 * after everything else, two files at a time: on a shared two-core machine, a neighbour's load
 * would skew what they measure, and two of them use under half the machine. Three run last, one
 * at a time: the strictest (zero 429s at a given limit, test/run/pacing.test.ts), the one that
 * starts four processes at once (test/run/shared-limits.test.ts: beside it pacing.test.ts once saw
 * 13 429s), and the proxy's wall-clock pace with clients, proxy and simulator in one process
 * (test/proxy/must-show.test.ts: beside it, 1.22x the ideal time). The rest — most of the suite,
 * mostly waiting on child processes and sockets — run four files at a time, in shared workers.
 */
const ALONE = ['test/run/pacing.test.ts', 'test/run/shared-limits.test.ts', 'test/proxy/must-show.test.ts'];
const PACED = [
  'test/run/start-tier.test.ts',
  'test/run/pacing-low-limit.test.ts',
  'test/run/organization.test.ts',
  'test/run/prompt-cache.test.ts',
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
        test: { name: 'unpaced', include: ['test/**/*.test.ts'], exclude: [...PACED, ...ALONE], fileParallelism: true, maxWorkers: 4, isolate: false, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'paced', include: PACED, fileParallelism: true, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'paced-alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
