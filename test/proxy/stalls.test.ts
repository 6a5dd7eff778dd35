/**
 * An upstream that accepts a request and then goes silent: with no answer head the client gets a
 * 504 it can retry; a stream that stops mid-answer is cut off. Either way the upstream request is
 * aborted and the client does not hang.
 */
import { describe, expect, it } from 'vitest';
import { ask, naiveClient, simLive, until, useProxyFixture } from './helpers.js';

const fx = useProxyFixture({}, { hangRate: 0, stallRate: 0, replyTokens: undefined, outputTokensPerSecond: undefined });

describe('a silent upstream', () => {
  it('that never answers: the client gets a 504 after the first-byte timeout, and the upstream request is aborted', async () => {
    fx.sim.setOptions({ hangRate: 1 });
    const proxy = await fx.proxy({ firstByteTimeoutMs: 300 });
    const started = performance.now();
    // A plain answer of max_tokens 10 is allowed 300 ms + 10 x 50 ms for its head.
    await expect(naiveClient(proxy).messages.create(ask('hello', 10))).rejects.toMatchObject({ status: 504 });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(fx.sim.counters().hung).toBe(1);
    await until(async () => (await simLive(fx.sim)).inFlight === 0, 2000);
    expect(fx.logs.join('\n')).toMatch(/sent no answer .* within 1s; its client gets a 504/);
  });

  it('that stalls mid-stream: the client sees its stream cut off, and the upstream request is aborted', async () => {
    fx.sim.setOptions({ stallRate: 1, replyTokens: 100, outputTokensPerSecond: 200 });
    const proxy = await fx.proxy({ idleTimeoutMs: 500 });
    const stream = naiveClient(proxy).messages.stream(ask('a story', 1024));
    let text = '';
    stream.on('text', (t) => (text += t));
    await expect(stream.finalMessage()).rejects.toThrow();
    expect(text.length).toBeGreaterThan(0);
    expect(fx.sim.counters().stalled).toBe(1);
    await until(async () => (await simLive(fx.sim)).inFlight === 0, 2000);
    expect((await proxy.status()).totals.upstreamCut).toBe(1);
    expect(fx.logs.join('\n')).toMatch(/went silent for 1s in a claude-haiku-4-5 answer mid-way/);
  });
});
