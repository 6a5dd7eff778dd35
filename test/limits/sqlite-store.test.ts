import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/limits/sqlite-store.js';
import { removeDir, tempDir } from '../helpers/cli.js';
import { fakeClock } from './fake-clock.js';
import { storeContract } from './store-contract.js';

const dir = tempDir('claw-batch-sqlite-');
afterAll(() => removeDir(dir));
const clock = fakeClock();
let file = '';
let n = 0;

storeContract('SQLite (local)', {
  create: async () => new SqliteStore({ file: (file = join(dir, `limits-${++n}.sqlite`)), now: clock.now }),
  sibling: async () => new SqliteStore({ file, now: clock.now }),
  ...clock,
  slackMs: 0,
});

// As `run` opens it: settles are written with the next operation (or after 20 ms).
storeContract('SQLite (local, adjusts written with the next operation)', {
  create: async () => new SqliteStore({ file: (file = join(dir, `limits-${++n}.sqlite`)), now: clock.now, deferWritesMs: 20 }),
  sibling: async () => new SqliteStore({ file, now: clock.now, deferWritesMs: 20 }),
  ...clock,
  slackMs: 0,
});

describe('SQLite adjusts written with the next operation', () => {
  const key = { account: 'acct', modelClass: 'claude-haiku-4-5' };
  const spec = { requests: { perMinute: 600, capacitySeconds: 1, fullSeconds: 1 } }; // 10 at most
  const requests = (n: number) => ({ requests: n, inputTokens: 0, outputTokens: 0 });

  it('this process sees its own adjusts and clamps at once, in order; another sees them within the delay; close writes what waits', async () => {
    const f = join(dir, 'deferred.sqlite');
    const store = new SqliteStore({ file: f, now: clock.now, deferWritesMs: 50 });
    const other = new SqliteStore({ file: f, now: clock.now });
    try {
      expect((await store.take(key, requests(4), spec)).ok).toBe(true);
      // A give-back capped at capacity, then a charge: applied in order (6 + 5 -> 10, - 2 -> 8), not netted (9).
      await store.adjust(key, { requests: 5 }, spec);
      await store.adjust(key, { requests: -2 }, spec);
      expect((await other.snapshot(key.account))[0]!.levels.requests).toBeCloseTo(6, 5);
      expect((await store.snapshot(key.account))[0]!.levels.requests).toBeCloseTo(8, 5);
      await store.adjust(key, { requests: 1 }, spec);
      await new Promise((r) => setTimeout(r, 120));
      expect((await other.snapshot(key.account))[0]!.levels.requests).toBeCloseTo(9, 5);
      // A clamp (the API said less remains) waits the same way, in order with the adjusts: 9 -> 4 -> 2.
      await store.clamp(key, { requests: 4 }, spec);
      await store.adjust(key, { requests: -2 }, spec);
      expect((await other.snapshot(key.account))[0]!.levels.requests).toBeCloseTo(9, 5);
      expect((await store.snapshot(key.account))[0]!.levels.requests).toBeCloseTo(2, 5);
      await store.adjust(key, { requests: -2 }, spec);
      await store.close();
      expect((await other.snapshot(key.account))[0]!.levels.requests).toBeCloseTo(0, 5);
    } finally {
      await other.close();
    }
  });
});
