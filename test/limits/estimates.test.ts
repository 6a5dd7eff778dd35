import { describe, expect, it } from 'vitest';
import { InputEstimate } from '../../src/limits/input-estimate.js';
import { baseModel, modelClass } from '../../src/limits/model-class.js';
import { OutputEstimate } from '../../src/limits/output-estimate.js';
import { parseRateLimitHeaders } from '../../src/limits/rate-limit-headers.js';

describe('model classes', () => {
  it('pools every Opus 4.x and every Sonnet 4.x; Haiku 4.5, Opus 5 and Sonnet 5 stand alone', () => {
    for (const m of ['claude-opus-4', 'claude-opus-4-1', 'claude-opus-4-5', 'claude-opus-4-8-20260301', 'claude-opus-4-latest']) {
      expect(modelClass(m)).toBe('claude-opus-4');
    }
    for (const m of ['claude-sonnet-4', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-6']) expect(modelClass(m)).toBe('claude-sonnet-4');
    expect(modelClass('claude-haiku-4-5-20251001')).toBe('claude-haiku-4-5');
    expect(modelClass('claude-opus-5')).toBe('claude-opus-5');
    expect(modelClass('claude-sonnet-5')).toBe('claude-sonnet-5');
    expect(modelClass('claude-sonnet-5-5')).toBe('claude-sonnet-5-5');
    expect(baseModel('claude-3-5-haiku-latest')).toBe('claude-3-5-haiku');
  });
});

describe('OutputEstimate', () => {
  it('reserves max_tokens before any answer, the largest seen while there are few, then the 90th percentile', () => {
    const e = new OutputEstimate();
    expect(e.estimate(4096)).toBe(4096);
    e.observe(100);
    e.observe(300);
    expect(e.estimate(4096)).toBe(300);
    for (let i = 1; i <= 100; i++) e.observe(i);
    // 102 samples: 1..100, 100, 300 → the 90th percentile is about 91
    expect(e.estimate(4096)).toBeGreaterThan(85);
    expect(e.estimate(4096)).toBeLessThan(100);
    // never above the request's own max_tokens
    expect(e.estimate(16)).toBe(16);
    expect(e.mean()).toBeCloseTo((5050 + 400) / 102, 5);
  });

  it('follows a change in the job: only the most recent answers count', () => {
    const e = new OutputEstimate();
    for (let i = 0; i < 300; i++) e.observe(1000);
    for (let i = 0; i < 256; i++) e.observe(50);
    expect(e.estimate(4096)).toBe(50);
  });
});

describe('InputEstimate', () => {
  it('starts high and calibrates from what the API counted, cached tokens included', () => {
    const e = new InputEstimate();
    expect(e.estimate(3000)).toBeGreaterThanOrEqual(1000);
    for (let i = 0; i < 50; i++) e.observe(4000, { input_tokens: 100, cache_read_input_tokens: 900 });
    expect(e.estimate(4000)).toBeGreaterThan(950);
    expect(e.estimate(4000)).toBeLessThan(1150);
  });
});

describe('rate-limit headers as the API sends them', () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('treats rounded token counts as a range and second-precision resets as their earliest value', () => {
    const h = parseRateLimitHeaders(
      headers({
        'anthropic-ratelimit-requests-limit': '1000',
        'anthropic-ratelimit-requests-remaining': '999',
        'anthropic-ratelimit-requests-reset': '2026-12-01T10:00:01Z',
        'anthropic-ratelimit-input-tokens-limit': '2000000',
        'anthropic-ratelimit-input-tokens-remaining': '1999000',
        'anthropic-ratelimit-output-tokens-limit': '400000',
        'anthropic-ratelimit-output-tokens-remaining': '0',
        'anthropic-ratelimit-output-tokens-reset': '2026-12-01T10:00:01.250Z',
      }),
    );
    expect(h.requests).toMatchObject({ limit: 1000, remaining: 999, remainingAtMost: 999 });
    expect(h.requests?.resetNotBefore).toBe(Date.parse('2026-12-01T10:00:00Z'));
    expect(h.inputTokens).toMatchObject({ limit: 2_000_000, remainingAtMost: 1_999_500 });
    expect(h.outputTokens).toMatchObject({ remaining: 0, remainingAtMost: 500 });
    expect(h.outputTokens?.resetNotBefore).toBe(Date.parse('2026-12-01T10:00:01.250Z'));
  });

  it('falls back to the combined tokens headers only when the separate ones are missing', () => {
    const h = parseRateLimitHeaders(headers({ 'anthropic-ratelimit-tokens-limit': '80000', 'anthropic-ratelimit-tokens-remaining': '12000' }));
    expect(h.inputTokens?.limit).toBe(80_000);
    expect(parseRateLimitHeaders(headers({})).requests).toBeUndefined();
  });
});
