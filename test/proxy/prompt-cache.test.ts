/**
 * Agents that share a long cached prefix (Claude Code's system prompt and tools, say): through the
 * proxy one request writes it, the others wait for it and read it, instead of each writing it at
 * full input-token price (a wave of writers is a 429 storm on ITPM).
 */
import { describe, expect, it } from 'vitest';
import type Anthropic from '@anthropic-ai/sdk';
import { MODEL, naiveClient, useProxyFixture } from './helpers.js';

const fx = useProxyFixture({ cacheMinTokens: 1024 });
const SYSTEM = `You are a careful reviewer. ${'Follow the house style guide to the letter. '.repeat(200)}`;

const withPrefix = (question: string): Anthropic.MessageCreateParamsNonStreaming => ({
  model: MODEL,
  max_tokens: 64,
  system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: question }],
});

describe('a shared cached prefix through the proxy', () => {
  it('is written once: requests that share it wait for the writer, then read it', async () => {
    fx.sim.setOptions({ rpm: 6000, latencyMs: 200 });
    const proxy = await fx.proxy();
    const clients = Array.from({ length: 4 }, (_, c) => naiveClient(proxy, { name: `agent-${c}` }));
    // Past the cold start (the limits are known, requests go together), so the wait is the cache's.
    await clients[0]!.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'warm up' }] });
    const started = performance.now();
    const answers = await Promise.all(clients.flatMap((client, c) => [0, 1].map((i) => client.messages.create(withPrefix(`question ${c}.${i}`)))));
    const ms = performance.now() - started;
    const sim = fx.sim.counters();
    expect(sim.succeeded).toBe(9);
    expect(sim.cacheWrites).toBe(1);
    expect(sim.cacheReads).toBe(7);
    expect(answers.filter((m) => (m.usage.cache_read_input_tokens ?? 0) > 0)).toHaveLength(7);
    // The writer's answer (200 ms), then the readers together: not one after another.
    expect(ms).toBeLessThan(1000);
  });
});
