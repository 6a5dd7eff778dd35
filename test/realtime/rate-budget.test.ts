import { describe, expect, it } from 'vitest';
import { RateBudget } from '../../src/realtime/rate-budget.js';
import { TokenBucket } from '../../src/realtime/token-bucket.js';

const cost = (inputTokens = 0, outputTokens = 0) => ({ requests: 1, inputTokens, outputTokens });

describe('TokenBucket', () => {
  it('refills continuously at limit/60 per second up to one second of the limit', () => {
    const b = new TokenBucket(600, { now: 0 });
    expect(b.available(0)).toBe(10);
    b.take(10, 0);
    expect(b.available(0)).toBe(0);
    expect(b.available(500)).toBeCloseTo(5);
    expect(b.available(5000)).toBe(10);
  });

  it('says how long until an amount fits, and lets a cost larger than the capacity through when full', () => {
    const b = new TokenBucket(60, { now: 0 });
    b.take(1, 0);
    expect(b.waitMs(1, 0)).toBe(1000);
    const big = new TokenBucket(6000, { now: 0 }); // capacity 100
    expect(big.waitMs(500, 0)).toBe(0);
    big.take(500, 0);
    expect(big.available(0)).toBe(-400);
    expect(big.waitMs(1, 0)).toBe(4010);
  });
});

describe('RateBudget', () => {
  it('reserves, then refunds what usage shows was unused', async () => {
    const now = 0;
    const budget = new RateBudget({ given: { otpm: 600 }, capacitySeconds: 1, now: () => now });
    // capacity 10 output tokens: a max_tokens of 10 takes all of it
    expect(await budget.reserve(cost(0, 10))).toBe(true);
    budget.settle(cost(0, 10), { outputTokens: 2 });
    // the 8 unused came back: a reservation of 8 fits at once, and then nothing more does
    expect(await budget.reserve(cost(0, 8))).toBe(true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await budget.reserve(cost(0, 1), controller.signal)).toBe(false);
  });

  it('adopts the lower limit the API reports, and never a higher one than given', () => {
    const budget = new RateBudget({ given: { rpm: 4800 } });
    budget.observe({ requests: { limit: 1200, remaining: 19 } });
    expect(budget.limits().rpm).toBe(1200);
    budget.observe({ requests: { limit: 9000, remaining: 100 } });
    expect(budget.limits().rpm).toBe(4800);
    expect(budget.learnedLimits().rpm).toBe(9000);
  });

  it('learns limits it was not given', () => {
    const budget = new RateBudget({ given: {} });
    expect(budget.hasLimits).toBe(false);
    budget.observe({ inputTokens: { limit: 40_000, remaining: 500 } });
    expect(budget.hasLimits).toBe(true);
    expect(budget.limits().itpm).toBe(40_000);
  });

  it('pauses every reservation for retry-after after a 429', async () => {
    let now = 1_000_000;
    const budget = new RateBudget({ given: { rpm: 6000 }, now: () => now });
    expect(budget.onRateLimited(3000, {})).toBe(true);
    // a second 429 from a request that was already in flight is the same pause
    expect(budget.onRateLimited(3000, {})).toBe(false);
    const controller = new AbortController();
    const pending = budget.reserve(cost(), controller.signal);
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    now += 3000;
    expect(await pending).toBe(true);
  });

  it('stops when a wait would exceed queue_timeout_ms under queue_overflow fail', async () => {
    const budget = new RateBudget({ given: { rpm: 60 }, capacitySeconds: 1, maxWaitMs: 100 });
    await budget.reserve(cost());
    await expect(budget.reserve(cost())).rejects.toThrow(/queue_timeout_ms/);
  });

  it('steps the pace down after a 429 and recovers it afterwards', async () => {
    let now = 0;
    const budget = new RateBudget({ given: { rpm: 600 }, capacitySeconds: 1, recoveryMs: 10_000, now: () => now });
    /** Whether one request fits right now (without waiting). */
    const fitsNow = async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 0);
      return budget.reserve(cost(), controller.signal);
    };
    for (let i = 0; i < 10; i++) expect(await fitsNow()).toBe(true); // the bucket is empty now
    budget.onRateLimited(1, {});
    // the limit in force stays the account's, but the bucket refills at 70% for a while:
    // 110 ms gives 1.1 requests at the full pace, 0.77 at the stepped-down one
    expect(budget.limits().rpm).toBe(600);
    now = 110;
    expect(await fitsNow()).toBe(false);
    // once recovered, 110 ms of refill is a request again
    now = 20_000;
    for (let i = 0; i < 10; i++) await fitsNow();
    now += 110;
    expect(await fitsNow()).toBe(true);
  });
});

describe('costs larger than the bucket', () => {
  it('under 50 RPM (less than one request a second) waits until the API’s bucket is full again', async () => {
    let now = 0;
    const budget = new RateBudget({ given: { rpm: 50 }, now: () => now });
    expect(await budget.reserve(cost())).toBe(true);
    // the API's one-second bucket holds 0.83 requests: the next fits 1.2 s later, not before
    const controller = new AbortController();
    const next = budget.reserve(cost(), controller.signal);
    now = 1150;
    setTimeout(() => controller.abort(), 300);
    expect(await next).toBe(false);
    now = 1200;
    expect(await budget.reserve(cost())).toBe(true);
  });

  it('reads the API’s debt from the reset time when remaining is 0', () => {
    const now = 10_000;
    const budget = new RateBudget({ given: {}, now: () => now });
    // 6 RPM: one request every 10 s; the API says its bucket is full again in 9 s
    budget.observe({ requests: { limit: 6, remaining: 0, resetAt: now + 9000 } });
    const b = (budget as unknown as { buckets: { requests: import('../../src/realtime/token-bucket.js').TokenBucket } }).buckets.requests;
    expect(b.waitMs(1, now)).toBeGreaterThanOrEqual(9000);
  });
});

describe('a steady pace under a limit below one request a second', () => {
  it('spaces requests at exactly 60/rpm seconds: the transit slack is an offset, not added each time', async () => {
    let now = 0;
    const budget = new RateBudget({ given: { rpm: 50 }, now: () => now });
    const starts: number[] = [];
    for (let i = 0; i < 6; i++) {
      // advance the clock in 10 ms steps until the reservation goes through
      for (;;) {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 0);
        if (await budget.reserve(cost(), controller.signal)) break;
        now += 10;
      }
      starts.push(now);
    }
    const gaps = starts.slice(2).map((t, i) => t - starts[i + 1]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1200);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(1220);
  });
});

describe('the p-queue backstop', () => {
  it('allows more starts per second than the budget ever lets out, so it never slows a run', async () => {
    const { burstBackstop } = await import('../../src/realtime/scheduler.js');
    for (const rpm of [1, 50, 600, 4000]) {
      const { interval, intervalCap } = burstBackstop(rpm);
      const budgetMax = (rpm / 60) * 0.75 + (rpm / 60) * (interval / 1000); // bucket + one interval of refill
      expect(intervalCap).toBeGreaterThanOrEqual(Math.ceil(budgetMax));
      expect(intervalCap).toBeLessThanOrEqual(Math.max(2, Math.ceil((2 * rpm) / 60)));
    }
  });
});
