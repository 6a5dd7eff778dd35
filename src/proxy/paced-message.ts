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
import { hasReadings, parseRateLimitHeaders } from '../limits/rate-limit-headers.js';
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
  plan: CachePlan;
}

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
  return { model, maxTokens, plan: cachePlan({ ...params, model }) };
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
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort();
  };
  res.once('close', onClose);
  if (res.destroyed) gone.abort();

  const arrivedAt = Date.now();
  let refused: ErrorAnswer | undefined;
  try {
    for (;;) {
      const turn = await waitForTurn(ctx, lane, params, who, client, gone.signal, arrivedAt, refused !== undefined);
      if (!turn) {
        if (gone.signal.aborted) ctx.stats.totals.clientGone += 1;
        else heldTooLong(ctx, res, lane, client, refused);
        return;
      }
      client.inFlight += 1;
      let outcome: SendOutcome;
      try {
        outcome = await sendOnce(ctx, req, res, body, who, client, lane, turn, gone.signal, arrivedAt);
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

async function waitForTurn(
  ctx: ProxyContext,
  lane: MessageLane,
  params: PacedParams,
  who: RequestIdentity,
  client: ClientStats,
  gone: AbortSignal,
  arrivedAt: number,
  again: boolean,
): Promise<Turn | undefined> {
  const left = ctx.maxWaitMs - (Date.now() - arrivedAt);
  if (left <= 0 || gone.aborted) return undefined;
  // The wait ends when the client goes or --max-wait runs out, whichever is first.
  const hold = new AbortController();
  const stop = () => hold.abort();
  const timer = setTimeout(stop, left);
  gone.addEventListener('abort', stop, { once: true });
  client.queued += 1;
  try {
    return await lane.turn({ client: who.client, plan: params.plan, maxTokens: params.maxTokens, signal: hold.signal, again });
  } finally {
    client.queued -= 1;
    clearTimeout(timer);
    gone.removeEventListener('abort', stop);
  }
}

/**
 * Held for --max-wait without going out: the client gets the last 429 the upstream sent for it,
 * or, if the budget alone held it (a backlog far beyond the limit), a 429 of the proxy's own with
 * `retry-after` as long as the line ahead would take at the limit.
 */
function heldTooLong(ctx: ProxyContext, res: ServerResponse, lane: MessageLane, client: ClientStats, refused: ErrorAnswer | undefined): void {
  client.rateLimited += 1;
  ctx.stats.totals.clientRateLimited += 1;
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

async function sendOnce(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  who: RequestIdentity,
  client: ClientStats,
  lane: MessageLane,
  turn: Turn,
  gone: AbortSignal,
  arrivedAt: number,
): Promise<SendOutcome> {
  const { budget } = lane;
  let upstream: IncomingMessage;
  try {
    upstream = await ctx.upstream.send({
      method: 'POST',
      path: req.url ?? '/v1/messages',
      // The proxy reads the answer's usage, so it asks for it uncompressed.
      headers: { ...upstreamHeaders(req, who, body.length), 'accept-encoding': 'identity' },
      body,
      signal: gone,
    });
  } catch (err) {
    if (gone.aborted) {
      // It may have reached the API (and counted): the reservation stands.
      ctx.stats.totals.clientGone += 1;
      return { kind: 'over' };
    }
    await unreachable(ctx, res, err, () => budget.refund(turn.cost, { request: true }));
    return { kind: 'over' };
  }
  const status = upstream.statusCode ?? 502;
  const limits = parseRateLimitHeaders(headerSource(upstream.headers));
  lane.answer({ limitsReported: hasReadings(limits), ok: status < 400, rateLimited: status === 429 });

  if (status < 400) {
    // The head goes to the client at once; the budget learns from it meanwhile.
    const observed = budget.observe(limits);
    const streamed = String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
    const reader = streamed ? sseUsageReader() : jsonUsageReader();
    const whole = await relay(upstream, res, reader);
    await observed;
    const usage = reader.usage();
    if (whole && usage) {
      lane.learn(turn, usage);
      await budget.settle(turn.cost, { inputTokens: countedInput(usage), outputTokens: usage.output_tokens });
      ctx.stats.totals.inputTokens += countedInput(usage);
      ctx.stats.totals.outputTokens += usage.output_tokens ?? 0;
    } else if (usage?.input_tokens !== undefined) {
      // Cut off: the input is known from message_start; the output produced before the cut is
      // not, so its estimate stands.
      await budget.settle(turn.cost, { inputTokens: countedInput(usage) });
    }
    await ctx.accounts.shareReported(lane);
    if (whole) {
      client.succeeded += 1;
      ctx.stats.totals.succeeded += 1;
      const streamError = reader.streamError();
      if (streamError) ctx.log.notice(`stream-error:${streamError}`, `a streamed ${lane.modelClass} answer ended with ${streamError} (passed on to ${who.client})`);
    } else if (gone.aborted) ctx.stats.totals.clientGone += 1;
    else {
      ctx.stats.totals.upstreamCut += 1;
      ctx.log.notice('upstream-cut', `the upstream cut off a ${lane.modelClass} answer mid-way (passed on to ${who.client} the same way)`);
    }
    return { kind: 'over' };
  }

  const answer = await readErrorAnswer(upstream);
  const { action } = answer;
  if (action.kind === 'rate-limited') {
    ctx.stats.totals.upstreamRateLimited += 1;
    await budget.refund(turn.cost, { request: true });
    const waitMs = action.retryAfterMs ?? 1000;
    const fresh = await budget.onRateLimited(action.retryAfterMs, limits);
    const fits = Date.now() - arrivedAt + waitMs <= ctx.maxWaitMs;
    if (fresh) {
      ctx.log.notice(
        `429:${lane.modelClass}`,
        `upstream 429 (${lane.modelClass}): every request for this class waits ${Math.ceil(waitMs / 1000)}s, then goes again`,
      );
    }
    if (fits && !gone.aborted) {
      client.retried += 1;
      return { kind: 'again', refused: answer };
    }
    client.rateLimited += 1;
    ctx.stats.totals.clientRateLimited += 1;
    sendErrorAnswer(res, answer);
    return { kind: 'over' };
  }

  // Refused before it used any tokens; a transient failure after the API started may have counted.
  const maybeCounted = action.kind === 'transient' && action.maybeProcessed;
  if (!maybeCounted) await budget.refund(turn.cost, { request: false });
  if (status === 429) {
    client.rateLimited += 1;
    ctx.stats.totals.clientRateLimited += 1;
  } else {
    client.errors += 1;
    ctx.stats.totals.errors += 1;
  }
  if (action.kind === 'transient' || action.kind === 'stop') {
    const what = [answer.type, answer.message].filter(Boolean).join(': ');
    ctx.log.notice(`status:${status}:${answer.type ?? ''}`, `upstream ${status}${what ? ` ${what}` : ''} (${lane.modelClass}, client ${who.client}): passed back as it came`);
  }
  sendErrorAnswer(res, answer);
  return { kind: 'over' };
}
