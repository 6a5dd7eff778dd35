/**
 * What one `POST /v1/messages` goes through: it waits for its turn and its class's budget (the
 * lane), goes upstream, and its answer comes back as it arrives while its usage settles the
 * budget. A 429 from upstream pauses every request on the store for `retry-after` (the limit is
 * the account's, not this request's) and the request goes again, first in its client's line,
 * unseen by the client — as long as holding it fits --max-wait; past that the client gets a 429
 * with `retry-after` and its own retry logic applies. Every other error answer (529, 5xx, a
 * billing or spend refusal, the request's own 400) is passed back as it came, and logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cachePlan, type CachePlan } from '../limits/prompt-cache.js';
import { hasReadings, parseRateLimitHeaders, type RateLimitHeaders } from '../limits/rate-limit-headers.js';
import type { ProxyContext, RequestIdentity } from './context.js';
import { sendApiError } from './http-io.js';
import type { MessageLane, Turn } from './message-lane.js';
import { relay } from './relay.js';
import type { ClientStats } from './stats.js';
import { forwardBuffered, unreachable, upstreamHeaders } from './forward.js';
import { headerSource, readErrorAnswer, sendErrorAnswer, type ErrorAnswer } from './upstream-answer.js';
import { jsonUsageReader, sseUsageReader, type Usage } from './usage.js';

/** The fields of a Messages request the budget needs. */
interface PacedParams {
  model: string;
  maxTokens: number;
  stream: boolean;
  plan: CachePlan;
}

/** A plain (non-streamed) answer's head is its whole answer: time allowed per max_tokens on top of the first-byte timeout (~20 tokens/s). */
const PLAIN_MS_PER_TOKEN = 50;

/** For a request without a usable max_tokens (the API will refuse it anyway): the estimate's prior. */
const DEFAULT_MAX_TOKENS = 4096;

function pacedParams(body: Buffer): PacedParams | undefined {
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!params || typeof params !== 'object' || typeof params.model !== 'string' || params.model.trim() === '') return undefined;
  const maxTokens = typeof params.max_tokens === 'number' && params.max_tokens > 0 ? params.max_tokens : DEFAULT_MAX_TOKENS;
  const model = params.model;
  return { model, maxTokens, stream: params.stream === true, plan: cachePlan({ ...params, model }) };
}

/** Counted against input-token limits: uncached input and cache writes (reads are free). */
const countedInput = (u: Usage) => (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);

type SendOutcome = { kind: 'over' } | { kind: 'again'; refused: ErrorAnswer };

export async function handleMessage(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  who: RequestIdentity,
  client: ClientStats,
): Promise<void> {
  const params = pacedParams(body);
  // Nothing to pace by (no model to know the class, no credential to know the account): the API
  // answers these at once with a 400 or 401.
  if (!params || who.credential === undefined) {
    await forwardBuffered(ctx, req, res, body, who, client);
    return;
  }
  const lane = await ctx.accounts.lane(who.credential, params.model);
  await new PacedRequest(ctx, lane, req, res, body, params, who, client).run();
}

/** One Messages request's way through its lane, from arrival to its last byte. */
class PacedRequest {
  /** Aborts when the client goes away before its answer is complete. */
  private readonly gone = new AbortController();
  private readonly arrivedAt = Date.now();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly lane: MessageLane,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly body: Buffer,
    private readonly params: PacedParams,
    private readonly who: RequestIdentity,
    private readonly client: ClientStats,
  ) {}

  async run(): Promise<void> {
    const { res, lane, client } = this;
    const onClose = () => {
      if (!res.writableFinished) this.gone.abort();
    };
    res.once('close', onClose);
    if (res.destroyed) this.gone.abort();
    let refused: ErrorAnswer | undefined;
    try {
      for (;;) {
        const turn = await this.waitForTurn(refused !== undefined);
        if (!turn) {
          if (this.gone.signal.aborted) this.ctx.stats.totals.clientGone += 1;
          else if (this.ctx.shutdown.aborted) this.notSentAtShutdown();
          else this.heldTooLong(refused);
          return;
        }
        client.inFlight += 1;
        let outcome: SendOutcome;
        try {
          outcome = await this.send(turn);
        } finally {
          client.inFlight -= 1;
          lane.done(turn);
        }
        if (outcome.kind === 'over') return;
        refused = outcome.refused;
      }
    } finally {
      res.off('close', onClose);
    }
  }

  /** Waits for the request's turn until the client goes or --max-wait runs out, whichever is first. */
  private async waitForTurn(again: boolean): Promise<Turn | undefined> {
    const gone = this.gone.signal;
    const left = this.ctx.maxWaitMs - (Date.now() - this.arrivedAt);
    if (left <= 0 || gone.aborted) return undefined;
    const hold = new AbortController();
    const stop = () => hold.abort();
    const timer = setTimeout(stop, left);
    gone.addEventListener('abort', stop, { once: true });
    this.ctx.shutdown.addEventListener('abort', stop, { once: true });
    this.client.queued += 1;
    try {
      const { plan, maxTokens } = this.params;
      return await this.lane.turn({ client: this.who.client, plan, maxTokens, signal: hold.signal, again });
    } finally {
      this.client.queued -= 1;
      clearTimeout(timer);
      gone.removeEventListener('abort', stop);
      this.ctx.shutdown.removeEventListener('abort', stop);
    }
  }

  /**
   * Held for --max-wait without going out: the client gets the last 429 the upstream sent for it,
   * or, if the budget alone held it (a backlog far beyond the limit), a 429 of the proxy's own with
   * `retry-after` as long as the line ahead would take at the limit.
   */
  /** The proxy stopped while this request waited for its turn: it was not sent, so it can simply go again. */
  private notSentAtShutdown(): void {
    const { res } = this;
    res.setHeader('connection', 'close');
    sendApiError(res, 503, 'overloaded_error', 'the proxy is shutting down; this request was not sent to the API — send it again', { 'retry-after': '1' });
  }

  private heldTooLong(refused: ErrorAnswer | undefined): void {
    const { ctx, lane, res } = this;
    this.countRateLimited();
    const waitedS = Math.round(ctx.maxWaitMs / 1000);
    ctx.log.notice(`held-too-long:${lane.modelClass}`, `a ${lane.modelClass} request waited ${waitedS}s (--max-wait) without a turn; its client gets a 429`);
    if (refused) return sendErrorAnswer(res, refused);
    const rpm = lane.budget.limits().rpm;
    const retryAfter = rpm ? Math.max(1, Math.ceil((lane.queued * 60) / rpm)) : 1;
    sendApiError(
      res,
      429,
      'rate_limit_error',
      `held this request ${waitedS}s (--max-wait) waiting for the rate limit of ${lane.modelClass}; ${lane.queued} more are waiting`,
      { 'retry-after': String(retryAfter) },
    );
  }

  private async send(turn: Turn): Promise<SendOutcome> {
    const { ctx, lane, res } = this;
    const gone = this.gone.signal;
    // The attempt ends if the client goes, or if the upstream sends no answer head in time (a
    // stream starts within seconds; a plain answer is allowed time to write its max_tokens).
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    gone.addEventListener('abort', abort, { once: true });
    const firstByteMs = ctx.timeouts.firstByteMs + (this.params.stream ? 0 : this.params.maxTokens * PLAIN_MS_PER_TOKEN);
    let silent = false;
    const timer = setTimeout(() => {
      silent = true;
      attempt.abort();
    }, firstByteMs);
    let upstream: IncomingMessage;
    try {
      upstream = await ctx.upstream.send({
        method: 'POST',
        path: this.req.url ?? '/v1/messages',
        // The proxy reads the answer's usage, so it asks for it uncompressed.
        headers: { ...upstreamHeaders(this.req, this.who, this.body.length), 'accept-encoding': 'identity' },
        body: this.body,
        signal: attempt.signal,
      });
    } catch (err) {
      // Either way it may have reached the API (and counted): the reservation stands.
      if (gone.aborted) ctx.stats.totals.clientGone += 1;
      else if (silent) this.noAnswer(firstByteMs);
      else await unreachable(ctx, res, err, () => lane.budget.refund(turn.cost, { request: true }));
      return { kind: 'over' };
    } finally {
      clearTimeout(timer);
      gone.removeEventListener('abort', abort);
    }
    const status = upstream.statusCode ?? 502;
    const limits = parseRateLimitHeaders(headerSource(upstream.headers));
    lane.answer({ limitsReported: hasReadings(limits), ok: status < 400, rateLimited: status === 429 });
    if (status < 400) {
      await this.passOn(upstream, turn, limits);
      return { kind: 'over' };
    }
    return this.refusal(await readErrorAnswer(upstream), turn, limits);
  }

  /** A success: its bytes go to the client as they come, and its usage settles the budget. */
  private async passOn(upstream: IncomingMessage, turn: Turn, limits: RateLimitHeaders): Promise<void> {
    const { ctx, lane, client } = this;
    const { budget } = lane;
    // The head goes to the client at once; the budget learns from it meanwhile.
    const observed = budget.observe(limits);
    const streamed = String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
    const reader = streamed ? sseUsageReader() : jsonUsageReader();
    const end = await relay(upstream, this.res, { reader, idleMs: ctx.timeouts.idleMs });
    const whole = end === 'whole';
    await observed;
    const usage = reader.usage();
    const streamError = reader.streamError();
    if (whole && usage && !streamError) {
      lane.learn(turn, usage);
      await budget.settle(turn.cost, { inputTokens: countedInput(usage), outputTokens: usage.output_tokens });
      ctx.stats.totals.inputTokens += countedInput(usage);
      ctx.stats.totals.outputTokens += usage.output_tokens ?? 0;
    } else if (usage?.input_tokens !== undefined) {
      // Cut off, or ended by an error event: the input is known from message_start; the output
      // produced before the end is not, so its estimate stands.
      await budget.settle(turn.cost, { inputTokens: countedInput(usage) });
    }
    await ctx.accounts.shareReported(lane);
    if (whole && !streamError) {
      client.succeeded += 1;
      ctx.stats.totals.succeeded += 1;
    } else if (whole) {
      client.errors += 1;
      ctx.stats.totals.errors += 1;
      ctx.log.notice(`stream-error:${streamError}`, `a streamed ${lane.modelClass} answer ended with ${streamError} (passed on to ${this.who.client} as it came)`);
    } else if (end === 'client-gone') {
      ctx.stats.totals.clientGone += 1;
    } else {
      ctx.stats.totals.upstreamCut += 1;
      const how = end === 'stalled' ? `went silent for ${Math.round(ctx.timeouts.idleMs / 1000)}s in` : 'cut off';
      ctx.log.notice(`upstream-${end}`, `the upstream ${how} a ${lane.modelClass} answer mid-way; cut off for ${this.who.client} the same way`);
    }
  }

  /**
   * An error answer. A rate-limit 429 pauses the class for everyone and, while holding the
   * request still fits --max-wait, sends it again; anything else goes back as it came.
   */
  private async refusal(answer: ErrorAnswer, turn: Turn, limits: RateLimitHeaders): Promise<SendOutcome> {
    const { ctx, lane, res, client } = this;
    const { budget } = lane;
    const { action, status } = answer;
    if (action.kind === 'rate-limited') {
      ctx.stats.totals.upstreamRateLimited += 1;
      await budget.refund(turn.cost, { request: true });
      const waitMs = action.retryAfterMs ?? 1000;
      const fresh = await budget.onRateLimited(action.retryAfterMs, limits);
      if (fresh) {
        ctx.log.notice(`429:${lane.modelClass}`, `upstream 429 (${lane.modelClass}): every request for this class waits ${Math.ceil(waitMs / 1000)}s, then goes again`);
      }
      if (this.gone.signal.aborted) return { kind: 'over' };
      if (Date.now() - this.arrivedAt + waitMs <= ctx.maxWaitMs) {
        client.retried += 1;
        return { kind: 'again', refused: answer };
      }
      this.countRateLimited();
      sendErrorAnswer(res, answer);
      return { kind: 'over' };
    }

    // Refused before it used any tokens; a transient failure after the API started may have counted.
    if (!(action.kind === 'transient' && action.maybeProcessed)) await budget.refund(turn.cost, { request: false });
    if (status === 429) this.countRateLimited();
    else {
      client.errors += 1;
      ctx.stats.totals.errors += 1;
    }
    if (action.kind === 'transient' || action.kind === 'stop') {
      const what = [answer.type, answer.message].filter(Boolean).join(': ');
      ctx.log.notice(`status:${status}:${answer.type ?? ''}`, `upstream ${status}${what ? ` ${what}` : ''} (${lane.modelClass}, client ${this.who.client}): passed back as it came`);
    }
    sendErrorAnswer(res, answer);
    return { kind: 'over' };
  }

  /** The upstream accepted the request and said nothing: a 504 the client's retries can take. */
  private noAnswer(afterMs: number): void {
    const { ctx, lane } = this;
    ctx.stats.totals.upstreamCut += 1;
    ctx.stats.totals.errors += 1;
    this.client.errors += 1;
    const s = Math.round(afterMs / 1000);
    ctx.log.notice(`no-answer:${lane.modelClass}`, `the upstream sent no answer to a ${lane.modelClass} request within ${s}s; its client gets a 504`);
    sendApiError(this.res, 504, 'api_error', `the upstream sent no answer within ${s}s`, { 'x-should-retry': 'true' });
  }

  private countRateLimited(): void {
    this.client.rateLimited += 1;
    this.ctx.stats.totals.clientRateLimited += 1;
  }
}
