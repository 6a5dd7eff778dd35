/** Injected faults: 500, 529, dropped connections, slow answers, hangs, stalled streams, the spend cap; seeded draws. */
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
  sim.setOptions({ rate500: 0, rate529: 0, dropRate: 0, slowRate: 0, slowMs: 0, hangRate: 0, stallRate: 0, rpm: undefined, spendLimitAfter: undefined });
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

  it('hangs a request: no headers, no bytes, until the client gives up; not charged', async () => {
    sim.setOptions({ hangRate: 1, rpm: 60 });
    const err = await rejection(client.messages.create(params('x'), { timeout: 300 }));
    expect(err).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    const raw = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify(params('y')),
      signal: AbortSignal.timeout(200),
    }).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    expect(raw).toBe('TimeoutError');
    expect(sim.counters()).toMatchObject({ requests: 2, hung: 2, succeeded: 0, clientAborts: 0 });
    sim.setOptions({ hangRate: 0 });
    await expect(client.messages.create(params('served'))).resolves.toMatchObject({ type: 'message' });
  });

  it('stalls a stream: it starts, sends part of the answer, then nothing, never ending', async () => {
    sim.setOptions({ stallRate: 1, replyTokens: 200 });
    try {
      const stream = client.messages.stream(params('stall me', 500));
      const pieces: string[] = [];
      stream.on('text', (delta) => pieces.push(delta));
      let ended = false;
      stream.done().then(
        () => (ended = true),
        () => (ended = true),
      );
      await new Promise<void>((resolve) => stream.once('text', () => resolve()));
      await new Promise((r) => setTimeout(r, 250));
      expect(ended).toBe(false);
      expect(pieces.join('').length).toBeGreaterThan(0);
      expect(pieces.join('').length).toBeLessThan(800);
      stream.abort();
      await new Promise((r) => setTimeout(r, 20));
      expect(sim.counters()).toMatchObject({ streamed: 1, stalled: 1, succeeded: 0, clientAborts: 0 });
    } finally {
      sim.setOptions({ replyTokens: undefined });
    }
  });

  it('does not stall an answer that is not streamed', async () => {
    sim.setOptions({ stallRate: 1 });
    await expect(client.messages.create(params('json'))).resolves.toMatchObject({ type: 'message' });
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
      const seeded = await startSimulator({ seed, rate500: 0.25, rate529: 0.25, hangRate: 0.2 });
      try {
        const c = sdk(seeded);
        let out = '';
        for (let i = 0; i < 24; i++) {
          out += await c.messages.create(params(`s${i}`), { timeout: 200 }).then(
            () => '.',
            (e: APIError) => (e instanceof Anthropic.APIConnectionTimeoutError ? 'h' : String(e.status).charAt(2)),
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
    expect(first).toMatch(/h/);
    expect(await outcomes(7)).toBe(first);
    expect(await outcomes(8)).not.toBe(first);
  });
});
