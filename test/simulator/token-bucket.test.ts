/** The bucket arithmetic, on an explicit clock. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/simulator/token-bucket.js';
import { ClassBudget } from '../../src/simulator/class-budget.js';
import { rateLimitHeaders } from '../../src/simulator/rate-limit-headers.js';

describe('TokenBucket', () => {
  it('starts full at limit/60 x burstSeconds and refills continuously at limit/60 per second', () => {
    const b = new TokenBucket(120, 1, 0); // 2 per second, capacity 2
    expect(b.remaining(0)).toBe(2);
    b.take(2, 0);
    expect(b.waitMs(1, 0)).toBeCloseTo(500);
    expect(b.waitMs(1, 499)).toBeGreaterThan(0);
    expect(b.waitMs(1, 500)).toBe(0);
    expect(b.remaining(10_000)).toBe(2); // never above capacity
  });

  it('lets a cost above capacity through only when full, leaving debt', () => {
    const b = new TokenBucket(60, 2, 0); // capacity 2
    b.take(1, 0);
    expect(b.waitMs(5, 0)).toBeCloseTo(1000); // must be full first
    expect(b.waitMs(5, 1000)).toBe(0);
    b.take(5, 1000);
    expect(b.remaining(1000)).toBe(0);
    expect(b.level(1000)).toBeCloseTo(-3);
    expect(b.fullAt(1000)).toBeCloseTo(6000); // 5 tokens of refill at 1 per second
  });
});

describe('ClassBudget', () => {
  it('consumes nothing from any bucket when one of them refuses', () => {
    const budget = new ClassBudget('claude-haiku-4-5', { rpm: 600, itpm: 600 }, 1, 'as-produced', 0); // 10 requests, 10 input tokens
    expect(budget.admit({ inputTokens: 5, maxTokens: 1 }, 0)).toEqual({ ok: true });
    const refused = budget.admit({ inputTokens: 6, maxTokens: 1 }, 0);
    expect(refused).toMatchObject({ ok: false, limit: 'input-tokens', retryAfterSeconds: 1 });
    expect(rateLimitHeaders(budget, 0, true)).toMatchObject({
      'anthropic-ratelimit-requests-remaining': '9',
      'anthropic-ratelimit-input-tokens-remaining': '5',
      'anthropic-ratelimit-input-tokens-reset': new Date(500).toISOString(),
    });
  });

  it('names the limit with the longest wait and the model class in the message', () => {
    const budget = new ClassBudget('claude-opus-4', { rpm: 60, itpm: 6000 }, 1, 'as-produced', 0);
    expect(budget.admit({ inputTokens: 100, maxTokens: 1 }, 0)).toEqual({ ok: true });
    const refused = budget.admit({ inputTokens: 100, maxTokens: 1 }, 100); // requests: 900 ms; input: 900 ms too
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    const slow = budget.admit({ inputTokens: 100, maxTokens: 1 }, 1000); // request back at 1000 ms, input too
    expect(slow).toEqual({ ok: true });
    const message = (budget.admit({ inputTokens: 1, maxTokens: 1 }, 1000) as { message: string }).message;
    expect(message).toMatch(/rate limit of 60 requests per minute \(model class: claude-opus-4\)/);
  });

  it('under reserve-max-tokens takes max_tokens at admission and refunds the unused part at the end', () => {
    const budget = new ClassBudget('claude-haiku-4-5', { otpm: 6000 }, 1, 'reserve-max-tokens', 0); // 100 output tokens
    expect(budget.admit({ inputTokens: 1, maxTokens: 100 }, 0)).toEqual({ ok: true });
    const charge = budget.chargeOutput(10, 100, 0, 0, 0);
    expect(budget.admit({ inputTokens: 1, maxTokens: 100 }, 0)).toMatchObject({ ok: false, limit: 'output-tokens' });
    charge.finish(0);
    expect(budget.output!.level(0)).toBeCloseTo(90);
    charge.finish(0); // once only
    expect(budget.output!.level(0)).toBeCloseTo(90);
  });
});
