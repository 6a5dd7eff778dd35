/**
 * The Redis store's Lua is a line-by-line port of bucket-math.ts, and the SQLite store computes
 * with bucket-math.ts on state it reads back from JSON. Held to it here: one seeded random
 * sequence of takes, settles, clamps, pauses and time steps gives the very same answers and
 * levels, to the last bit, on all three stores.
 */
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { LimitStore } from '../../src/limits/limit-store.js';
import { MemoryStore } from '../../src/limits/memory-store.js';
import { RedisStore } from '../../src/limits/redis-store.js';
import { SqliteStore } from '../../src/limits/sqlite-store.js';
import type { BudgetSpec } from '../../src/limits/types.js';
import { removeDir, tempDir } from '../helpers/cli.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { fakeClock } from './fake-clock.js';

const redis = useRedisServer();
const dir = tempDir('claw-batch-arith-');
afterAll(() => removeDir(dir));

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECS: BudgetSpec[] = [
  { requests: { perMinute: 50, capacitySeconds: 0.75, fullSeconds: 1 }, inputTokens: { perMinute: 40_000, capacitySeconds: 0.75, fullSeconds: 1 }, outputTokens: { perMinute: 8000, capacitySeconds: 0.75, fullSeconds: 1 } },
  { requests: { perMinute: 1000, capacitySeconds: 0.9, fullSeconds: 1 }, outputTokens: { perMinute: 400_000, capacitySeconds: 0.5, fullSeconds: 1.2 } },
  { inputTokens: { perMinute: 3333.3, capacitySeconds: 1, fullSeconds: 1 } },
];

it('gives the same answers and levels on memory, SQLite and Redis for 600 random operations', async () => {
  const clock = fakeClock();
  const stores: LimitStore[] = [
    new MemoryStore({ now: clock.now }),
    new SqliteStore({ file: join(dir, 'limits.sqlite'), now: clock.now }),
    await RedisStore.connect({ url: redis.server.url, now: clock.now }),
  ];
  const rnd = random(20261128);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const key = { account: 'acct-arith', modelClass: 'claude-sonnet-4' };
  const transcript: unknown[][] = stores.map(() => []);
  for (let i = 0; i < 600; i++) {
    const spec = pick(SPECS);
    const op = pick(['take', 'take', 'take', 'adjust', 'adjust', 'clamp', 'pause', 'wait']);
    const amount = () => (rnd() < 0.1 ? 0 : Math.round(rnd() ** 3 * 3000 * (rnd() < 0.2 ? 10 : 1)) / (rnd() < 0.5 ? 1 : 7));
    const cost = { requests: rnd() < 0.9 ? 1 : 0, inputTokens: amount(), outputTokens: amount() };
    const delta = { requests: rnd() < 0.3 ? 1 : undefined, inputTokens: amount() - 1000, outputTokens: rnd() < 0.5 ? -amount() : amount() };
    const clampTo = { inputTokens: rnd() < 0.5 ? amount() : undefined, outputTokens: amount() / 3 };
    const pauseMs = Math.round(rnd() * 2000);
    const stepMs = Math.round(rnd() ** 2 * 3000) + rnd();
    for (const [n, store] of stores.entries()) {
      const t = transcript[n]!;
      if (op === 'take') t.push(await store.take(key, cost, spec));
      else if (op === 'adjust') t.push(await store.adjust(key, delta, spec));
      else if (op === 'clamp') t.push(await store.clamp(key, clampTo, spec));
      else if (op === 'pause') t.push(await store.pause(key, pauseMs));
      if (i % 25 === 0) t.push(await store.snapshot(key.account));
    }
    if (op === 'wait' || rnd() < 0.4) await clock.advance(stepMs);
  }
  for (const store of stores) transcript[stores.indexOf(store)]!.push(await store.snapshot(key.account));
  expect(transcript[1]).toEqual(transcript[0]);
  expect(transcript[2]).toEqual(transcript[0]);
  // The sequence did exercise waits, debt and pauses.
  const takes = transcript[0]!.filter((x) => typeof x === 'object' && x !== null && 'ok' in x) as Array<{ ok: boolean; heldBy?: string }>;
  expect(takes.some((x) => x.ok)).toBe(true);
  expect(new Set(takes.map((x) => x.heldBy))).toEqual(new Set([undefined, 'pause', 'requests', 'inputTokens', 'outputTokens']));
  for (const s of stores) await s.close();
});
