/**
 * What one `messages.create` of a wrapped client goes through — the proxy's way for a request
 * (src/proxy/paced-message.ts), with the SDK as the upstream: it waits for its turn and its
 * class's budget in the lane, goes out through the caller's own client (`maxRetries: 0`: the
 * pacing owns every retry), and its usage settles the budget. A 429 pauses every caller on the
 * store for `retry-after` (the limit is the account's) and the call goes again, first in its
 * client's line, unseen by the caller, while that fits `maxWaitMs`. Any other failure is the SDK's
 * own error, thrown as it came; a stop (auth, spend limit, billing) also stops the wrapper.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { APIError } from '@anthropic-ai/sdk/core/error';
import { Stream } from '@anthropic-ai/sdk/streaming';
import { classifyFailure } from '../api-failure.js';
import { StoppedError } from '../errors.js';
import { cachePlan, type CachePlan } from '../limits/prompt-cache.js';
import { hasReadings, parseRateLimitHeaders } from '../limits/rate-limit-headers.js';
import { pickUsage as pick, type Accounts, type MessageLane, type Turn, type Usage } from '../proxy/index.js';
import { AbortedError, ClientClosedError, RateLimitWaitError } from './errors.js';

type CreateParams = Anthropic.Messages.MessageCreateParams;
type RequestOptions = NonNullable<Parameters<Anthropic['messages']['create']>[1]>;
type StreamEvent = Anthropic.Messages.RawMessageStreamEvent;

/** What a call answers: the SDK's own value and the HTTP response it came with. */
export interface WithResponse<T> {
  data: T;
  response: Response;
}

/** A call's answer: awaits to the SDK's value; `withResponse()` adds the HTTP response, as the SDK's APIPromise does. */
export interface PacedPromise<T> extends Promise<T> {
  withResponse(): Promise<WithResponse<T>>;
}

/** The answer to give for `whole`: its data, with `withResponse()` for both. */
export function pacedPromise<T>(whole: Promise<WithResponse<T>>): PacedPromise<T> {
  // Not awaited by a caller that only wants withResponse(): no unhandled rejection from this one.
  whole.catch(() => undefined);
  const promise = whole.then((r) => r.data) as PacedPromise<T>;
  promise.withResponse = () => whole;
  return promise;
}

export interface CallContext {
  client: Anthropic;
  accounts: Accounts;
  lane: MessageLane;
  name: string;
  maxWaitMs: number;
  /** Aborts when the wrapper's signal fires or it is closed. */
  stopped: AbortSignal;
  /** Why `stopped` fired, as the error a call then fails with. */
  stopError(): Error;
  /** A stop condition (auth, spend limit, billing): the wrapper sends nothing more. */
  onStop(error: StoppedError): void;
}

/** For a request without a usable max_tokens (the API will refuse it anyway): the estimate's prior. */
const DEFAULT_MAX_TOKENS = 4096;

/** Counted against input-token limits: uncached input and cache writes (reads are free). */
const countedInput = (u: Usage) => (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);

type Outcome = { kind: 'answer'; value: WithResponse<unknown> } | { kind: 'again'; refused: unknown };

export class PacedCall {
  private readonly arrivedAt = Date.now();
  private readonly plan: CachePlan;
  private readonly maxTokens: number;
  /** Aborts when the caller's signal or the wrapper's fires. */
  private readonly signal: AbortSignal;

  constructor(
    private readonly ctx: CallContext,
    private readonly params: CreateParams,
    private readonly options: RequestOptions | undefined,
  ) {
    this.plan = cachePlan(params as unknown as Parameters<typeof cachePlan>[0]);
    this.maxTokens = typeof params.max_tokens === 'number' && params.max_tokens > 0 ? params.max_tokens : DEFAULT_MAX_TOKENS;
    const own = options?.signal ?? undefined;
    this.signal = own ? AbortSignal.any([own, ctx.stopped]) : ctx.stopped;
  }

  async run(): Promise<WithResponse<unknown>> {
    let refused: unknown;
    for (;;) {
      const turn = await this.waitForTurn(refused !== undefined);
      if (!turn) {
        if (this.signal.aborted) throw this.abortError();
        throw new RateLimitWaitError(Date.now() - this.arrivedAt, refused);
      }
      const outcome = await this.send(turn);
      if (outcome.kind === 'answer') return outcome.value;
      refused = outcome.refused;
    }
  }

  private abortError(): Error {
    if (this.ctx.stopped.aborted) return this.ctx.stopError();
    return new AbortedError();
  }

  /** Waits for the call's turn until its signal fires or maxWaitMs runs out, whichever is first. */
  private async waitForTurn(again: boolean): Promise<Turn | undefined> {
    const left = this.ctx.maxWaitMs - (Date.now() - this.arrivedAt);
    if (left <= 0 || this.signal.aborted) return undefined;
    const hold = new AbortController();
    const stop = () => hold.abort();
    const timer = setTimeout(stop, left);
    this.signal.addEventListener('abort', stop, { once: true });
    try {
      return await this.ctx.lane.turn({ client: this.ctx.name, plan: this.plan, maxTokens: this.maxTokens, signal: hold.signal, again });
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', stop);
    }
  }

  /** One attempt. The turn is done when it returns — for a stream, when the stream ends. */
  private async send(turn: Turn): Promise<Outcome> {
    const { ctx } = this;
    const { lane } = ctx;
    let handedOver = false;
    try {
      const { data, response } = await ctx.client.messages
        .create(this.params, { ...this.options, maxRetries: 0, signal: this.signal })
        .withResponse();
      const limits = parseRateLimitHeaders(response.headers);
      lane.answer({ limitsReported: hasReadings(limits), ok: true, rateLimited: false });
      const observed = lane.budget.observe(limits);
      if (data instanceof Stream) {
        handedOver = true;
        return { kind: 'answer', value: { data: this.paced(data as Stream<StreamEvent>, turn, observed), response } };
      }
      await observed;
      await this.settle(turn, pick((data as Anthropic.Messages.Message).usage), true);
      return { kind: 'answer', value: { data, response } };
    } catch (err) {
      return await this.refusal(err, turn);
    } finally {
      if (!handedOver) lane.done(turn);
    }
  }

  /** The stream the caller reads: the SDK's events as they come; its usage settles the budget at the end. */
  private paced(source: Stream<StreamEvent>, turn: Turn, observed: Promise<void>): Stream<StreamEvent> {
    const usage: Usage = {};
    let finished = false;
    const finish = async (whole: boolean) => {
      if (finished) return;
      finished = true;
      try {
        await observed;
        await this.settle(turn, usage, whole);
      } catch {
        // The wrapper closed its store while this stream was read: nothing left to settle.
      } finally {
        this.ctx.lane.done(turn);
      }
    };
    const aborted = () => (this.signal.aborted ? this.abortError() : undefined);
    const signal = this.signal;
    async function* events(): AsyncGenerator<StreamEvent> {
      let whole = false;
      try {
        for await (const event of source) {
          if (event.type === 'message_start') Object.assign(usage, pick(event.message.usage));
          else if (event.type === 'message_delta') Object.assign(usage, pick(event.usage));
          yield event;
        }
        // The SDK's stream ends quietly when its signal aborts it (as it does unwrapped): cut off, not whole.
        whole = !signal.aborted;
      } catch (err) {
        // Cut off by the caller's signal or the wrapper's: the same error a waiting call gets.
        throw aborted() ?? err;
      } finally {
        await finish(whole);
      }
    }
    return new Stream(() => events(), source.controller);
  }

  /**
   * A whole answer's usage corrects the estimate and teaches the lane; a cut-off stream's input is
   * known from message_start, its output is not, so its estimate stands.
   */
  private async settle(turn: Turn, usage: Usage | undefined, whole: boolean): Promise<void> {
    const { lane, accounts } = this.ctx;
    if (whole && usage && usage.output_tokens !== undefined) {
      lane.learn(turn, usage);
      await lane.budget.settle(turn.cost, { inputTokens: countedInput(usage), outputTokens: usage.output_tokens });
    } else if (usage?.input_tokens !== undefined) {
      await lane.budget.settle(turn.cost, { inputTokens: countedInput(usage) });
    }
    await accounts.shareReported(lane);
  }

  /** A failed attempt: a 429 pauses the class for everyone and goes again while maxWaitMs allows. */
  private async refusal(err: unknown, turn: Turn): Promise<Outcome> {
    const { budget } = this.ctx.lane;
    const action = classifyFailure(err);
    const limits = parseRateLimitHeaders(err instanceof APIError ? err.headers : undefined);
    if (err instanceof APIError && typeof err.status === 'number') {
      this.ctx.lane.answer({ limitsReported: hasReadings(limits), ok: false, rateLimited: err.status === 429 });
    }
    switch (action.kind) {
      case 'rate-limited': {
        await budget.refund(turn.cost, { request: true });
        await budget.onRateLimited(action.retryAfterMs, limits);
        if (this.signal.aborted) throw this.abortError();
        const waitMs = action.retryAfterMs ?? 1000;
        if (Date.now() - this.arrivedAt + waitMs <= this.ctx.maxWaitMs) return { kind: 'again', refused: err };
        throw new RateLimitWaitError(Date.now() - this.arrivedAt, err);
      }
      case 'aborted':
        // It may have reached the API (and counted): the reservation stands.
        throw this.abortError();
      case 'stop': {
        await budget.refund(turn.cost, { request: false });
        const stop = new StoppedError(action.reason, action.message, { cause: err });
        this.ctx.onStop(stop);
        throw stop;
      }
      case 'transient':
        if (!action.maybeProcessed) await budget.refund(turn.cost, { request: false });
        throw err;
      case 'item-error':
        await budget.refund(turn.cost, { request: false });
        throw err;
    }
  }
}

/** Why a closed or aborted wrapper fails a call. */
export function closedError(reason: 'closed' | 'aborted'): Error {
  return reason === 'closed' ? new ClientClosedError() : new AbortedError('the paced client was aborted');
}
