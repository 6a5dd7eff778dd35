/** Injected faults: 500, 529, dropped connections, slow answers, the spend cap; seeded draws. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rejection, sdk } from './sim-client.js';

let sim: Simulator;
let client: Anthropic;
beforeAll(async () => {
  sim = await startSimulator();
  client = sdk(sim);
});
afterAll(() => sim.close());
afterEach(() => {
  sim.setOptions({ rate500: 0, rate529: 0, dropRate: 0, slowRate: 0, slowMs: 0, rpm: undefined, spendLimitAfter: undefined });
  sim.resetCounters();
});

describe('faults', () => {
  it('answers 500 api_error', async () => {
    sim.setOptions({ rate500: 1 });
    const err = await rejection(client.messages.create(params('x')));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.status).toBe(500);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(sim.counters()).toMatchObject({ requests: 1, status500: 1, succeeded: 0 });
  });

  it('answers 529 overloaded_error', async () => {
    sim.setOptions({ rate529: 1 });
    const err = await rejection(client.messages.create(params('x')));
    expect(err.status).toBe(529);
    expect(err.error).toMatchObject({ error: { type: 'overloaded_error' } });
    expect(sim.counters().status529).toBe(1);
  });

  it('drops the connection without an answer, which the SDK reports as APIConnectionError', async () => {
    sim.setOptions({ dropRate: 1 });
    const err = await rejection(client.messages.create(params('x')));
    expect(err).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(sim.counters()).toMatchObject({ requests: 1, dropped: 1, succeeded: 0 });
    // The next request on a fresh connection is served normally.
    sim.setOptions({ dropRate: 0 });
    await expect(client.messages.create(params('x'))).resolves.toMatchObject({ type: 'message' });
  });

  it('delays a slow answer by slowMs', async () => {
    sim.setOptions({ slowRate: 1, slowMs: 150 });
    const started = performance.now();
    await client.messages.create(params('x'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('does not charge the rate limit for a faulted request', async () => {
    sim.setOptions({ rpm: 60, rate500: 1 });
    for (let i = 0; i < 3; i++) expect((await rejection(client.messages.create(params(`f${i}`)))).status).toBe(500);
    sim.setOptions({ rate500: 0 });
    await expect(client.messages.create(params('now served'))).resolves.toMatchObject({ type: 'message' });
    expect(sim.counters()).toMatchObject({ status500: 3, rateLimited: 0, succeeded: 1 });
  });

  it('answers every request with the spend-cap 429 after spendLimitAfter successes, without retry-after', async () => {
    sim.setOptions({ spendLimitAfter: 2 });
    await client.messages.create(params('a'));
    await client.messages.create(params('b'));
    for (const prompt of ['c', 'd']) {
      const err = await rejection(client.messages.create(params(prompt)));
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect(err.error).toMatchObject({
        type: 'error',
        error: { type: 'rate_limit_error', details: { error_code: 'enforced_spend_limit_reached' } },
      });
      expect(err.headers?.get('retry-after')).toBeNull();
    }
    expect(sim.counters()).toMatchObject({ succeeded: 2, rateLimited: 2 });
  });

  it('draws the same faults for the same seed', async () => {
    async function outcomes(seed: number): Promise<string> {
      const seeded = await startSimulator({ seed, rate500: 0.3, rate529: 0.3 });
      try {
        const c = sdk(seeded);
        let out = '';
        for (let i = 0; i < 24; i++) {
          out += await c.messages.create(params(`s${i}`)).then(
            () => '.',
            (e: APIError) => String(e.status).charAt(2),
          );
        }
        return out;
      } finally {
        await seeded.close();
      }
    }
    const first = await outcomes(7);
    expect(first).toMatch(/\./);
    expect(first).toMatch(/[09]/);
    expect(await outcomes(7)).toBe(first);
    expect(await outcomes(8)).not.toBe(first);
  });
});
