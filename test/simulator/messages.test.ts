/** POST /v1/messages and count_tokens: deterministic replies, validation, counters. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens, promptKey, replyText, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { MODEL, params, rawPost, rejection, sdk } from './sim-client.js';

let sim: Simulator;
let client: Anthropic;
beforeAll(async () => {
  sim = await startSimulator();
  client = sdk(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.resetCounters());

describe('replies', () => {
  it('answers each prompt with its own deterministic message', async () => {
    const a = await client.messages.create(params('Summarize ticket 17: printer on fire'));
    const again = await client.messages.create(params('Summarize ticket 17: printer on fire'));
    const b = await client.messages.create(params('Summarize ticket 18: coffee machine empty'));
    expect(a).toEqual(again);
    expect(a.content).toEqual([{ type: 'text', text: replyText(params('Summarize ticket 17: printer on fire')) }]);
    expect(a.content[0]).toMatchObject({ text: expect.stringContaining('Summarize ticket 17: printer on fire') });
    expect(b.content[0]).not.toEqual(a.content[0]);
    expect(a).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: countTokens(params('Summarize ticket 17: printer on fire')), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(a.usage.output_tokens).toBeGreaterThanOrEqual(1);
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const reply = await client.messages.create(params('a prompt whose reply is longer than two tokens', 2));
    expect(reply.usage.output_tokens).toBe(2);
    expect(reply.stop_reason).toBe('max_tokens');
    expect(reply.content).toEqual([{ type: 'text', text: 'Simulate' }]);
  });

  it('counts tokens of the system prompt and every message, string or text blocks alike', async () => {
    const asString = { ...params('hello there, simulator'), system: 'You are terse.' };
    const asBlocks = {
      ...asString,
      system: [{ type: 'text' as const, text: 'You are terse.' }],
      messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hello there, simulator' }] }],
    };
    expect(countTokens(asBlocks)).toBe(countTokens(asString));
    expect(countTokens(asString)).toBeGreaterThan(countTokens(params('hello there, simulator')));
    const counted = await client.messages.countTokens({ model: MODEL, system: 'You are terse.', messages: asString.messages });
    expect(counted.input_tokens).toBe(countTokens(asString));
  });

  it('keys successes by prompt and serves the counters over HTTP', async () => {
    await client.messages.create(params('one'));
    await client.messages.create(params('two'));
    await client.messages.create(params('two'));
    const res = await fetch(`${sim.url}/_sim/counters`);
    const counters = (await res.json()) as Record<string, any>;
    expect(counters).toMatchObject({ requests: 3, succeeded: 3, rateLimited: 0, peakInFlight: 1 });
    expect(counters.successesByPrompt).toEqual({ [promptKey(params('one'))]: 1, [promptKey(params('two'))]: 2 });
    expect(counters.inputTokens).toBe(countTokens(params('one')) + 2 * countTokens(params('two')));
    expect(counters.firstRequestAt).toBeLessThanOrEqual(counters.lastRequestAt);
  });

  it('can be steered over HTTP with POST /_sim/options', async () => {
    expect((await rawPost(sim, '/_sim/options', { rate500: 1 })).status).toBe(200);
    expect((await rejection(client.messages.create(params('steered')))).status).toBe(500);
    expect((await rawPost(sim, '/_sim/options', { rate500: null })).status).toBe(200);
    await expect(client.messages.create(params('steered'))).resolves.toMatchObject({ type: 'message' });
    const bad = await rawPost(sim, '/_sim/options', { rate500: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/rate500/);
  });

  it('tracks how many requests were in flight at once', async () => {
    sim.setOptions({ latencyMs: 100 });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => client.messages.create(params(`parallel ${i}`))));
    } finally {
      sim.setOptions({ latencyMs: 0 });
    }
    expect(sim.counters().peakInFlight).toBe(6);
  });
});

describe('validation', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing model', { max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, /model/],
    ['missing max_tokens', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }, /max_tokens/],
    ['max_tokens below 0', { model: MODEL, max_tokens: -1, messages: [{ role: 'user', content: 'x' }] }, /max_tokens/],
    ['no messages', { model: MODEL, max_tokens: 10 }, /messages/],
    ['empty messages', { model: MODEL, max_tokens: 10, messages: [] }, /messages/],
    ['first message from the assistant', { model: MODEL, max_tokens: 10, messages: [{ role: 'assistant', content: 'x' }] }, /user/],
    ['stream that is not a boolean', { ...params('x'), stream: 'yes' }, /stream/],
  ];
  it.each(cases)('answers 400 invalid_request_error for %s', async (_name, body, message) => {
    const err = await rejection(client.messages.create(body as never));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(message) } });
    expect(err.requestID).toMatch(/^req_/);
    expect((err.error as { request_id: string }).request_id).toBe(err.requestID);
  });

  it('answers 404 not_found_error for a model that does not exist', async () => {
    const err = await rejection(client.messages.create({ ...params('x'), model: 'gpt-4' }));
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error).toMatchObject({ error: { type: 'not_found_error', message: 'model: gpt-4' } });
    expect(sim.counters()).toMatchObject({ status404: 1, succeeded: 0 });
  });

  it('answers 404 for an unknown path', async () => {
    const res = await fetch(`${sim.url}/v1/complete`, { method: 'POST', headers: { 'x-api-key': 'k' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await fetch(`${sim.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'k' }, body: '{"model":' });
    expect(res.status).toBe(400);
    expect(sim.counters().status400).toBe(1);
  });
});
