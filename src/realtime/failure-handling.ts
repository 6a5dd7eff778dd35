/**
 * What a failed request means for its item and the run (src/api-failure.ts classifies the error;
 * this decides, with the run's state):
 * - a 429: every worker of every process on the store pauses for `retry-after`, the pace steps
 *   down once per pause, and the item goes back to the front; not counted against --max-attempts,
 *   but an item refused 50 times is written as errored;
 * - a transient failure (5xx, 529, timeout, dropped or stalled connection): back off and retry up
 *   to --max-attempts, then write it as errored; 12 connection failures in a row with no answer in
 *   between mean the API cannot be reached: stop, the rest stays pending;
 * - the item's own fault (400, 404 …): write it as errored at once;
 * - a stop (rejected key, spend or billing limit): stop the run, this item stays pending;
 * - aborted by a stop: pending.
 */
import { backoffMs, classifyFailure } from '../api-failure.js';
import { StoppedError } from '../errors.js';
import { parseRateLimitHeaders } from '../limits/rate-limit-headers.js';
import type { Cost } from '../limits/types.js';
import { erroredResult } from '../types.js';
import type { AttemptContext, AttemptOutcome, Work } from './attempt.js';
import type { ClassLane } from './class-lane.js';

/**
 * This many connection failures in a row, with no answer from the API in between, means the API
 * cannot be reached (a wrong base URL, a network outage), not that some items are bad.
 */
export const UNREACHABLE_IN_A_ROW = 12;

/** A 429 is pacing, not failure; but an item refused this often means something else is wrong. */
export const MAX_RATE_LIMITED_ATTEMPTS = 50;

export async function handleFailure(ctx: AttemptContext, lane: ClassLane, work: Work, cost: Cost, err: unknown): Promise<AttemptOutcome> {
  const action = classifyFailure(err);
  const { stats, control } = ctx;
  if (action.kind !== 'aborted') logFailure(ctx, work, action);
  const connectionFailure = action.kind === 'transient' && (action.errorType === 'api_connection_error' || action.errorType === 'api_timeout');
  if (connectionFailure) ctx.unreachable.inARow += 1;
  else if (action.kind !== 'aborted') {
    ctx.unreachable.inARow = 0;
    // The API answered (with an error): the limits are as confirmed as they will get.
    lane.sizer.onAnswer(undefined, false);
    lane.resize();
  }

  switch (action.kind) {
    case 'aborted':
      // Given up by a stop: the API may have counted it, so its reservation stands.
      return { kind: 'pending' };
    case 'rate-limited': {
      stats.rateLimited += 1;
      await lane.budget.refund(cost, { request: true });
      const headers = parseRateLimitHeaders(action.headers);
      const newPause = await lane.budget.onRateLimited(action.retryAfterMs, headers);
      // Refused for input tokens: a prefix we thought cached may have been evicted (each request
      // would then write it at full price); confirm the cache again before fanning out. The API's
      // message names the limit; a reading of 0 input tokens left says the same.
      if (/input[ -]tokens/i.test(action.message) || headers.inputTokens?.remaining === 0) ctx.cache.suspectEviction();
      if (newPause && !lane.budget.hasLimits) {
        lane.sizer.onRateLimitedWithoutLimits();
        lane.resize();
      }
      if (work.rateLimited + 1 >= MAX_RATE_LIMITED_ATTEMPTS) {
        return finishErrored(ctx, work, 'rate_limit_error', `still rate limited after ${work.rateLimited + 1} attempts`);
      }
      if (newPause) {
        const s = Math.ceil((action.retryAfterMs ?? 1000) / 1000);
        ctx.notice(`429 rate limited (${lane.modelClass}): every worker pauses ${s}s; pace steps down`);
      }
      return { kind: 'retry', afterMs: 0, work: { ...work, rateLimited: work.rateLimited + 1 } };
    }
    case 'transient': {
      stats.faults += 1;
      if (ctx.unreachable.inARow >= UNREACHABLE_IN_A_ROW) {
        // Not this item's fault: the API cannot be reached at all. Stop rather than write every
        // remaining item as errored; they stay pending for a rerun.
        control.requestStop(
          new StoppedError('api', `cannot reach the API at ${ctx.client.baseURL} (${ctx.unreachable.inARow} connection failures in a row: ${action.message})`),
        );
        return { kind: 'pending' };
      }
      // A dropped or stalled connection may have been counted by the API: keep its reservation then.
      if (!action.maybeProcessed) await lane.budget.refund(cost, { request: false });
      if (work.attempt >= ctx.maxAttempts) {
        return finishErrored(ctx, work, action.errorType, `${action.message} (gave up after ${work.attempt} attempts)`);
      }
      const afterMs = Math.max(backoffMs(work.attempt, { random: ctx.random }), action.retryAfterMs ?? 0);
      return { kind: 'retry', afterMs, work: { ...work, attempt: work.attempt + 1 } };
    }
    case 'item-error':
      await lane.budget.refund(cost, { request: false });
      return finishErrored(ctx, work, action.errorType, action.message);
    case 'stop':
      await lane.budget.refund(cost, { request: false });
      control.requestStop(new StoppedError(action.reason, action.message));
      return { kind: 'pending' };
  }
}

/** For the report: each failure's type (final: the item is written as errored with it, not retried). */
function logFailure(ctx: AttemptContext, work: Work, action: Exclude<ReturnType<typeof classifyFailure>, { kind: 'aborted' }>): void {
  if (!ctx.events) return;
  const id = work.item.custom_id;
  switch (action.kind) {
    case 'rate-limited':
      return ctx.events.failed('rate_limit_error', id, action.message, work.rateLimited + 1 >= MAX_RATE_LIMITED_ATTEMPTS);
    case 'transient':
      return ctx.events.failed(action.errorType, id, action.message, work.attempt >= ctx.maxAttempts);
    case 'item-error':
      return ctx.events.failed(action.errorType, id, action.message, true);
    case 'stop':
      return ctx.events.failed(`stop:${action.reason}`, id, action.message, false);
  }
}

function finishErrored(ctx: AttemptContext, work: Work, errorType: string, message: string): AttemptOutcome {
  ctx.writer.write(erroredResult(work.item.custom_id, errorType, message));
  ctx.stats.errored += 1;
  ctx.stats.done += 1;
  ctx.rates.record({ done: 1 });
  return { kind: 'finished' };
}
