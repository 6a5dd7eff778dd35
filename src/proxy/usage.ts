/**
 * What an answer says it used, read from the bytes as they pass through to the client: a plain
 * JSON answer's `usage`, or a streamed answer's `message_start` (input, cache) and `message_delta`
 * (output so far, cumulative) events. The bytes themselves are never changed or held back.
 */
import { StringDecoder } from 'node:string_decoder';

export interface Usage {
  input_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  output_tokens?: number;
}

export interface UsageReader {
  push(chunk: Buffer): void;
  /** What the answer reported, once it has ended (as far as it got, if it was cut off). */
  usage(): Usage | undefined;
  /** A streamed answer that ended with an `error` event: its error type (e.g. `overloaded_error`). */
  streamError(): string | undefined;
}

/** A JSON answer bigger than this is passed through without reading its usage. */
const JSON_KEEP_BYTES = 16 * 1024 * 1024;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

export function pickUsage(raw: unknown, into: Usage = {}): Usage {
  if (!raw || typeof raw !== 'object') return into;
  const u = raw as Record<string, unknown>;
  for (const k of ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens'] as const) {
    const v = num(u[k]);
    if (v !== undefined) into[k] = v;
  }
  return into;
}

/** Keeps a copy of a JSON answer (bounded) and reads `usage` from it at the end. */
export function jsonUsageReader(): UsageReader {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= JSON_KEEP_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    },
    usage() {
      if (size > JSON_KEEP_BYTES || chunks.length === 0) return undefined;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { usage?: unknown };
        return body.usage ? pickUsage(body.usage) : undefined;
      } catch {
        return undefined;
      }
    },
    streamError: () => undefined,
  };
}

/** Longest SSE line kept while waiting for its end. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** The events whose data says something about usage; every other event is skipped unparsed. */
const WANTED = new Set(['message_start', 'message_delta', 'error']);

/**
 * Reads server-sent events line by line across chunk boundaries. Only the data of the events in
 * WANTED is parsed: a long answer is thousands of `content_block_delta` events, each left alone.
 */
export function sseUsageReader(): UsageReader {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let event = '';
  let data: string[] = [];
  let seen: Usage | undefined;
  let error: string | undefined;

  const dispatch = () => {
    const text = data.join('\n');
    data = [];
    const name = event;
    event = '';
    if (text === '' || (name !== '' && !WANTED.has(name))) return;
    // An event without an `event:` line is named by its data's `type`: check cheaply before parsing.
    if (name === '' && !/"type"\s*:\s*"(message_start|message_delta|error)"/.test(text)) return;
    let parsed: { type?: unknown; message?: { usage?: unknown }; usage?: unknown; error?: { type?: unknown } };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.type === 'message_start') seen = pickUsage(parsed.message?.usage, seen);
    else if (parsed.type === 'message_delta') seen = pickUsage(parsed.usage, seen);
    else if (parsed.type === 'error') error = typeof parsed.error?.type === 'string' ? parsed.error.type : 'error';
  };

  const line = (l: string) => {
    if (l === '') return dispatch();
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data' && (event === '' || WANTED.has(event))) data.push(value);
  };

  return {
    push(chunk) {
      const text = rest + decoder.write(chunk);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        line(text.slice(start, end));
        start = nl + 1;
      }
      rest = text.slice(start);
      // No line is this long in a real answer; don't let a broken one grow without bound.
      if (rest.length > MAX_LINE_CHARS) rest = '';
    },
    usage: () => seen,
    streamError: () => error,
  };
}
