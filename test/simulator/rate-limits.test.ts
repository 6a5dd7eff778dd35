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
      expect(reset).toBeLessThanOrEqual(Date.now() + 1000);
      // Limits that are not set are not reported.
      expect(err.headers?.get('anthropic-ratelimit-input-tokens-limit')).toBeNull();
    }
    expect(sim.counters()).toMatchObject({ requests: 5, succeeded: 1, rateLimited: 4 });
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

  it('refunds the unused part of max_tokens to the output-token bucket when a reply finishes', async () => {
    sim = await startSimulator({ otpm: 60_000 }); // bucket of 1000 output tokens
    const client = sdk(sim);
    // Each call reserves 600; without the refund the second would already be refused.
    for (let i = 0; i < 5; i++) {
      const { data, response } = await client.messages.create(params(`refund ${i}`, 600)).withResponse();
      expect(data.usage.output_tokens).toBeLessThan(50);
      expect(Number(response.headers.get('anthropic-ratelimit-output-tokens-remaining'))).toBeGreaterThan(900);
    }
    expect(sim.counters().rateLimited).toBe(0);
  });

  it('holds the whole max_tokens reservation while a request is in flight', async () => {
    sim = await startSimulator({ otpm: 60_000, latencyMs: 300 });
    const client = sdk(sim);
    const first = client.messages.create(params('holds 600', 600));
    await sleep(50);
    const err = await rejection(client.messages.create(params('wants 600 more', 600)));
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ error: { message: expect.stringMatching(/output tokens per minute/) } });
    await first;
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
});
