/** Prompt caching through the SDK: usage fields, ITPM on uncached input and writes, batches, flush. */
import { afterEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { MODEL, rawPost, sdk, sleep } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const SYSTEM = 'You classify support tickets. '.repeat(300); // 9,000 chars: 2,250 tokens
const SYSTEM_TOKENS = Math.ceil(SYSTEM.length / 4);

function cachedParams(question: string, model = MODEL): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model,
    max_tokens: 64,
    system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: question }],
  };
}

describe('prompt caching', () => {
  it('writes a cold prefix, then reads it, and every part of the input adds up to the count', async () => {
    sim = await startSimulator();
    const client = sdk(sim);
    const first = await client.messages.create(cachedParams('ticket 1'));
    expect(first.usage).toMatchObject({
      cache_creation_input_tokens: SYSTEM_TOKENS,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: SYSTEM_TOKENS, ephemeral_1h_input_tokens: 0 },
    });
    expect(first.usage.input_tokens).toBe(countTokens(cachedParams('ticket 1')) - SYSTEM_TOKENS);
    const second = await client.messages.create(cachedParams('ticket 2'));
    expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: SYSTEM_TOKENS });
    expect(second.usage.input_tokens + SYSTEM_TOKENS).toBe(countTokens(cachedParams('ticket 2')));
    expect(sim.counters()).toMatchObject({
      cacheWrites: 1,
      cacheReads: 1,
      cacheCreationInputTokens: SYSTEM_TOKENS,
      cacheReadInputTokens: SYSTEM_TOKENS,
      byClass: { [MODEL]: { cacheCreationInputTokens: SYSTEM_TOKENS, cacheReadInputTokens: SYSTEM_TOKENS } },
    });
  });

  it('charges ITPM for uncached input and cache writes, not cache reads (except for Haiku 3.5)', async () => {
    // 60,000 input tokens of bucket, refilled at 1 a millisecond.
    sim = await startSimulator({ itpm: 60_000, burstSeconds: 60, exactHeaders: true });
    const client = sdk(sim);
    const spent = async (params: Anthropic.MessageCreateParamsNonStreaming) => {
      const before = Date.now();
      const { response } = await client.messages.create(params).withResponse();
      const refill = Date.now() - before; // at most this much came back meanwhile
      return { remaining: Number(response.headers.get('anthropic-ratelimit-input-tokens-remaining')), refill };
    };
    const write = await spent(cachedParams('one'));
    expect(60_000 - write.remaining + write.refill).toBeGreaterThanOrEqual(SYSTEM_TOKENS);
    const read = await spent(cachedParams('two'));
    expect(write.remaining - read.remaining).toBeLessThan(100); // only the few uncached tokens
    const HAIKU_35 = 'claude-3-5-haiku-20241022';
    await client.messages.create(cachedParams('one', HAIKU_35));
    const readOld = await spent(cachedParams('two', HAIKU_35));
    expect(60_000 - readOld.remaining + readOld.refill).toBeGreaterThanOrEqual(SYSTEM_TOKENS);
  });

  it('makes a write readable only once the request that wrote it has finished: concurrent cold requests each write', async () => {
    sim = await startSimulator({ latencyMs: 150 });
    const client = sdk(sim);
    const together = await Promise.all([client.messages.create(cachedParams('a')), client.messages.create(cachedParams('b'))]);
    expect(together.map((m) => m.usage.cache_creation_input_tokens)).toEqual([SYSTEM_TOKENS, SYSTEM_TOKENS]);
    const after = await client.messages.create(cachedParams('c'));
    expect(after.usage.cache_read_input_tokens).toBe(SYSTEM_TOKENS);
    expect(sim.counters()).toMatchObject({ cacheWrites: 2, cacheReads: 1 });
  });

  it('makes a streamed write readable once its output has started, before the answer ends', async () => {
    sim = await startSimulator({ latencyMs: 100, jitterMs: 0, outputTokensPerSecond: 20, replyTokens: { min: 40, max: 40 } });
    const client = sdk(sim);
    const writer = client.messages.stream(cachedParams('writer'));
    let writerDone = false;
    const written = writer.finalMessage().finally(() => (writerDone = true));
    // Its first text arrives after ~150 ms; the whole answer takes 2 s.
    await new Promise<void>((resolve) => writer.once('text', () => resolve()));
    const reader = await client.messages.create({ ...cachedParams('reader'), max_tokens: 1 });
    expect(reader.usage.cache_read_input_tokens).toBe(SYSTEM_TOKENS);
    expect(writerDone).toBe(false);
    expect((await written).usage.cache_creation_input_tokens).toBe(SYSTEM_TOKENS);
  });

  it('does not commit the write of a request whose client went away', async () => {
    sim = await startSimulator({ latencyMs: 300 });
    const client = sdk(sim);
    await expect(client.messages.create(cachedParams('gives up'), { timeout: 50 })).rejects.toThrow();
    await sleep(400);
    expect((await client.messages.create(cachedParams('next'))).usage.cache_creation_input_tokens).toBe(SYSTEM_TOKENS);
  });

  it('does not cache a prefix shorter than cacheMinTokens', async () => {
    sim = await startSimulator({ cacheMinTokens: 4096 });
    const client = sdk(sim);
    for (const q of ['a', 'b']) {
      const { usage } = await client.messages.create(cachedParams(q));
      expect(usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0, input_tokens: countTokens(cachedParams(q)) });
    }
    sim.setOptions({ cacheMinTokens: 2048 });
    expect((await client.messages.create(cachedParams('c'))).usage.cache_creation_input_tokens).toBe(SYSTEM_TOKENS);
  });

  it('caches the whole prompt with a top-level cache_control (automatic caching)', async () => {
    sim = await startSimulator();
    const client = sdk(sim);
    const params = { model: MODEL, max_tokens: 64, cache_control: { type: 'ephemeral' as const }, system: SYSTEM, messages: [{ role: 'user' as const, content: 'same question' }] };
    const first = await client.messages.create(params);
    expect(first.usage).toMatchObject({ input_tokens: 0, cache_creation_input_tokens: countTokens(params) });
    const second = await client.messages.create(params);
    expect(second.usage).toMatchObject({ input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: countTokens(params) });
  });

  it('reports a ttl: "1h" write as ephemeral_1h', async () => {
    sim = await startSimulator();
    const params = cachedParams('x');
    (params.system as Anthropic.TextBlockParam[])[0]!.cache_control = { type: 'ephemeral', ttl: '1h' };
    const { usage } = await sdk(sim).messages.create(params);
    expect(usage.cache_creation).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: SYSTEM_TOKENS });
  });

  it('expires entries after the scaled TTL, refreshed on every read', async () => {
    sim = await startSimulator({ cacheTtlScale: 0.004 }); // 5 minutes -> 1.2 s
    const client = sdk(sim);
    await client.messages.create(cachedParams('write'));
    await sleep(700);
    expect((await client.messages.create(cachedParams('read 1'))).usage.cache_read_input_tokens).toBe(SYSTEM_TOKENS);
    await sleep(700); // 1.4 s after the write, 0.7 s after the refresh
    expect((await client.messages.create(cachedParams('read 2'))).usage.cache_read_input_tokens).toBe(SYSTEM_TOKENS);
    await sleep(1600);
    expect((await client.messages.create(cachedParams('cold again'))).usage.cache_creation_input_tokens).toBe(SYSTEM_TOKENS);
  });

  it('evicts everything with flushCache(), or POST /_sim/options {"flushCache": true}', async () => {
    sim = await startSimulator();
    const client = sdk(sim);
    await client.messages.create(cachedParams('a'));
    sim.flushCache();
    expect((await client.messages.create(cachedParams('b'))).usage.cache_creation_input_tokens).toBe(SYSTEM_TOKENS);
    expect((await rawPost(sim, '/_sim/options', { flushCache: true })).status).toBe(200);
    expect((await client.messages.create(cachedParams('c'))).usage.cache_creation_input_tokens).toBe(SYSTEM_TOKENS);
    expect((await rawPost(sim, '/_sim/options', { flushCache: 'yes' })).body.error.message).toMatch(/flushCache.*"yes"/);
  });

  it('applies the same rules to batch results, in request order, sharing the cache with Messages', async () => {
    sim = await startSimulator({ batchMs: 0 });
    const client = sdk(sim);
    const requests = ['a', 'b', 'c'].map((q) => ({ custom_id: `q-${q}`, params: cachedParams(q) }));
    const { id } = await client.messages.batches.create({ requests });
    const usage: Record<string, Anthropic.Usage> = {};
    for await (const line of await client.messages.batches.results(id)) {
      if (line.result.type === 'succeeded') usage[line.custom_id] = line.result.message.usage;
    }
    expect(usage['q-a']).toMatchObject({ cache_creation_input_tokens: SYSTEM_TOKENS, cache_read_input_tokens: 0 });
    expect(usage['q-b']).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: SYSTEM_TOKENS });
    expect(usage['q-c']).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: SYSTEM_TOKENS });
    expect((await client.messages.create(cachedParams('d'))).usage.cache_read_input_tokens).toBe(SYSTEM_TOKENS);
  });
});
