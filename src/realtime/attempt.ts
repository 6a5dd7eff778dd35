/**
 * What one request goes through: wait for its prompt prefix if another request is writing it to
 * the cache; reserve its estimated cost from its class's budget; send it (streamed, watched for
 * silence); and on an answer write its result line at once, then settle the budget with the usage
 * the API returned. A failure is handed to failure-handling.ts, which decides between retrying,
 * writing it as errored, stopping the run, or leaving it pending.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { StoppedError } from '../errors.js';
import type { AccountBudget } from '../limits/account-budget.js';
import type { CachePlan, PromptCacheTracker } from '../limits/prompt-cache.js';
import { parseRateLimitHeaders } from '../limits/rate-limit-headers.js';
import type { Cost } from '../limits/types.js';
import type { ResultWriter } from '../output/index.js';
import type { AttemptEvents } from '../report/event-log.js';
import { checkAnswer, requestedSchema } from '../structured/answer.js';
import { erroredResult, type Item } from '../types.js';
import type { RunStats } from '../ui/stats.js';
import type { ClassLane } from './class-lane.js';
import { handleFailure } from './failure-handling.js';
import type { LiveRates } from './live-rates.js';
import type { RunControl } from './run-control.js';
import { until } from '../sleep.js';
import { sendMessage } from './send-message.js';
import type { SpendCap, SpendTicket } from './spend-cap.js';
import type { StallWatch } from './stall-watch.js';

/** One item's way through the scheduler, carried from attempt to attempt. */
export interface Work {
  item: Item;
  plan: CachePlan;
  /** 1-based; 429s do not count (they are pacing, not failure). */
  attempt: number;
  /** 429s this item has had. */
  rateLimited: number;
}

/** Output is charged as it streams in steps of at least this many tokens (or 5% of the estimate). */
const CHARGE_STEP_TOKENS = 50;

export type AttemptOutcome =
  /** A result line was written (succeeded or errored). */
  | { kind: 'finished' }
  /** Not sent, or given up by a stop: the item stays pending for a rerun. */
  | { kind: 'pending' }
  /** Another request is writing its prompt prefix to the cache: try again once that is done. */
  | { kind: 'park'; ready: Promise<void>; work: Work }
  /** Try again after `afterMs` (0: at once; the budget holds it through a 429 pause), in front. */
  | { kind: 'retry'; afterMs: number; work: Work };

export interface RequestTimeouts {
  /** ms from sending to the first event of the answer. */
  firstByteMs: number;
  /** ms allowed between two events. */
  idleMs: number;
  transport: 'stream' | 'json';
}

export interface AttemptContext {
  client: Anthropic;
  writer: ResultWriter;
  stats: RunStats;
  rates: LiveRates;
  cache: PromptCacheTracker;
  control: RunControl;
  stalls: StallWatch;
  account: AccountBudget;
  timeouts: RequestTimeouts;
  maxAttempts: number;
  delayMs: number;
  random: () => number;
  notice: (message: string) => void;
  /** Connection failures with no answer from the API in between (shared by every lane). */
  unreachable: { inARow: number };
  /** Told about every answer, also one that failed its schema (for the cost tally: it is paid for). */
  onAnswer?: (item: Item, message: Anthropic.Message) => void;
  /** `--max-cost`: asked before each request is sent. */
  spend?: SpendCap;
  /** The run's event log (latency of answers, type of failures), for the report. */
  events?: AttemptEvents;
}

export async function attemptItem(ctx: AttemptContext, lane: ClassLane, work: Work): Promise<AttemptOutcome> {
  const { control, stats } = ctx;
  if (control.stopping) return { kind: 'pending' };
  const admission = ctx.cache.admit(work.plan);
  if (!admission.go) return { kind: 'park', ready: admission.ready, work };
  const { params } = work.item;
  const cost: Cost = {
    requests: 1,
    inputTokens: lane.input.estimate(admission.uncachedChars),
    outputTokens: lane.output.estimate(params.max_tokens, lane.output.count === 0 ? lane.outputPrior(ctx.timeouts.transport !== 'json') : undefined),
  };
  let reserved: boolean;
  try {
    reserved = await lane.budget.reserve(cost, control.noNewWork);
  } catch (err) {
    ctx.cache.onFailure(admission.write);
    if (!(err instanceof StoppedError)) throw err;
    control.requestStop(err);
    return { kind: 'pending' };
  }
  if (!reserved) {
    ctx.cache.onFailure(admission.write);
    return { kind: 'pending' };
  }
  let spendTicket: SpendTicket | undefined;
  while (ctx.spend) {
    const decision = ctx.spend.admit(work.item);
    if ('ticket' in decision) {
      spendTicket = decision.ticket;
      break;
    }
    if ('wait' in decision) {
      // Fits only once what is in flight has cost what it really costs: wait for the next answer.
      if (await until(decision.wait, control.noNewWork)) continue;
    } else control.requestStop(new StoppedError('max-cost', decision.stop));
    ctx.cache.onFailure(admission.write);
    await lane.budget.refund(cost, { request: true });
    return { kind: 'pending' };
  }

  stats.requestsSent += 1;
  if (work.attempt > 1 || work.rateLimited > 0) stats.retried += 1;
  stats.inFlight += 1;
  ctx.rates.record({ requests: 1 });
  const sentAt = Date.now();
  const watch = ctx.stalls.start();
  let message: Anthropic.Message;
  let observed: Promise<void> | undefined;
  // Output past the estimate is charged while it streams, as the API charges it as it is produced.
  let chars = 0;
  let charged = 0;
  const onOutput = (soFar: number) => {
    watch.heard();
    chars = soFar;
    const over = lane.outputChars.tokensFor(chars) - cost.outputTokens - charged;
    if (over >= Math.max(CHARGE_STEP_TOKENS, cost.outputTokens / 20)) {
      charged += over;
      void lane.budget.chargeOutput(over).catch(() => undefined);
    }
  };
  // The cache entry a streamed answer writes is readable once its output starts: the requests
  // waiting for it go then, not seconds later when the whole answer is in.
  let cacheSettled = false;
  const onOutputStart = (usage: Anthropic.Usage) => {
    if (work.plan.breakpoints.length === 0) return;
    cacheSettled = true;
    ctx.cache.onAnswer(work.plan, sentAt, usage, admission.write);
  };
  // The answer's headers carry the limits and what remains; a stream has them before its first
  // token, so the budget learns and the count in flight grows without waiting for the whole answer.
  const onFirstByte = (headers: Headers | undefined) => {
    watch.heard();
    lane.sizer.onStarted();
    observed = lane.budget
      .observe(parseRateLimitHeaders(headers))
      .then(() => lane.resize())
      .catch(() => undefined);
  };
  try {
    ({ message } = await sendMessage(ctx.client, params, {
      onAbort: watch.onAbort,
      firstByteMs: ctx.timeouts.firstByteMs,
      idleMs: ctx.timeouts.idleMs,
      transport: ctx.timeouts.transport,
      onFirstByte,
      onOutput,
      onOutputStart,
    }));
  } catch (err) {
    stats.inFlight -= 1;
    ctx.cache.onFailure(admission.write);
    return handleFailure(ctx, lane, work, cost, err);
  } finally {
    watch.end();
    // The answer's cost is added to the meter below before anything awaits, so no other request's
    // admit can see this one as neither in flight nor spent.
    if (spendTicket) ctx.spend?.release(spendTicket);
  }
  stats.inFlight -= 1;

  // A structured request's answer must parse and match its schema. One that does not was still
  // answered and paid for: it is settled below like any answer, then retried up to --max-attempts.
  const schema = requestedSchema(params);
  const check = schema ? checkAnswer(schema, message) : undefined;
  const retryInvalid = check !== undefined && !check.ok && work.attempt < ctx.maxAttempts;
  if (!retryInvalid) {
    // The item has its answer: write it before anything else, and let nothing after this turn it
    // into a second line (bookkeeping failures are reported, never retried).
    if (check && !check.ok) {
      ctx.writer.write(erroredResult(work.item.custom_id, 'schema_error', `${check.problem} (gave up after ${work.attempt} attempts)`));
      stats.errored += 1;
    } else {
      const parsed = check?.ok ? { parsed: check.parsed } : {};
      ctx.writer.write({ custom_id: work.item.custom_id, result: { type: 'succeeded', message }, ...parsed });
      stats.succeeded += 1;
    }
    stats.done += 1;
  } else stats.schemaRetries += 1;
  ctx.unreachable.inARow = 0;
  const usage = message.usage;
  stats.inputTokens += usage?.input_tokens ?? 0;
  stats.outputTokens += usage?.output_tokens ?? 0;
  stats.cacheWriteTokens += usage?.cache_creation_input_tokens ?? 0;
  stats.cacheReadTokens += usage?.cache_read_input_tokens ?? 0;
  const counted = (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0);
  ctx.rates.record({ inputTokens: counted, outputTokens: usage?.output_tokens ?? 0, done: retryInvalid ? 0 : 1 });
  ctx.onAnswer?.(work.item, message);

  if (!cacheSettled) ctx.cache.onAnswer(work.plan, sentAt, usage ?? {}, admission.write);
  const latencyMs = Date.now() - sentAt;
  lane.sizer.onAnswer(latencyMs, true);
  ctx.events?.answered(latencyMs);
  if (usage) {
    lane.input.observe(work.plan.totalChars, usage);
    lane.output.observe(usage.output_tokens);
    lane.outputChars.observe(chars, usage.output_tokens);
    lane.observeInput(counted);
  }
  await observed;
  await lane.budget.settle(cost, { inputTokens: counted, outputTokens: usage?.output_tokens }, charged);
  await ctx.account.shareReported(lane.budget);
  lane.resize();
  if (retryInvalid) return { kind: 'retry', afterMs: 0, work: { ...work, attempt: work.attempt + 1 } };
  return { kind: 'finished' };
}
