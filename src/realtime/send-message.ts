/**
 * One Messages call, streamed. Streaming is what makes a stuck connection visible: the API starts
 * an answer within seconds (`message_start`) and then sends events as it writes, however long the
 * answer is, so "nothing for a minute" means stuck — while a non-streamed 32,000-token answer can
 * legitimately take many minutes with no byte at all (the SDK's own timeout is 10 minutes). The
 * events are gathered into the same Message a non-streamed call returns.
 *
 * A call that gets no first event within `firstByteMs`, or no further event within `idleMs`, is
 * aborted and fails with StalledError (retried like a dropped connection). `abort` (Ctrl-C after
 * its grace period) aborts it too; it then fails with the SDK's APIUserAbortError.
 */
import { AnthropicError, APIUserAbortError } from '@anthropic-ai/sdk/core/error';
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParams } from '../types.js';
import { MessageAccumulator, SseSplitter, errorEvent } from './sse-message.js';

export interface SendOptions {
  /**
   * Told how to abort the call (the run gives it up: the item stays pending). A call that goes
   * silent is aborted the same way.
   */
  onAbort: (abort: () => void) => void;
  /** ms from sending until the first event. */
  firstByteMs: number;
  /** ms allowed between two events of an answer. */
  idleMs: number;
  /** `json`: a plain non-streamed call (for APIs or gateways that cannot stream). Default `stream`. */
  transport?: 'stream' | 'json';
  /**
   * Told when the answer starts (for a stream: its headers, which carry the rate-limit readings,
   * arrive before the first token; for `json`: with the whole answer).
   */
  onFirstByte?: (headers: Headers | undefined) => void;
  /**
   * A stream's output as it arrives: the characters of text, tool input and thinking so far. The
   * API counts output tokens as they are produced; this lets the budget count them as they come.
   */
  onOutput?: (charsSoFar: number) => void;
  /**
   * A stream's output has started: the API has read the prompt, and a cache prefix the answer
   * writes is readable by others from now. `usage` is the message_start's (input and cache fields).
   */
  onOutputStart?: (usage: Anthropic.Usage) => void;
}

export interface SentMessage {
  message: Anthropic.Message;
  headers: Headers | undefined;
}

/** No first event, or no further event, within the time allowed. */
export class StalledError extends Error {
  readonly stage: 'first-byte' | 'idle';
  readonly afterMs: number;
  constructor(stage: 'first-byte' | 'idle', afterMs: number) {
    super(
      stage === 'first-byte'
        ? `no answer from the API within ${Math.round(afterMs / 1000)} s (the connection was open but nothing arrived)`
        : `the answer stopped arriving for ${Math.round(afterMs / 1000)} s mid-stream`,
    );
    this.name = 'StalledError';
    this.stage = stage;
    this.afterMs = afterMs;
  }
}

/** For a non-streamed call, time allowed per max_tokens on top of the first-byte timeout. */
const JSON_MS_PER_TOKEN = 50;

export async function sendMessage(client: Anthropic, params: MessageParams, options: SendOptions): Promise<SentMessage> {
  let abort: () => void = () => {};
  // One timer for the whole call: an event only notes the time, and the timer, when it fires early,
  // sets itself again for what is left (re-arming on every event would cost two timer calls each).
  let stalled: StalledError | undefined;
  let stage: StalledError['stage'] = 'first-byte';
  let allowedMs = options.transport === 'json' ? options.firstByteMs + params.max_tokens * JSON_MS_PER_TOKEN : options.firstByteMs;
  let lastHeardAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const quietMs = Date.now() - lastHeardAt;
    if (quietMs < allowedMs) {
      timer = setTimeout(check, allowedMs - quietMs);
      return;
    }
    stalled = new StalledError(stage, allowedMs);
    abort();
  };
  // A plain call's first byte is its whole answer: allow for the longest it may write (~20 tokens/s).
  timer = setTimeout(check, allowedMs);
  let first = true;
  const progressed = (headers: Headers | undefined) => {
    lastHeardAt = Date.now();
    if (first) {
      first = false;
      stage = 'idle';
      allowedMs = options.idleMs;
      // The timer was set for the first-byte wait, which may be far longer than the idle one.
      clearTimeout(timer);
      timer = setTimeout(check, allowedMs);
      options.onFirstByte?.(headers);
    }
  };
  try {
    if (options.transport === 'json') {
      const controller = new AbortController();
      abort = () => controller.abort();
      options.onAbort(abort);
      const answer = await client.messages.create(params, { signal: controller.signal }).withResponse();
      progressed(answer.response.headers);
      return { message: answer.data, headers: answer.response.headers };
    }
    // The raw SSE body, read here (sse-message.ts): the SDK's MessageStream cost a quarter of the
    // CPU of a request. Headers (with the rate-limit readings) come before the first token.
    const controller = new AbortController();
    abort = () => controller.abort();
    options.onAbort(abort);
    const response = await client.messages.create({ ...params, stream: true }, { signal: controller.signal }).asResponse();
    progressed(response.headers);
    return { message: await readAnswer(response, controller.signal, options, () => (lastHeardAt = Date.now())), headers: response.headers };
  } catch (err) {
    if (stalled) throw stalled;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a streamed answer's body into its Message. `heard` is called for every chunk (the stall
 * timer's clock), `onOutput` once per chunk that brought output (`onOutputStart` before the first). Failures are what the SDK's
 * MessageStream would have thrown: an abort is APIUserAbortError, anything not the SDK's own is
 * wrapped in an AnthropicError with the original as its cause.
 */
async function readAnswer(
  response: Response,
  signal: AbortSignal,
  { onOutput, onOutputStart }: Pick<SendOptions, 'onOutput' | 'onOutputStart'>,
  heard: () => void,
): Promise<Anthropic.Message> {
  if (!response.body) throw new AnthropicError('Attempted to iterate over a response with no body');
  const reader = response.body.getReader();
  const splitter = new SseSplitter();
  const answer = new MessageAccumulator();
  const onEvent = (event: string, data: string) => {
    if (event === 'error') throw errorEvent(data, response.headers);
    answer.add(JSON.parse(data));
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      heard();
      const before = answer.outputChars;
      splitter.feed(value, onEvent);
      if (answer.outputChars === before) continue;
      if (before === 0 && onOutputStart) {
        const usage = answer.startUsage;
        if (usage) onOutputStart({ ...usage });
      }
      onOutput?.(answer.outputChars);
    }
  } catch (err) {
    void reader.cancel().catch(() => undefined);
    if (signal.aborted) throw new APIUserAbortError();
    if (err instanceof AnthropicError) throw err;
    const wrapped = new AnthropicError(err instanceof Error ? err.message : String(err));
    (wrapped as { cause?: unknown }).cause = err;
    throw wrapped;
  }
  if (signal.aborted) throw new APIUserAbortError();
  return answer.result();
}
