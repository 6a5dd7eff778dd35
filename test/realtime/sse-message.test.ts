import { APIError } from '@anthropic-ai/sdk';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { describe, expect, it } from 'vitest';
import { errorEvent, MessageAccumulator, SseSplitter } from '../../src/realtime/sse-message.js';

// The SDK's own MessageStream is the oracle: the same events must give the same result line.
const start = (extra = {}) => ({
  type: 'message_start',
  message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 }, ...extra },
});
const delta = (index: number, d: object) => ({ type: 'content_block_delta', index, delta: d });
const EVENTS = [
  start(),
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
  delta(0, { type: 'thinking_delta', thinking: 'Hmm, ' }),
  delta(0, { type: 'thinking_delta', thinking: 'naïve → ok' }),
  delta(0, { type: 'signature_delta', signature: 'sig' }),
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  delta(1, { type: 'text_delta', text: 'Héllo 👋 ' }),
  delta(1, { type: 'citations_delta', citation: { type: 'char_location', cited_text: 'x' } }),
  delta(1, { type: 'text_delta', text: 'world' }),
  { type: 'content_block_stop', index: 1 },
  { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'tu_1', name: 'lookup', input: {} } },
  delta(2, { type: 'input_json_delta', partial_json: '{"order": "A-1' }),
  delta(2, { type: 'input_json_delta', partial_json: '7", "n": [1, 2' }),
  // cut short by max_tokens: the SDK keeps what parses so far
  { type: 'content_block_stop', index: 2 },
  { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'tu_2', name: 'none', input: {} } },
  { type: 'content_block_stop', index: 3 },
  { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null, container: { id: 'c1' } }, usage: { output_tokens: 40, cache_read_input_tokens: 3 } },
  { type: 'message_stop' },
];

async function viaSdk(events: object[]): Promise<unknown> {
  const body = new Blob(events.map((e) => `${JSON.stringify(e)}\n`)).stream();
  return MessageStream.fromReadableStream(body).finalMessage();
}

/** The events as an SSE body with `\r\n` line ends, a comment and a ping, cut every `step` bytes. */
function sseChunks(events: object[], step: number): Uint8Array[] {
  const text = `: hello\r\n\r\nevent: ping\r\ndata: {"type":"ping"}\r\n\r\n${events.map((e) => `event: ${(e as { type: string }).type}\r\ndata: ${JSON.stringify(e)}\r\n\r\n`).join('')}`;
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.slice(i, i + step));
  return chunks;
}

function viaAccumulator(chunks: Uint8Array[]): { message: unknown; chars: number } {
  const splitter = new SseSplitter();
  const answer = new MessageAccumulator();
  for (const c of chunks) splitter.feed(c, (_event, data) => answer.add(JSON.parse(data)));
  return { message: answer.result(), chars: answer.outputChars };
}

describe('a streamed answer read off its SSE body', () => {
  it('gives the very result line the SDK MessageStream gives, however the bytes are cut', async () => {
    const expected = JSON.stringify(await viaSdk(EVENTS));
    for (const step of [1, 2, 7, 64, 100_000]) {
      expect(JSON.stringify(viaAccumulator(sseChunks(EVENTS, step)).message)).toBe(expected);
    }
  });

  it('counts the characters of thinking, text and tool input as they arrive', () => {
    const { chars } = viaAccumulator(sseChunks(EVENTS, 5));
    expect(chars).toBe('Hmm, naïve → okHéllo 👋 world'.length + '{"order": "A-17", "n": [1, 2'.length);
  });

  it('fails as the SDK does when the stream ends before message_stop', async () => {
    const cut = EVENTS.slice(0, 8);
    await expect(viaSdk(cut)).rejects.toThrow('stream ended without producing a Message with role=assistant');
    expect(() => viaAccumulator(sseChunks(cut, 9))).toThrow('stream ended without producing a Message with role=assistant');
    expect(() => viaAccumulator([])).toThrow('request ended without sending any chunks');
  });

  it('hands an error event mid-stream to the caller, who throws it as an APIError of that type (as the SDK)', () => {
    const splitter = new SseSplitter();
    const seen: string[] = [];
    splitter.feed(new TextEncoder().encode('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'), (e, d) => seen.push(`${e} ${d}`));
    expect(seen).toEqual(['error {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}']);
    const err = errorEvent(seen[0]!.slice('error '.length));
    expect(err).toBeInstanceOf(APIError);
    expect(err.type).toBe('overloaded_error');
    expect(err.status).toBeUndefined();
  });
});
