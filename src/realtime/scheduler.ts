/**
 * The real-time scheduler: streams items into a p-queue (concurrency, smooth request spacing,
 * per-slot delay), paces every call through the shared RateBudget, owns every retry, and writes
 * exactly one result line per finished item. Items it did not finish (a stop, a signal) stay
 * unwritten, so rerunning the same command picks them up.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import type { Settings } from '../config.js';
import { StoppedError } from '../errors.js';
import type { ResultWriter } from '../output/index.js';
import { erroredResult, type Item } from '../types.js';
import { emptyStats, type RunStats } from '../ui/stats.js';
import { sleep } from '../sleep.js';
import { LiveRates } from './live-rates.js';
import { RateBudget, type Cost } from './rate-budget.js';
import { parseRateLimitHeaders } from './rate-limit-headers.js';
import { backoffMs, classifyFailure } from '../api-failure.js';
import { TokenEstimator } from './token-estimator.js';

/** The settings the scheduler uses (src/config.ts documents each and its default). */
export type SchedulerSettings = Pick<
  Settings,
  'rpm' | 'itpm' | 'otpm' | 'concurrency' | 'delayMs' | 'maxAttempts' | 'queueOverflow' | 'queueTimeoutMs'
>;

export interface RealtimeRun {
  client: Anthropic;
  items: AsyncIterable<Item>;
  /** Items in the input. */
  total: number;
  /** True for items a previous run already finished (resume): they are skipped and counted as done. */
  isDone: (customId: string) => boolean;
  writer: ResultWriter;
  settings: SchedulerSettings;
  /** Aborted when the user asks to stop: no new items are taken; in-flight ones finish. */
  signal: AbortSignal;
  /** Called whenever the numbers change (cheap; the UI throttles). */
  onProgress?: (stats: RunStats) => void;
  /** Called for notable events (a 429 pause, a stop), one line each. */
  onNotice?: (message: string) => void;
  random?: () => number;
}

export interface RealtimeOutcome {
  stats: RunStats;
  /** Set when the run stopped before every item was done. */
  stopped?: StoppedError;
  /** The limits the API reported in its headers. */
  learned: { rpm?: number; itpm?: number; otpm?: number };
}

/** `queue_overflow: fail` without `queue_timeout_ms`: a wait for capacity over a minute stops the run. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 60_000;

/**
 * This many connection failures in a row, with no answer from the API in between, means the API
 * cannot be reached (a wrong base URL, a network outage), not that some items are bad.
 */
const UNREACHABLE_IN_A_ROW = 12;

/** A 429 is pacing, not failure; but an item refused this often means something else is wrong. */
const MAX_RATE_LIMITED_ATTEMPTS = 50;

export async function runRealtime(run: RealtimeRun): Promise<RealtimeOutcome> {
  const { settings, client, writer } = run;
  const random = run.random ?? Math.random;
  const given = { rpm: settings.rpm, itpm: settings.itpm, otpm: settings.otpm };
  const budget = new RateBudget({
    given,
    maxWaitMs: settings.queueOverflow === 'fail' ? (settings.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS) : undefined,
  });
  const estimator = new TokenEstimator();
  const stats = emptyStats(run.total, budget.limits());
  const rates = new LiveRates();

  // Until the API has answered once, one request at a time: the limits are not confirmed yet.
  // p-queue holds the line (concurrency, retries in front); the RateBudget paces starts, its
  // buckets refilled by elapsed time as the API's are. With a request limit given, p-queue's strict
  // (sliding-window) interval cap is a backstop against edge bursts: never more than two seconds'
  // worth of starts in any one second. The budget allows at most 1.75 (its 0.75 s bucket plus one
  // second of refill), so the backstop never binds unless the budget is wrong.
  const queue = new PQueue({ concurrency: 1, ...(settings.rpm ? burstBackstop(settings.rpm) : {}) });
  let firstAnswer = false;
  /** Connection failures with no answer from the API in between. */
  let unreachableInARow = 0;

  const stop = new AbortController();
  // Every waiting reservation and backoff listens for the stop: more than Node's default of 10.
  setMaxListeners(0, stop.signal);
  let stopped: StoppedError | undefined;
  const onUserAbort = () => requestStop(new StoppedError('interrupted', 'interrupted; in-flight requests were allowed to finish'));
  if (run.signal.aborted) onUserAbort();
  else run.signal.addEventListener('abort', onUserAbort, { once: true });

  function requestStop(reason: StoppedError): void {
    if (!stopped) {
      stopped = reason;
      run.onNotice?.(`stopping: ${reason.message}`);
    }
    stop.abort();
  }

  let outstanding = 0;
  let feederDone = false;
  let settleAll: () => void = () => {};
  const allSettled = new Promise<void>((resolve) => (settleAll = resolve));
  const itemFinished = () => {
    outstanding -= 1;
    if (feederDone && outstanding === 0) settleAll();
  };

  const progress = () => {
    const now = Date.now();
    const r = rates.perMinute(stats.startedAt, now);
    stats.requestsPerMinute = r.requests;
    stats.inputTokensPerMinute = r.inputTokens;
    stats.outputTokensPerMinute = r.outputTokens;
    stats.limits = budget.limits();
    const left = stats.total - stats.done;
    stats.etaSeconds = r.done > 0 ? (left / r.done) * 60 : undefined;
    run.onProgress?.(stats);
  };

  // Concurrency after the first answer: start at a few and add one per success, so a cold start
  // does not open every connection at once (requests queued behind new connections reach the API
  // in a clump, and the API punishes sharp ramps).
  const RAMP_START = 4;
  const afterAnswer = (ok: boolean) => {
    if (!firstAnswer) {
      firstAnswer = true;
      queue.concurrency = Math.min(settings.concurrency, RAMP_START);
    } else if (ok && queue.concurrency < settings.concurrency) {
      queue.concurrency += 1;
    }
  };

  const enqueue = (item: Item, chars: number, attempt: number, rateLimited: number, front: boolean) => {
    void queue.add(
      () =>
        attemptItem(item, chars, attempt, rateLimited).catch((err: unknown) => {
          // The write (a full disk) or the bookkeeping after an answer failed: stop, lose nothing more.
          const message = err instanceof Error ? err.message : String(err);
          requestStop(new StoppedError('output', `could not record a result: ${message}`, { cause: err }));
          itemFinished();
        }),
      { priority: front ? 1 : 0 },
    );
  };

  async function attemptItem(item: Item, chars: number, attempt: number, rateLimited: number): Promise<void> {
    if (stop.signal.aborted) return itemFinished();
    const cost: Cost = { requests: 1, inputTokens: estimator.estimate(chars), outputTokens: item.params.max_tokens };
    try {
      if (!(await budget.reserve(cost, stop.signal))) return itemFinished();
    } catch (err) {
      if (err instanceof StoppedError) requestStop(err);
      else throw err;
      return itemFinished();
    }
    stats.requestsSent += 1;
    if (attempt > 1 || rateLimited > 0) stats.retried += 1;
    stats.inFlight += 1;
    rates.record({ requests: 1 });
    let message: Anthropic.Message;
    let headers: Headers;
    try {
      const answer = await client.messages.create(item.params).withResponse();
      message = answer.data;
      headers = answer.response.headers;
    } catch (err) {
      stats.inFlight -= 1;
      return handleFailure(item, chars, attempt, rateLimited, cost, err);
    }
    // Only the call above is retried: from here on the item has its answer, and anything that
    // goes wrong must not turn it into a second result line.
    stats.inFlight -= 1;
    unreachableInARow = 0;
    budget.observe(parseRateLimitHeaders(headers));
    const usage = message.usage;
    budget.settle(cost, { inputTokens: usage?.input_tokens, outputTokens: usage?.output_tokens });
    if (usage?.input_tokens) estimator.observe(chars, usage.input_tokens);
    afterAnswer(true);
    writer.write({ custom_id: item.custom_id, result: { type: 'succeeded', message } });
    stats.succeeded += 1;
    stats.done += 1;
    stats.inputTokens += usage?.input_tokens ?? 0;
    stats.outputTokens += usage?.output_tokens ?? 0;
    rates.record({ inputTokens: usage?.input_tokens ?? 0, outputTokens: usage?.output_tokens ?? 0, done: 1 });
    checkReader();
    progress();
    if (settings.delayMs > 0) await sleep(settings.delayMs, stop.signal);
    return itemFinished();
  }

  /** Results piped into a program that has exited (`| head`): stop paying for answers nobody reads. */
  function checkReader(): void {
    if (writer.readerGone) requestStop(new StoppedError('output', 'the program reading the results has exited'));
  }

  async function handleFailure(item: Item, chars: number, attempt: number, rateLimited: number, cost: Cost, err: unknown): Promise<void> {
    const action = classifyFailure(err);
    const unreachable = action.kind === 'transient' && action.errorType === 'api_connection_error';
    if (unreachable) unreachableInARow += 1;
    else {
      unreachableInARow = 0;
      afterAnswer(false);
    }
    switch (action.kind) {
      case 'rate-limited': {
        stats.rateLimited += 1;
        budget.refund(cost, { request: true });
        // A burst of 429s for requests already in flight is one signal, not many: step down once.
        const newPause = budget.onRateLimited(action.retryAfterMs, parseRateLimitHeaders(action.headers));
        if (newPause && !budget.hasLimits) queue.concurrency = Math.max(1, Math.floor(queue.concurrency / 2));
        if (rateLimited + 1 >= MAX_RATE_LIMITED_ATTEMPTS) {
          finishErrored(item, 'rate_limit_error', `still rate limited after ${rateLimited + 1} attempts`);
          return itemFinished();
        }
        if (newPause) run.onNotice?.(`429 rate limited: every worker pauses ${Math.ceil((action.retryAfterMs ?? 1000) / 1000)}s; pace steps down`);
        progress();
        // Back to the front of the line; the budget holds it (and everyone) until retry-after.
        return enqueue(item, chars, attempt, rateLimited + 1, true);
      }
      case 'transient': {
        stats.faults += 1;
        if (unreachableInARow >= UNREACHABLE_IN_A_ROW) {
          // Not this item's fault: the API cannot be reached at all. Stop rather than write every
          // remaining item as errored; they stay pending for a rerun.
          requestStop(new StoppedError('api', `cannot reach the API at ${client.baseURL} (${unreachableInARow} connection failures in a row: ${action.message})`));
          return itemFinished();
        }
        // A dropped connection may have been counted by the API: keep its reservation then.
        if (!action.maybeProcessed) budget.refund(cost, { request: false });
        if (attempt >= settings.maxAttempts) {
          finishErrored(item, action.errorType, `${action.message} (gave up after ${attempt} attempts)`);
          return itemFinished();
        }
        progress();
        const wait = Math.max(backoffMs(attempt, { random }), action.retryAfterMs ?? 0);
        void sleep(wait, stop.signal).then((slept) => {
          if (slept) enqueue(item, chars, attempt + 1, rateLimited, true);
          else itemFinished();
        });
        return;
      }
      case 'item-error': {
        budget.refund(cost, { request: false });
        finishErrored(item, action.errorType, action.message);
        return itemFinished();
      }
      case 'stop': {
        budget.refund(cost, { request: false });
        requestStop(new StoppedError(action.reason, action.message));
        return itemFinished();
      }
    }
  }

  function finishErrored(item: Item, errorType: string, message: string): void {
    writer.write(erroredResult(item.custom_id, errorType, message));
    stats.errored += 1;
    stats.done += 1;
    rates.record({ done: 1 });
    progress();
  }

  const ticker = setInterval(progress, 1000);
  ticker.unref();
  try {
    const backlog = Math.max(16, settings.concurrency * 2);
    for await (const item of run.items) {
      if (stop.signal.aborted) break;
      if (run.isDone(item.custom_id)) {
        stats.skipped += 1;
        stats.succeeded += 1;
        stats.done += 1;
        continue;
      }
      outstanding += 1;
      enqueue(item, estimator.charsOf(item.params), 1, 0, false);
      if (queue.size >= backlog) {
        // No race with the stop signal here (a race against a promise that never settles keeps a
        // reaction per call): once stopped, queued tasks return at once and the queue drains.
        await queue.onSizeLessThan(backlog);
      }
    }
  } finally {
    feederDone = true;
    if (outstanding === 0) settleAll();
  }
  await allSettled;
  await queue.onIdle();
  clearInterval(ticker);
  run.signal.removeEventListener('abort', onUserAbort);
  progress();
  return { stats, stopped, learned: budget.learnedLimits() };
}

/** p-queue's strict interval cap at two seconds' worth of `rpm` per one-second sliding window. */
export function burstBackstop(rpm: number): { interval: number; intervalCap: number; strict: true } {
  return { interval: 1000, intervalCap: Math.max(2, Math.ceil((2 * rpm) / 60)), strict: true };
}
