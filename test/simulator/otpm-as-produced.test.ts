/** OTPM as the API counts it in 2026: output drains the bucket as it is produced; max_tokens does not factor in. */
import { afterEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rejection, sdk, sleep } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** The output bucket's exact level, read from a tiny probe request's headers. */
async function outputRemaining(client: Anthropic, tag: string): Promise<number> {
  const { response } = await client.messages.create(params(`probe ${tag}`, 1)).withResponse();
  return Number(response.headers.get('anthropic-ratelimit-output-tokens-remaining'));
}

describe('OTPM counted as produced', () => {
  it('drains the output bucket over a long answer, not at once', async () => {
    // 1,000 tokens of bucket, refilled at 1 a ms; the answer produces 3,000 at 1.5 a ms over 2 s.
    sim = await startSimulator({ otpm: 60_000, exactHeaders: true, replyTokens: 3000, outputTokensPerSecond: 1500 });
    const client = sdk(sim);
    const long = client.messages.create(params('a long essay', 4000));
    await sleep(500);
    const midway = await outputRemaining(client, 'midway');
    // Charged at once, the bucket would be 2,000 in debt and the probe refused; not charged at all, full.
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(950);
    await sleep(400);
    expect(await outputRemaining(client, 'later')).toBeLessThan(midway); // still draining, net 0.5 a ms
    expect((await long).usage.output_tokens).toBe(3000);
  });

  it('does not limit max_tokens 32000 with short answers', async () => {
    sim = await startSimulator({ otpm: 60_000 }); // 1,000 output tokens
    const client = sdk(sim);
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.messages.create(params(`short ${i}`, 32_000), { timeout: 30_000 })),
    );
    expect(replies.every((r) => r.usage.output_tokens < 40)).toBe(true);
    expect(sim.counters()).toMatchObject({ succeeded: 8, rateLimited: 0 });
  });

  it('refuses new requests while the bucket is in debt, with a retry-after until it is out of debt', async () => {
    sim = await startSimulator({ otpm: 60_000, replyTokens: 3000 }); // 3,000 at once into a bucket of 1,000
    const client = sdk(sim);
    await client.messages.create(params('big', 4000));
    const err = await rejection(client.messages.create(params('next', 10)));
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ error: { message: expect.stringMatching(/60000 output tokens per minute/) } });
    expect(err.headers?.get('retry-after')).toBe('2'); // 2,000 tokens of debt at 1,000 a second
    expect(err.headers?.get('anthropic-ratelimit-output-tokens-remaining')).toBe('0');
    expect(sim.counters().rateLimitedBy).toEqual({ requests: 0, inputTokens: 0, outputTokens: 1 });
  });

  it('counts a non-streaming answer whose client gave up only for what it produced', async () => {
    sim = await startSimulator({ otpm: 60_000, exactHeaders: true, replyTokens: 4000, outputTokensPerSecond: 2000 });
    const client = sdk(sim);
    await expect(client.messages.create(params('abandoned', 5000), { timeout: 150 })).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    await sleep(20);
    const soon = await outputRemaining(client, 'soon');
    await sleep(300);
    // Still producing, the bucket would be draining 1 a ms; stopped, it refills.
    expect(await outputRemaining(client, 'later')).toBeGreaterThan(soon);
    expect(sim.counters()).toMatchObject({ clientAborts: 1 });
  });
});
