/** The old output-token rule, behind `otpmRule: 'reserve-max-tokens'`: max_tokens reserved, unused refunded. */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rejection, sdk, sleep } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("otpmRule: 'reserve-max-tokens'", () => {
  it('refunds the unused part of max_tokens to the output-token bucket when a reply finishes', async () => {
    sim = await startSimulator({ otpm: 60_000, otpmRule: 'reserve-max-tokens', exactHeaders: true }); // 1000 output tokens
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
    sim = await startSimulator({ otpm: 60_000, latencyMs: 300, otpmRule: 'reserve-max-tokens' });
    const client = sdk(sim);
    const first = client.messages.create(params('holds 600', 600));
    await sleep(50);
    const err = await rejection(client.messages.create(params('wants 600 more', 600)));
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ error: { message: expect.stringMatching(/output tokens per minute/) } });
    expect(sim.counters().rateLimitedBy.outputTokens).toBe(1);
    await first;
  });

  it('is not the default: the same two requests both get through under as-produced', async () => {
    sim = await startSimulator({ otpm: 60_000, latencyMs: 300 });
    const client = sdk(sim);
    const first = client.messages.create(params('holds 600', 600));
    await sleep(50);
    await expect(client.messages.create(params('wants 600 more', 600))).resolves.toMatchObject({ type: 'message' });
    await first;
  });
});
