/**
 * Redis killed mid-run, for real: the fallback goes on alone at a fair share, says so once, and
 * rejoins once the same server is back on the same port.
 */
import { describe, expect, it } from 'vitest';
import { FallbackStore } from '../../src/limits/fallback-store.js';
import { RedisStore } from '../../src/limits/redis-store.js';
import type { BudgetKey, Cost } from '../../src/limits/types.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { SPEC } from './store-contract.js';

const redis = useRedisServer();
const one: Cost = { requests: 1, inputTokens: 0, outputTokens: 0 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const peer = (n: number) => ({ id: `h:${n}:x`, host: 'h', pid: n, command: 'run', modelClasses: ['claude-haiku-4-5'] });

describe('FallbackStore over Redis', () => {
  it('paces alone at 1/N when Redis dies, says so once, fails fast, and rejoins when it is back', async () => {
    const key: BudgetKey = { account: 'acct-fallback', modelClass: 'claude-haiku-4-5' };
    const notices: string[] = [];
    const shared = await RedisStore.connect({ url: redis.server.url, reconnectMs: 100 });
    const store = new FallbackStore(shared, { onNotice: (m) => notices.push(m), retryEveryMs: 200 });
    // Three processes share the account.
    const other = await RedisStore.connect({ url: redis.server.url });
    await other.heartbeat(key.account, peer(2), 10_000);
    await other.heartbeat(key.account, peer(3), 10_000);
    await other.close();
    expect(await store.heartbeat(key.account, peer(1), 10_000)).toBe(3);
    expect((await store.take(key, one, SPEC)).ok).toBe(true);
    expect(store.sharing).toBe(true);

    await redis.server.kill();
    const started = performance.now();
    const first = await store.take(key, one, SPEC);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(first.ok).toBe(true); // from a bucket of its own: a third of 5 requests
    expect(store.sharing).toBe(false);
    expect(store.fairShare).toBeCloseTo(1 / 3);
    const second = await store.take(key, one, SPEC);
    expect(second).toMatchObject({ ok: false, heldBy: 'requests' });
    expect(second.waitMs).toBeGreaterThan(0);
    expect(second.waitMs).toBeLessThanOrEqual(100);
    // Every other call goes on too, without a throw.
    await store.adjust(key, { requests: 1 }, SPEC);
    await store.clamp(key, { requests: 3 }, SPEC);
    expect((await store.pause(key, 10)).remainingMs).toBeGreaterThan(0);
    await store.setLearned(key, { rpm: 600 });
    expect(await store.getLearned(key)).toEqual({ rpm: 600 });
    expect(await store.heartbeat(key.account, peer(1), 10_000)).toBe(3);
    expect((await store.snapshot(key.account)).map((s) => s.modelClass)).toEqual(['claude-haiku-4-5']);
    await sleep(250); // a retry falls due while Redis is still down: still no second notice
    await store.take(key, one, SPEC);
    expect(notices).toEqual([
      `the shared limit store at ${redis.server.url} is unreachable (not connected); pacing alone at 1/3 of the limit (3 processes were sharing it) until it is back`,
    ]);

    await redis.server.restart();
    const deadline = Date.now() + 5000;
    while (store.sharing === false && Date.now() < deadline) {
      await store.take(key, one, SPEC);
      await sleep(50);
    }
    expect(store.sharing).toBe(true);
    expect(notices).toHaveLength(2);
    expect(notices[1]).toBe(`the shared limit store at ${redis.server.url} answers again; sharing the limit with the other processes again`);
    // Back on the shared state (empty after the restart): the full bucket is there again.
    await store.pause(key, 0);
    const sharedAgain = await RedisStore.connect({ url: redis.server.url });
    expect((await sharedAgain.snapshot(key.account)).map((s) => s.modelClass)).toEqual(['claude-haiku-4-5']);
    await sharedAgain.close();
    await store.close();
  });

  it('throws LimitStoreError within about a second when Redis is gone, and works again after it returns', async () => {
    const store = await RedisStore.connect({ url: redis.server.url, reconnectMs: 100 });
    const key: BudgetKey = { account: 'acct-fast', modelClass: 'claude-haiku-4-5' };
    await store.take(key, one, SPEC);
    await redis.server.kill();
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await expect(store.take(key, one, SPEC)).rejects.toMatchObject({ name: 'LimitStoreError', where: redis.server.url });
      expect(performance.now() - started).toBeLessThan(1500);
    }
    await redis.server.restart();
    const deadline = Date.now() + 5000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = await store.take(key, one, SPEC).then(
        () => true,
        () => false,
      );
      if (!ok) await sleep(50);
    }
    expect(ok).toBe(true);
    await store.close();
  });

  it('gives up on a hung Redis after the command timeout instead of waiting for ever', async () => {
    const store = await RedisStore.connect({ url: redis.server.url, commandTimeoutMs: 300 });
    const key: BudgetKey = { account: 'acct-hung', modelClass: 'claude-haiku-4-5' };
    await store.take(key, one, SPEC);
    redis.server.freeze();
    try {
      const started = performance.now();
      await expect(store.take(key, one, SPEC)).rejects.toThrow(/no answer within the command timeout/);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      redis.server.thaw();
    }
    expect((await store.take(key, one, SPEC)).ok).toBe(true);
    await store.close();
  });

  it('runs its scripts again after SCRIPT FLUSH (EVALSHA falls back to EVAL on NOSCRIPT)', async () => {
    const store = await RedisStore.connect({ url: redis.server.url });
    const key: BudgetKey = { account: 'acct-noscript', modelClass: 'claude-haiku-4-5' };
    expect((await store.take(key, one, SPEC)).ok).toBe(true);
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.server.port, '127.0.0.1');
    await admin.script('FLUSH');
    await admin.quit();
    expect((await store.take(key, one, SPEC)).ok).toBe(true);
    expect(await store.heartbeat(key.account, peer(1), 1000)).toBe(1);
    await store.close();
  });
});
