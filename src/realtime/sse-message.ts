/**
 * A streamed answer read straight off its `text/event-stream` body and gathered into the Message
 * the SDK's `messages.stream(...).finalMessage()` returns — the same object, field for field, but
 * without the MessageStream's work per event (an event emitter, a snapshot copied at every delta,
 * a promise per step, three layers of async generators): that was a quarter of claw-batch's CPU
 * per request (bench/README.md). The framing follows the SDK's SSE decoder (`\n`, `\r\n` or `\r`
 * line ends; `event:` and `data:` fields; `:` comments; `ping` skipped; an `error` event thrown
 * as the SDK's APIError), and the failures are the SDK's too, so retries decide as before.
 */
import { AnthropicError, APIError } from '@anthropic-ai/sdk/core/error';
import { partialParse } from '@anthropic-ai/sdk/_vendor/partial-json-parser/parser';
import type Anthropic from '@anthropic-ai/sdk';

type Block = Record<string, unknown> & { type: string };
type Usage = Record<string, unknown>;
/** A Message being gathered: its blocks and usage are written to as the events arrive. */
type Draft = Record<string, unknown> & { content: Block[]; usage: Usage };
type StreamEvent = {
  type: string;
  index?: number;
  message?: Draft;
  content_block?: Block;
  delta?: Record<string, unknown> & { type?: string };
  usage?: Usage;
};

/** Splits a body into events, calling `onEvent(name, data)` for each complete one (`error` included: the caller throws it). */
export class SseSplitter {
  private readonly decoder = new TextDecoder();
  private rest = '';
  /** A chunk ended in `\r`: a line end, unless the next chunk starts with the `\n` of a `\r\n`. */
  private crPending = false;

  feed(chunk: Uint8Array, onEvent: (event: string, data: string) => void): void {
    let text = this.decoder.decode(chunk, { stream: true });
    if (this.crPending) {
      this.crPending = false;
      text = `\n${text.startsWith('\n') ? text.slice(1) : text}`;
    }
    if (text.includes('\r')) {
      if (text.endsWith('\r')) {
        this.crPending = true;
        text = text.slice(0, -1);
      }
      text = text.replace(/\r\n?/g, '\n');
    }
    const buf = this.rest + text;
    // The end of the last event may straddle the chunks: look from just before the new text.
    let from = Math.max(0, this.rest.length - 1);
    let start = 0;
    for (let end = buf.indexOf('\n\n', from); end >= 0; end = buf.indexOf('\n\n', from)) {
      dispatch(buf.slice(start, end), onEvent);
      start = from = end + 2;
    }
    this.rest = start === 0 ? buf : buf.slice(start);
  }
}

function dispatch(block: string, onEvent: (event: string, data: string) => void): void {
  let event: string | undefined;
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line === '' || line.charCodeAt(0) === 58 /* ':' comment */) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
  }
  // As the SDK: an event without a name, or a named one without data (but `error`), is no event.
  if (event === undefined || event === 'ping' || (!data && event !== 'error')) return;
  onEvent(event, data ?? '');
}

/** An `error` event mid-stream (e.g. `overloaded_error`), as the SDK throws it. */
export function errorEvent(data: string, headers?: Headers): APIError {
  let body: unknown = data;
  try {
    body = JSON.parse(data) ?? data;
  } catch {
    // not JSON: the text itself
  }
  const type = (body as { error?: { type?: string } } | undefined)?.error?.type;
  return new APIError(undefined, body as object, undefined, headers, type as never);
}

/**
 * The events of one answer gathered into its Message, as the SDK's MessageStream gathers them
 * (the same fields in the same order, so a result line is the same bytes).
 */
export class MessageAccumulator {
  private message: Draft | undefined;
  private final: Anthropic.Message | undefined;
  /** Tool input JSON as it arrives, by block index (parsed once, at the end). */
  private toolJson: Map<number, string> | undefined;
  /** Characters of text, tool input and thinking so far (output is charged from it as it streams). */
  outputChars = 0;

  /** The message_start's usage (input and cache fields), once it has come. */
  get startUsage(): Anthropic.Usage | undefined {
    return (this.message as { usage?: Anthropic.Usage } | undefined)?.usage;
  }

  add(event: StreamEvent): void {
    if (this.final) return;
    if (event.type === 'message_start') {
      if (this.message) throw new AnthropicError(`Unexpected event order, got ${event.type} before receiving "message_stop"`);
      this.message = event.message;
      return;
    }
    const m = this.message;
    if (!m) return;
    switch (event.type) {
      case 'content_block_start':
        m.content.push({ ...(event.content_block as Block) });
        return;
      case 'content_block_delta':
        return this.addDelta(m.content.at(event.index ?? 0), event);
      case 'message_delta':
        return addMessageDelta(m, event);
      case 'message_stop':
        this.finish(m);
        return;
    }
  }

  private addDelta(block: Block | undefined, event: StreamEvent): void {
    const d = event.delta as Record<string, string> & { type: string };
    if (!block) return;
    switch (d.type) {
      case 'text_delta':
        this.outputChars += d.text.length;
        if (block.type === 'text') block.text = ((block.text as string) || '') + d.text;
        return;
      case 'citations_delta':
        if (block.type === 'text') block.citations = [...((block.citations as unknown[]) ?? []), d.citation];
        return;
      case 'input_json_delta':
        this.outputChars += d.partial_json.length;
        if (block.type === 'tool_use' || block.type === 'server_tool_use') {
          this.toolJson ??= new Map();
          const index = event.index ?? 0;
          this.toolJson.set(index, (this.toolJson.get(index) ?? '') + d.partial_json);
        }
        return;
      case 'thinking_delta':
        this.outputChars += d.thinking.length;
        if (block.type === 'thinking') block.thinking = (block.thinking as string) + d.thinking;
        return;
      case 'signature_delta':
        if (block.type === 'thinking') block.signature = d.signature;
        return;
    }
  }

  private finish(m: Draft): void {
    if (this.toolJson) {
      for (const [index, json] of this.toolJson) {
        const block = m.content.at(index);
        if (!block) continue;
        // The SDK re-adds `input` after the block's other fields once input JSON has arrived.
        delete block.input;
        block.input = json ? partialParse(json) : {};
      }
    }
    // What the SDK's finalMessage adds (no `output_format` with a parser can come from a file).
    this.final = Object.assign(m, { parsed_output: null }) as unknown as Anthropic.Message;
  }

  /** The whole Message, once `message_stop` has arrived; else the SDK's error for a stream cut short. */
  result(): Anthropic.Message {
    if (this.final) return this.final;
    if (!this.message) throw new AnthropicError('request ended without sending any chunks');
    throw new AnthropicError('stream ended without producing a Message with role=assistant');
  }
}

function addMessageDelta(m: Draft, event: StreamEvent): void {
  const delta = event.delta as Record<string, unknown>;
  const usage = (event.usage ?? {}) as Usage;
  const target = m;
  const total = m.usage;
  target.stop_reason = delta.stop_reason;
  target.stop_sequence = delta.stop_sequence;
  target.stop_details = delta.stop_details;
  total.output_tokens = usage.output_tokens;
  if (delta.container != null) target.container = delta.container;
  // The other counters are whole-message totals, sent only when they apply: overwrite, never add.
  for (const k of ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'server_tool_use', 'output_tokens_details']) {
    if (usage[k] != null) total[k] = usage[k];
  }
}
