/** Streaming (`stream: true`) through the real SDK: the API's event sequence, incremental text, disconnects. */
import { afterEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { params, rejection, sdk, sleep } from './sim-client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Parses a raw SSE body into [event name, data] pairs. */
function sseEvents(body: string): [string, any][] {
  return body
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const name = /^event: (.*)$/m.exec(chunk)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)![1]!);
      expect(data.type).toBe(name);
      return [name, data];
    });
}

async function rawStream(s: Simulator, body: unknown) {
  const res = await fetch(`${s.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
    body: JSON.stringify(body),
  });
  return { res, events: sseEvents(await res.text()) };
}

describe('streaming', () => {
  it('sends the events the API sends, in its order, with the headers at once', async () => {
    sim = await startSimulator({ rpm: 600, itpm: 600_000, replyTokens: 60 });
    const { res, events } = await rawStream(sim, { ...params('stream me', 500), stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('600');
    expect(res.headers.get('anthropic-ratelimit-input-tokens-remaining')).toBe('10000');
    const names = events.map(([name]) => name);
    const deltas = names.filter((n) => n === 'content_block_delta').length;
    expect(deltas).toBeGreaterThan(1);
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array(deltas).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const [, start] = events[0]!;
    expect(start.message).toMatchObject({ type: 'message', role: 'assistant', content: [], stop_reason: null, usage: { output_tokens: 1 } });
    expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    expect(events[1]![1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events[3]![1]).toMatchObject({ index: 0, delta: { type: 'text_delta' } });
    expect(events.at(-2)![1]).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 60 } });
    expect(sim.counters()).toMatchObject({ streamed: 1, succeeded: 1 });
  });

  it('gives the SDK a final message equal to the non-streaming one, its text arriving in pieces', async () => {
    sim = await startSimulator({ latencyMs: 200, replyTokens: 80 });
    const client = sdk(sim);
    const prompt = { ...params('the same prompt', 500), system: 'Be brief.' };
    const whole = await client.messages.create(prompt);
    const stream = client.messages.stream(prompt);
    const snapshots: string[] = [];
    stream.on('text', (_delta, snapshot) => snapshots.push(snapshot));
    const final = await stream.finalMessage();
    expect({ ...final, parsed_output: undefined }).toEqual({ ...whole, parsed_output: undefined });
    expect(snapshots.length).toBeGreaterThan(5);
    expect(snapshots[0]!.length).toBeLessThan(snapshots.at(-1)!.length);
    expect(snapshots.at(-1)).toBe((whole.content[0] as { text: string }).text);
    expect(sim.counters()).toMatchObject({ streamed: 1, succeeded: 2 });
  });

  it('serves create({ stream: true }) as an iterable of the same events', async () => {
    sim = await startSimulator();
    const events = await sdk(sim).messages.create({ ...params('iterate'), stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of events) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(text).toMatch(/^Simulated reply [0-9a-f]{8} to: iterate$/);
  });

  it('answers an error before the stream starts as a normal JSON error', async () => {
    sim = await startSimulator({ rpm: 60 });
    const client = sdk(sim);
    await client.messages.stream(params('first')).finalMessage();
    const err = await rejection(client.messages.stream(params('second')).finalMessage());
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.headers?.get('retry-after')).toBe('1');
    expect(err.headers?.get('content-type')).toBe('application/json');
  });

  it('streams a max_tokens 0 pre-warm with no content block', async () => {
    sim = await startSimulator();
    const { events } = await rawStream(sim, { ...params('warm', 0), stream: true });
    expect(events.map(([name]) => name)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    expect(events[2]![1]).toMatchObject({ delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 0 } });
  });

  it('stops producing when the client disconnects mid-stream: counted, not served, the rest not charged', async () => {
    // 1,000 tokens of bucket refilled at 1 a ms; the answer would produce 4,000 at 2 a ms.
    sim = await startSimulator({ otpm: 60_000, exactHeaders: true, replyTokens: 4000, outputTokensPerSecond: 2000 });
    const client = sdk(sim);
    const stream = client.messages.stream(params('walk away', 5000));
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    stream.abort();
    await expect(stream.done()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    await sleep(30);
    const level = async () => {
      const { response } = await client.messages.create(params('probe', 1)).withResponse();
      return Number(response.headers.get('anthropic-ratelimit-output-tokens-remaining'));
    };
    const soon = await level();
    await sleep(300);
    expect(await level()).toBeGreaterThan(soon); // refilling: nothing more is produced
    expect(sim.counters()).toMatchObject({ streamed: 1, clientAborts: 1, succeeded: 2 });
  });
});
