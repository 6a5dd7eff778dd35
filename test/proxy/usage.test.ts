import { describe, expect, it } from 'vitest';
import { jsonUsageReader, sseUsageReader } from '../../src/proxy/usage.js';

const event = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

const stream = [
  event('message_start', {
    type: 'message_start',
    message: { id: 'msg_1', usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 7, output_tokens: 1 } },
  }),
  event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  event('ping', { type: 'ping' }),
  event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hé, "usage":{"output_tokens":999}' } }),
  event('content_block_stop', { type: 'content_block_stop', index: 0 }),
  event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } }),
  event('message_stop', { type: 'message_stop' }),
].join('');

describe('reading usage from a streamed answer', () => {
  it('takes input and cache from message_start and output from message_delta, across any chunking', () => {
    const bytes = Buffer.from(stream, 'utf8');
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const reader = sseUsageReader();
      for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
      expect(reader.usage()).toEqual({ input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 7, output_tokens: 15 });
      expect(reader.streamError()).toBeUndefined();
    }
  });

  it('reads CRLF line ends, and events named only by their data', () => {
    const reader = sseUsageReader();
    reader.push(Buffer.from(`data: {"type":"message_start","message":{"usage":{"input_tokens":3}}}\r\n\r\ndata: {"type":"message_delta","usage":{"output_tokens":4}}\r\n\r\n`));
    expect(reader.usage()).toEqual({ input_tokens: 3, output_tokens: 4 });
  });

  it('knows a stream cut off after message_start by its input alone, and an error event by its type', () => {
    const reader = sseUsageReader();
    reader.push(Buffer.from(stream.slice(0, stream.indexOf('event: message_delta'))));
    reader.push(Buffer.from(event('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })));
    expect(reader.usage()).toEqual({ input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 7, output_tokens: 1 });
    expect(reader.streamError()).toBe('overloaded_error');
  });
});

describe('reading usage from a plain answer', () => {
  it('parses the usage of the whole body', () => {
    const reader = jsonUsageReader();
    const body = JSON.stringify({ id: 'msg_1', content: [], usage: { input_tokens: 10, output_tokens: 20 } });
    reader.push(Buffer.from(body.slice(0, 10)));
    reader.push(Buffer.from(body.slice(10)));
    expect(reader.usage()).toEqual({ input_tokens: 10, output_tokens: 20 });
  });

  it('says nothing about a body that is not JSON', () => {
    const reader = jsonUsageReader();
    reader.push(Buffer.from('<html>'));
    expect(reader.usage()).toBeUndefined();
  });
});
