/** Reply lengths and durations: replyTokens, max_tokens, outputTokensPerSecond, max_tokens 0. */
import { afterEach, describe, expect, it } from 'vitest';
import { countTokens, promptKey, replyText, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { MODEL, params, sdk } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const header = (prompt: string) => `Simulated reply ${promptKey(params(prompt)).slice(0, 8)} to: ${prompt}`;

describe('reply length', () => {
  it('pads each reply to replyTokens, keeping the header that names its prompt', async () => {
    sim = await startSimulator({ replyTokens: 300 });
    const reply = await sdk(sim).messages.create(params('ticket 7: refund please', 1000));
    expect(reply.usage.output_tokens).toBe(300);
    expect(reply.stop_reason).toBe('end_turn');
    const text = (reply.content[0] as { text: string }).text;
    expect(text.startsWith(header('ticket 7: refund please'))).toBe(true);
    expect(text).toHaveLength(1200);
    expect(text).toBe(replyText(params('ticket 7: refund please', 1000), { replyTokens: 300 }));
  });

  it('picks a length in [min, max] from the prompt: the same prompt always gets the same one', async () => {
    sim = await startSimulator({ replyTokens: { min: 50, max: 400 } });
    const client = sdk(sim);
    const lengths = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const { usage } = await client.messages.create(params(`item ${i}`, 1000));
      expect(usage.output_tokens).toBeGreaterThanOrEqual(50);
      expect(usage.output_tokens).toBeLessThanOrEqual(400);
      lengths.add(usage.output_tokens);
      expect((await client.messages.create(params(`item ${i}`, 1000))).usage.output_tokens).toBe(usage.output_tokens);
    }
    expect(lengths.size).toBeGreaterThan(6);
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    sim = await startSimulator({ replyTokens: 500 });
    const reply = await sdk(sim).messages.create(params('long one', 120));
    expect(reply).toMatchObject({ stop_reason: 'max_tokens', usage: { output_tokens: 120 } });
    expect((reply.content[0] as { text: string }).text).toHaveLength(480);
  });

  it('keeps the short header-only reply by default', async () => {
    sim = await startSimulator();
    const reply = await sdk(sim).messages.create(params('plain'));
    expect(reply.content).toEqual([{ type: 'text', text: header('plain') }]);
    expect(reply.usage.output_tokens).toBe(Math.ceil(header('plain').length / 4));
  });

  it('refuses a bad replyTokens, naming it', async () => {
    sim = await startSimulator();
    expect(() => sim!.setOptions({ replyTokens: 0 })).toThrow(/`replyTokens`.*`0`/);
    expect(() => sim!.setOptions({ replyTokens: { min: 10, max: 5 } })).toThrow(/`replyTokens.max`.*`5`/);
  });
});

describe('answer duration', () => {
  it('makes a long answer take longer with outputTokensPerSecond', async () => {
    sim = await startSimulator({ replyTokens: 400, outputTokensPerSecond: 1000 }); // 0.4 s vs 0.01 s
    const client = sdk(sim);
    const order: string[] = [];
    await Promise.all([
      client.messages.create(params('long', 1000)).then(() => order.push('long')),
      client.messages.create(params('short', 10)).then(() => order.push('short')),
    ]);
    expect(order).toEqual(['short', 'long']);
  });
});

describe('max_tokens: 0 (cache pre-warm)', () => {
  it('writes the cache and answers with no content, stop_reason max_tokens and no output', async () => {
    sim = await startSimulator({ replyTokens: 200 });
    const client = sdk(sim);
    const warm = {
      model: MODEL,
      max_tokens: 0,
      system: [{ type: 'text' as const, text: 'z'.repeat(6000), cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'warm up' }],
    };
    const reply = await client.messages.create(warm);
    expect(reply).toMatchObject({ content: [], stop_reason: 'max_tokens', usage: { output_tokens: 0, cache_creation_input_tokens: 1500 } });
    expect(reply.usage.input_tokens + 1500).toBe(countTokens(warm));
    const real = await client.messages.create({ ...warm, max_tokens: 500, messages: [{ role: 'user', content: 'the real question' }] });
    expect(real.usage).toMatchObject({ cache_read_input_tokens: 1500, output_tokens: 200 });
  });
});
