/**
 * Ten naive agents with ten keys of one organization, through a proxy told nothing: the proxy
 * learns from the first answers (`anthropic-organization-id`) that the keys share one limit and
 * paces them as one. Before, each key had a budget of its own: 42% of the requests it sent
 * upstream were 429s (63% streamed, where output tokens bind).
 */
import { describe, expect, it } from 'vitest';
import type Anthropic from '@anthropic-ai/sdk';
import { replyText } from '../../src/simulator/index.js';
import { ask, naiveClient, textOf, useProxyFixture } from './helpers.js';

const KEYS = Array.from({ length: 10 }, (_, k) => `agent-key-${k}`);
const fx = useProxyFixture({ organizations: [{ id: 'org-agents', keys: KEYS }], burstSeconds: 1 }, {});

describe('keys of one organization through the proxy', () => {
  it('10 agents x 20 requests at once, ten keys, proxy told nothing: all succeed with their own answers, <=2% 429s upstream, at the limit', async () => {
    const rpm = 2400;
    fx.sim.setOptions({ rpm, latencyMs: 150, jitterMs: 50 });
    const proxy = await fx.proxy();
    const clients = KEYS.map((apiKey) => naiveClient(proxy, { apiKey }));
    const prompt = (c: number, i: number) => `Agent ${c} asks question ${i}: where is my order?`;
    const started = performance.now();
    const results = await Promise.allSettled(clients.flatMap((client, c) => Array.from({ length: 20 }, (_, i) => client.messages.create(ask(prompt(c, i))))));
    const ms = performance.now() - started;

    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    results.forEach((r, k) => expect(textOf((r as PromiseFulfilledResult<Anthropic.Message>).value)).toBe(replyText(ask(prompt(Math.floor(k / 20), k % 20)))));
    const sim = fx.sim.counters();
    expect(sim.succeeded).toBe(200);
    expect(sim.rateLimited / sim.requests).toBeLessThanOrEqual(0.02);
    // All ten keys end in one lane: the organization's, with its limit and every key named.
    const status = await proxy.status();
    expect(status.classes).toHaveLength(1);
    expect(status.classes[0]).toMatchObject({ organization: 'org-agents', limits: { rpm } });
    expect(status.classes[0]!.keys).toHaveLength(10);
    expect(JSON.stringify(status)).not.toContain('agent-key-');
    // After the opening burst (one second's worth), no faster than the limit; and not far under it.
    const ideal = ((200 - rpm / 60) / rpm) * 60_000;
    expect(ms).toBeGreaterThanOrEqual(ideal * 0.95);
    expect(ms).toBeLessThanOrEqual(ideal / 0.8 + 1000);
  });

  it('streamed answers where output tokens bind, ten keys: <=5% 429s upstream, the output held to OTPM', async () => {
    const otpm = 60_000;
    fx.sim.setOptions({ rpm: 60_000, otpm, latencyMs: 50, jitterMs: 20, replyTokens: 100, outputTokensPerSecond: 1000 });
    const proxy = await fx.proxy();
    const clients = KEYS.map((apiKey) => naiveClient(proxy, { apiKey }));
    const started = performance.now();
    const messages = await Promise.all(clients.flatMap((client, c) => Array.from({ length: 5 }, (_, i) => client.messages.stream(ask(`Agent ${c} story ${i}`, 1024)).finalMessage())));
    const ms = performance.now() - started;
    const produced = messages.reduce((n, m) => n + m.usage.output_tokens, 0);
    expect(produced).toBe(50 * 100);
    const sim = fx.sim.counters();
    expect(sim.rateLimited / sim.requests).toBeLessThanOrEqual(0.05);
    // The bucket starts with a second's worth (1,000 tokens): the rest at 1,000 a second.
    expect(ms).toBeGreaterThanOrEqual(((produced - otpm / 60) / otpm) * 60_000 * 0.9);
  });
});
