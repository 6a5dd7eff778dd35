/** The account's limits as token buckets: bursts over capacity get 429s, paced traffic none. */
import { afterEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rejection, sdk, sleep } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('rate limits', () => {
  it('answers a burst over the bucket with 429s that carry retry-after and the ratelimit headers', async () => {
    sim = await startSimulator({ rpm: 60 }); // bucket of 1 request, refilled 1 per second
    const client = sdk(sim);
    const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => client.messages.create(params(`burst ${i}`))));
    const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(4);
    for (const err of refused) {
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect(err.error.error.type).toBe('rate_limit_error');
      expect(err.error.error.message).toMatch(/60 requests per minute/);
      expect(err.headers?.get('retry-after')).toBe('1');
      expect(err.headers?.get('anthropic-ratelimit-requests-limit')).toBe('60');
      expect(err.headers?.get('anthropic-ratelimit-requests-remaining')).toBe('0');
      const reset = Date.parse(err.headers.get('anthropic-ratelimit-requests-reset')!);
      expect(reset).toBeGreaterThan(Date.now() - 1000);
      expect(reset).toBeLessThanOrEqual(Date.now() + 2000); // a second to refill, rounded up to the second
      // Limits that are not set are not reported.
      expect(err.headers?.get('anthropic-ratelimit-input-tokens-limit')).toBeNull();
    }
    expect(sim.counters()).toMatchObject({ requests: 5, succeeded: 1, rateLimited: 4, rateLimitedBy: { requests: 4 } });
  });

  it('admits requests paced at the limit without a single 429, well past the bucket size', async () => {
    // 40 per second into a bucket of 5: the 20 requests need the continuous refill to get through,
    // while the bucket absorbs a client timer's jitter.
    sim = await startSimulator({ rpm: 2400, burstSeconds: 0.125 });
    const client = sdk(sim);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(client.messages.create(params(`paced ${i}`)));
      await sleep(25);
    }
    await Promise.all(pending);
    expect(sim.counters()).toMatchObject({ requests: 20, succeeded: 20, rateLimited: 0 });
  });

  it('lets a request bigger than the whole input bucket through once the bucket is full, then charges the debt', async () => {
    sim = await startSimulator({ itpm: 600 }); // bucket of 10 input tokens, 10 per second
    const client = sdk(sim);
    const big = 'x'.repeat(400); // ~104 tokens, ten times the bucket
    await expect(client.messages.create(params(big))).resolves.toMatchObject({ type: 'message' });
    const err = await rejection(client.messages.create(params('small')));
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ error: { message: expect.stringMatching(/input tokens per minute/) } });
    // ~94 tokens of debt at 10 per second, plus the small request's own cost.
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThanOrEqual(10);
  });

  it('applies limits changed while running', async () => {
    sim = await startSimulator();
    const client = sdk(sim);
    await Promise.all(Array.from({ length: 5 }, (_, i) => client.messages.create(params(`free ${i}`))));
    sim.setOptions({ rpm: 60 });
    const settled = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => client.messages.create(params(`limited ${i}`))));
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(2);
    sim.setOptions({ rpm: undefined });
    await expect(client.messages.create(params('unlimited again'))).resolves.toMatchObject({ type: 'message' });
  });

  it('refuses a request for each limit with its own name, counted in rateLimitedBy', async () => {
    sim = await startSimulator({ itpm: 600 }); // 10 input tokens
    const client = sdk(sim);
    await client.messages.create(params('x'.repeat(60)));
    await rejection(client.messages.create(params('again')));
    expect(sim.counters().rateLimitedBy).toEqual({ requests: 0, inputTokens: 1, outputTokens: 0 });
  });
});

describe('limits per model class', () => {
  const HAIKU = 'claude-haiku-4-5';
  const call = (client: Anthropic, model: string, prompt: string) => client.messages.create({ ...params(prompt), model });

  it('gives every model class its own buckets; Opus 4.x models share one', async () => {
    sim = await startSimulator({ rpm: 60 }); // 1 request a second, per class
    const client = sdk(sim);
    await call(client, HAIKU, 'a');
    await call(client, 'claude-sonnet-5', 'b');
    await call(client, 'claude-opus-4-1-20250805', 'c');
    // Opus 4.1 spent the claude-opus-4 class's request; Opus 4.7 and its -latest alias share it.
    expect((await rejection(call(client, 'claude-opus-4-7', 'd'))).status).toBe(429);
    expect((await rejection(call(client, 'claude-opus-4-latest', 'e'))).status).toBe(429);
    expect((await rejection(call(client, `${HAIKU}-20251001`, 'f'))).status).toBe(429);
    await call(client, 'claude-opus-5', 'g');
    const counters = sim.counters();
    expect(counters.byClass['claude-opus-4']).toMatchObject({ requests: 3, succeeded: 1, rateLimited: 2 });
    expect(counters.byClass[HAIKU]).toMatchObject({ requests: 2, succeeded: 1, rateLimited: 1 });
    expect(Object.keys(counters.byClass).sort()).toEqual(['claude-haiku-4-5', 'claude-opus-4', 'claude-opus-5', 'claude-sonnet-5']);
  });

  it("reports the limits of the request's own class in its headers", async () => {
    sim = await startSimulator({ rpm: 600, classLimits: { 'claude-sonnet-4': { rpm: 120 } } });
    const client = sdk(sim);
    const haiku = await call(client, HAIKU, 'h').withResponse();
    const sonnet = await call(client, 'claude-sonnet-4-6', 's').withResponse();
    expect(haiku.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('600');
    expect(haiku.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('9');
    expect(sonnet.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('120');
    expect(sonnet.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('1');
  });

  it('presets every class from the tier; explicit limits and classLimits win over it', async () => {
    sim = await startSimulator({ tier: 'start', itpm: 1_000_000, classLimits: { [HAIKU]: { otpm: 90_000 } } });
    const client = sdk(sim);
    const { response: opus } = await call(client, 'claude-opus-4-6', 'o').withResponse();
    expect(opus.headers.get('anthropic-ratelimit-requests-limit')).toBe('1000');
    expect(opus.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('1000000');
    expect(opus.headers.get('anthropic-ratelimit-output-tokens-limit')).toBe('400000');
    const { response: haiku } = await call(client, HAIKU, 'h').withResponse();
    expect(haiku.headers.get('anthropic-ratelimit-output-tokens-limit')).toBe('90000');
    sim.setOptions({ tier: 'scale', itpm: undefined, classLimits: undefined });
    const { response: scaled } = await call(client, HAIKU, 'h2').withResponse();
    expect(scaled.headers.get('anthropic-ratelimit-requests-limit')).toBe('10000');
    expect(scaled.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('10000000');
    expect(scaled.headers.get('anthropic-ratelimit-output-tokens-limit')).toBe('2000000');
  });

  it('refuses bad classLimits and tiers, naming the value', async () => {
    sim = await startSimulator();
    expect(() => sim!.setOptions({ tier: 'gold' as never })).toThrow(/`tier`.*`gold`/);
    expect(() => sim!.setOptions({ classLimits: { [HAIKU]: { rpm: -1 } } })).toThrow(/classLimits\.claude-haiku-4-5\.rpm.*`-1`/);
    expect(() => sim!.setOptions({ classLimits: { [HAIKU]: { tpm: 5 } as never } })).toThrow(/Unknown limit `tpm`/);
  });
});
