/** The bucket arithmetic, on an explicit clock. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/simulator/token-bucket.js';
import { RateLimits } from '../../src/simulator/rate-limits.js';

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
    expect(b.fullAt(1000)).toBeCloseTo(6000); // 5 tokens of refill at 1 per second
  });
});

describe('RateLimits', () => {
  it('consumes nothing from any bucket when one of them refuses', () => {
    const limits = new RateLimits();
    limits.configure({ rpm: 600, itpm: 600, burstSeconds: 1 }, 0); // 10 requests, 10 input tokens
    expect(limits.admit(5, 1, 0)).toEqual({ ok: true });
    const refused = limits.admit(6, 1, 0);
    expect(refused).toMatchObject({ ok: false, limit: 'input-tokens', retryAfterSeconds: 1 });
    expect(limits.headers(0)).toMatchObject({
      'anthropic-ratelimit-requests-remaining': '9',
      'anthropic-ratelimit-input-tokens-remaining': '5',
      'anthropic-ratelimit-input-tokens-reset': new Date(500).toISOString(),
    });
  });

  it('names the limit with the longest wait and rounds retry-after up to whole seconds', () => {
    const limits = new RateLimits();
    limits.configure({ rpm: 60, otpm: 6000, burstSeconds: 1 }, 0); // 1 request; 100 output tokens, 100/s
    expect(limits.admit(1, 100, 0)).toEqual({ ok: true });
    const refused = limits.admit(1, 100, 100);
    expect(refused).toMatchObject({ ok: false, limit: 'requests', retryAfterSeconds: 1 });
    limits.refundOutput(90, 100);
    expect(limits.headers(100)['anthropic-ratelimit-output-tokens-remaining']).toBe('100');
  });
});
