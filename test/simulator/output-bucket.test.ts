/** Output tokens counted as they are produced (the API's 2026 rule), on an explicit clock. */
import { describe, expect, it } from 'vitest';
import { OutputBucket } from '../../src/simulator/output-bucket.js';
import { ClassBudget } from '../../src/simulator/class-budget.js';

describe('OutputBucket', () => {
  it('drains linearly over an answer from when its output starts to when it ends', () => {
    const b = new OutputBucket(60_000, 1, 0); // 1000 tokens, refilled at 1 per ms
    b.produce(3000, 1000, 4000, 0); // 1 token per ms from t=1000 to t=4000
    expect(b.level(1000)).toBeCloseTo(1000);
    // Production matches the refill while it lasts: the bucket stays where it was.
    expect(b.level(2500)).toBeCloseTo(1000);
    const fast = new OutputBucket(60_000, 1, 0);
    fast.produce(6000, 0, 2000, 0); // 3 per ms, refill 1 per ms: net -2 per ms
    expect(fast.level(250)).toBeCloseTo(500);
    expect(fast.level(1000)).toBeCloseTo(-1000);
    expect(fast.level(2000)).toBeCloseTo(-3000);
    expect(fast.level(5000)).toBeCloseTo(0);
    expect(fast.level(99_000)).toBeCloseTo(1000); // never above capacity
  });

  it('charges an answer with no duration all at once', () => {
    const b = new OutputBucket(60_000, 1, 0);
    b.produce(1500, 10, 10, 0);
    expect(b.level(9)).toBeCloseTo(1000);
    expect(b.level(10)).toBeCloseTo(-500);
  });

  it('never charges what a stopped answer had not produced yet', () => {
    const b = new OutputBucket(60_000, 1, 0);
    const p = b.produce(10_000, 0, 10_000, 0); // 1 per ms, balanced by the refill
    b.produce(500, 0, 0, 0); // another answer takes 500 at once
    expect(b.level(0)).toBeCloseTo(500);
    b.stop(p, 1000);
    expect(b.level(1000)).toBeCloseTo(500);
    expect(b.level(1300)).toBeCloseTo(800); // refill only from now on
    const pending = b.produce(400, 5000, 5000, 1300);
    b.stop(pending, 2000);
    expect(b.level(6000)).toBeCloseTo(1000);
  });

  it('waits out a debt given the answers still producing', () => {
    const b = new OutputBucket(60_000, 1, 0);
    b.produce(2000, 0, 0, 0); // -1000 at once
    b.produce(2000, 0, 1000, 0); // 2 per ms for a second: net -1 per ms
    expect(b.waitMs(0)).toBeCloseTo(3000); // -2000 at t=1000, then +1 per ms
    expect(b.level(3000)).toBeCloseTo(0);
    expect(b.waitMs(3000)).toBe(0);
  });

  it('keeps the wait right as time passes and when an answer stops', () => {
    const b = new OutputBucket(60_000, 1, 0);
    b.produce(2000, 0, 0, 0);
    const p = b.produce(2000, 0, 1000, 0);
    expect(b.waitMs(0)).toBeCloseTo(3000);
    expect(b.waitMs(500)).toBeCloseTo(2500);
    b.stop(p, 500); // at -1,500 with nothing producing: 1.5 s of refill
    expect(b.waitMs(500)).toBeCloseTo(1500);
  });
});

describe('admission under as-produced', () => {
  it('admits while the output bucket is not in debt, whatever max_tokens says', () => {
    const budget = new ClassBudget('claude-haiku-4-5', { otpm: 6000 }, 1, 'as-produced', 0); // 100 tokens, 0.1 per ms
    for (let i = 0; i < 5; i++) {
      expect(budget.admit({ inputTokens: 1, maxTokens: 32_000 }, 0)).toEqual({ ok: true });
      budget.chargeOutput(10, 32_000, 0, 0, 0);
    }
    expect(budget.output!.level(0)).toBeCloseTo(50);
    budget.chargeOutput(100, 32_000, 0, 0, 0); // into debt: -50
    const refused = budget.admit({ inputTokens: 1, maxTokens: 1 }, 0);
    expect(refused).toMatchObject({ ok: false, limit: 'output-tokens', retryAfterSeconds: 1 });
    expect(budget.admit({ inputTokens: 1, maxTokens: 1 }, 500)).toEqual({ ok: true });
  });
});
