/** The rate-limit headers as the API sends them: rounded token counts, second-precision resets. */
import { afterEach, describe, expect, it } from 'vitest';
import { countTokens, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, sdk } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const SECOND_PRECISION = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('rate-limit headers', () => {
  it('rounds token remaining to the nearest thousand and gives resets to the second, rounded up', async () => {
    // Ten-second buckets of 100 requests, 10,000 input and 100,000 output tokens, refilled slowly
    // enough (a request every 100 ms) that a loaded machine does not change what the headers say.
    sim = await startSimulator({ rpm: 600, itpm: 60_000, otpm: 600_000, burstSeconds: 10 });
    const prompt = params('y'.repeat(10_400));
    const before = Date.now();
    const { response } = await sdk(sim).messages.create(prompt).withResponse();
    const h = (name: string) => response.headers.get(`anthropic-ratelimit-${name}`);
    expect(countTokens(prompt)).toBe(2604);
    expect(h('requests-remaining')).toBe('99');
    expect(h('input-tokens-remaining')).toBe('7000'); // 7,396 and a little refill
    expect(Number(h('output-tokens-remaining')) % 1000).toBe(0);
    for (const name of ['requests-reset', 'input-tokens-reset', 'output-tokens-reset', 'tokens-reset']) {
      expect(h(name)).toMatch(SECOND_PRECISION);
      expect(Date.parse(h(name)!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    }
    // The input bucket refills in about 2.6 s; its reset is that moment rounded up to the second.
    expect(Date.parse(h('input-tokens-reset')!)).toBeLessThanOrEqual(Date.now() + 3700);
    expect(Date.parse(h('input-tokens-reset')!)).toBeGreaterThanOrEqual(before + 2000);
  });

  it('shows the most restrictive token limit in anthropic-ratelimit-tokens-*', async () => {
    sim = await startSimulator({ itpm: 600_000, otpm: 6_000_000 });
    const client = sdk(sim);
    const { response } = await client.messages.create(params('y'.repeat(10_400))).withResponse();
    expect(response.headers.get('anthropic-ratelimit-tokens-limit')).toBe('600000');
    expect(response.headers.get('anthropic-ratelimit-tokens-remaining')).toBe(response.headers.get('anthropic-ratelimit-input-tokens-remaining'));
    sim.setOptions({ itpm: 60_000_000, otpm: 6_000 }); // output: 100 tokens, refilled at 0.1 a millisecond; input: 1,000,000
    const { response: tight } = await client.messages.create(params('short', 100)).withResponse();
    expect(tight.headers.get('anthropic-ratelimit-tokens-limit')).toBe('6000');
    expect(tight.headers.get('anthropic-ratelimit-tokens-reset')).toBe(tight.headers.get('anthropic-ratelimit-output-tokens-reset'));
  });

  it('gives exact remaining and millisecond resets with exactHeaders', async () => {
    sim = await startSimulator({ itpm: 600, exactHeaders: true }); // 10 input tokens, 10 a second
    const prompt = params('abcd');
    const { response } = await sdk(sim).messages.create(prompt).withResponse();
    expect(response.headers.get('anthropic-ratelimit-input-tokens-remaining')).toBe(String(10 - countTokens(prompt)));
    expect(response.headers.get('anthropic-ratelimit-input-tokens-reset')).toMatch(/\.\d{3}Z$/);
  });

  it('reports nothing for limits that are not set', async () => {
    sim = await startSimulator({ rpm: 60 });
    const { response } = await sdk(sim).messages.create(params('x')).withResponse();
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('60');
    expect(response.headers.get('anthropic-ratelimit-input-tokens-limit')).toBeNull();
    expect(response.headers.get('anthropic-ratelimit-tokens-limit')).toBeNull();
  });
});
