/** The prompt cache's rules on an explicit clock: prefixes, TTLs, refresh on read, readable after commit. */
import { describe, expect, it } from 'vitest';
import { PromptCache } from '../../src/simulator/prompt-cache.js';
import { countTokens, promptLayout } from '../../src/simulator/prompt-layout.js';

const MODEL = 'claude-haiku-4-5';
const SETTINGS = { minTokens: 100, ttlScale: 1 };
const LONG = 'x'.repeat(4000); // 1000 tokens

function prompt(question: string, ttl?: '1h') {
  return {
    system: [{ type: 'text', text: LONG, cache_control: ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: question }],
  };
}

describe('promptLayout', () => {
  it('counts tokens per block in prompt order, the framing with each message, and finds the breakpoints', () => {
    const params = {
      tools: [{ name: 'lookup', description: 'Looks things up', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
      system: [{ type: 'text', text: 'abcdefgh' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'abcd' }, { type: 'text', text: 'efghi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        { role: 'assistant', content: 'ok' },
      ],
    };
    const layout = promptLayout(params);
    const toolJson = JSON.stringify({ name: 'lookup', description: 'Looks things up', input_schema: { type: 'object' } });
    expect(layout.tokens).toEqual([Math.ceil(toolJson.length / 4), 2, 1 + 4, 2, 1 + 4]);
    expect(layout.breakpoints).toEqual([
      { block: 0, ttl: '5m' },
      { block: 3, ttl: '1h' },
    ]);
    expect(countTokens(params)).toBe(layout.total);
    // cache_control does not change what a block counts or hashes as.
    const { cache_control: _, ...bare } = params.tools[0]!;
    expect(promptLayout({ ...params, tools: [bare] }).tokens).toEqual(layout.tokens);
    expect(promptLayout({ ...params, tools: [bare] }).canonical(0)).toBe(layout.canonical(0));
  });

  it('puts the automatic breakpoint of a top-level cache_control on the last block', () => {
    const layout = promptLayout({ cache_control: { type: 'ephemeral' }, system: 'sys', messages: [{ role: 'user', content: 'hi' }] });
    expect(layout.breakpoints).toEqual([{ block: 1, ttl: '5m' }]);
  });
});

describe('PromptCache', () => {
  it('writes a cold prefix, readable only once committed, then reads it', () => {
    const cache = new PromptCache();
    const first = cache.plan(MODEL, promptLayout(prompt('one')), 0, SETTINGS);
    expect(first).toMatchObject({ cacheReadTokens: 0, cacheCreation5m: 1000, cacheCreation1h: 0 });
    expect(first.inputTokens).toBe(countTokens(prompt('one')) - 1000);
    // Not committed yet: a concurrent request writes (and pays) again.
    expect(cache.plan(MODEL, promptLayout(prompt('two')), 0, SETTINGS)).toMatchObject({ cacheCreation5m: 1000 });
    cache.commit(first, 10);
    const second = cache.plan(MODEL, promptLayout(prompt('two')), 20, SETTINGS);
    expect(second).toMatchObject({ cacheReadTokens: 1000, cacheCreation5m: 0, writes: [] });
    // Another model has its own cache.
    expect(cache.plan('claude-opus-5', promptLayout(prompt('two')), 20, SETTINGS).cacheReadTokens).toBe(0);
  });

  it('expires an entry 5 minutes after it was written, unless a read refreshed it', () => {
    const cache = new PromptCache();
    cache.commit(cache.plan(MODEL, promptLayout(prompt('a')), 0, SETTINGS), 0);
    const FIVE_MIN = 5 * 60_000;
    expect(cache.plan(MODEL, promptLayout(prompt('b')), FIVE_MIN - 1, SETTINGS).cacheReadTokens).toBe(1000);
    expect(cache.plan(MODEL, promptLayout(prompt('b')), FIVE_MIN, SETTINGS).cacheReadTokens).toBe(0);

    const refreshed = new PromptCache();
    refreshed.commit(refreshed.plan(MODEL, promptLayout(prompt('a')), 0, SETTINGS), 0);
    refreshed.read(refreshed.plan(MODEL, promptLayout(prompt('b')), 4 * 60_000, SETTINGS), 4 * 60_000);
    expect(refreshed.plan(MODEL, promptLayout(prompt('c')), 8 * 60_000, SETTINGS).cacheReadTokens).toBe(1000);
    expect(refreshed.plan(MODEL, promptLayout(prompt('c')), 9 * 60_000, SETTINGS).cacheReadTokens).toBe(0);
  });

  it('keeps a ttl: "1h" entry for an hour and reports it as ephemeral_1h; ttlScale shortens both', () => {
    const cache = new PromptCache();
    const plan = cache.plan(MODEL, promptLayout(prompt('a', '1h')), 0, SETTINGS);
    expect(plan).toMatchObject({ cacheCreation5m: 0, cacheCreation1h: 1000 });
    cache.commit(plan, 0);
    expect(cache.plan(MODEL, promptLayout(prompt('b', '1h')), 59 * 60_000, SETTINGS).cacheReadTokens).toBe(1000);
    const scaled = new PromptCache();
    scaled.commit(scaled.plan(MODEL, promptLayout(prompt('a')), 0, { minTokens: 100, ttlScale: 0.01 }), 0);
    expect(scaled.plan(MODEL, promptLayout(prompt('b')), 2_999, SETTINGS).cacheReadTokens).toBe(1000);
    expect(scaled.plan(MODEL, promptLayout(prompt('b')), 3_000, SETTINGS).cacheReadTokens).toBe(0);
  });

  it('reads the longest cached prefix and writes from there up to the last breakpoint, split by TTL', () => {
    const cache = new PromptCache();
    const tools = [{ name: 't', description: 'y'.repeat(2000), input_schema: { type: 'object' }, cache_control: { type: 'ephemeral', ttl: '1h' } }];
    const withTools = (question: string) => ({ tools, ...prompt(question) });
    const toolTokens = promptLayout(withTools('q')).tokens[0]!;
    const first = cache.plan(MODEL, promptLayout(withTools('q')), 0, SETTINGS);
    expect(first).toMatchObject({ cacheReadTokens: 0, cacheCreation1h: toolTokens, cacheCreation5m: 1000 });
    cache.commit(first, 0);
    // Same tools, another system prompt: the tools prefix is read, the system block written.
    const other = { tools, system: [{ type: 'text', text: 'z'.repeat(4000), cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'q' }] };
    expect(cache.plan(MODEL, promptLayout(other), 1, SETTINGS)).toMatchObject({ cacheReadTokens: toolTokens, cacheCreation1h: 0, cacheCreation5m: 1000 });
  });

  it('does not cache a prefix shorter than the minimum: its tokens are plain input', () => {
    const cache = new PromptCache();
    const short = { system: [{ type: 'text', text: 'short', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'q' }] };
    const plan = cache.plan(MODEL, promptLayout(short), 0, { minTokens: 1024, ttlScale: 1 });
    expect(plan).toMatchObject({ cacheReadTokens: 0, cacheCreation5m: 0, cacheCreation1h: 0, writes: [] });
    expect(plan.inputTokens).toBe(countTokens(short));
  });

  it('forgets everything on flush', () => {
    const cache = new PromptCache();
    cache.commit(cache.plan(MODEL, promptLayout(prompt('a')), 0, SETTINGS), 0);
    cache.flush();
    expect(cache.plan(MODEL, promptLayout(prompt('b')), 1, SETTINGS).cacheReadTokens).toBe(0);
  });
});
