/**
 * POST /v1/messages and /v1/messages/count_tokens. The order of checks follows the real API:
 * body, credentials, validation, spend cap; then the fault draws (a faulted request is never
 * charged), then the rate limiter, then latency, then the deterministic reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from './api-error.js';
import { authenticate } from './auth.js';
import { readJson, sendJson } from './http-io.js';
import { classCounters, type ClassCounters } from './counters.js';
import { cacheReadsCountAsInput, modelClass } from './model-classes.js';
import { cacheCreationTokens } from './prompt-cache.js';
import { promptLayout } from './prompt-layout.js';
import { checkMessageParams } from './params-check.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { countTokens, promptKey, simulatedMessage, type PromptParams, type SimulatedUsage } from './replies.js';
import { cacheSettings, type SimulatorState } from './state.js';

/** The real API's request size limit for the Messages endpoint. */
const MESSAGE_MAX_BYTES = 32 * 1024 * 1024;

// Unref'd: an open socket keeps the process alive anyway, and after close() a pending latency
// timer must not hold `claw-batch simulate` (or a test worker) open.
const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms).unref()) : Promise.resolve());

const BY_LIMIT = { requests: 'requests', 'input-tokens': 'inputTokens', 'output-tokens': 'outputTokens' } as const;

function spendCapError(headers: Record<string, string>): ApiError {
  return new ApiError(
    429,
    'rate_limit_error',
    "This request would exceed your organization's spend limit; raise the limit in the Console to continue.",
    { details: { error_code: 'enforced_spend_limit_reached' }, headers },
  );
}

export async function handleMessage(state: SimulatorState, req: IncomingMessage, res: ServerResponse, requestId: string) {
  const { counters } = state;
  const receivedAt = Date.now();
  counters.requests++;
  counters.firstRequestAt ??= receivedAt;
  counters.lastRequestAt = receivedAt;
  state.inFlight++;
  if (state.inFlight > counters.peakInFlight) counters.peakInFlight = state.inFlight;
  res.once('close', () => state.inFlight--);

  const body = await readJson(req, MESSAGE_MAX_BYTES);
  const opts = state.options;
  authenticate(req, opts.rejectKeys);
  if ((body as { stream?: unknown } | null)?.stream === true) {
    throw badRequest('stream: streaming is not supported by the simulator');
  }
  const problem = checkMessageParams(body);
  if (problem) throw problem;
  const params = body as PromptParams & { model: string; max_tokens: number };
  const className = modelClass(params.model);
  const classCount = classCounters(counters, className);
  classCount.requests++;
  const budget = state.limits.budget(className, receivedAt);
  const headersNow = () => rateLimitHeaders(budget, Date.now(), opts.exactHeaders);

  if (opts.spendLimitAfter !== undefined && state.spendUsed >= opts.spendLimitAfter) {
    classCount.rateLimited++;
    throw spendCapError(headersNow());
  }

  // Every request takes the same five draws whatever the rates, so a seed replays the same faults.
  const { random } = state;
  const drop = random() < opts.dropRate;
  const overloaded = random() < opts.rate529;
  const failed = random() < opts.rate500;
  const slow = random() < opts.slowRate;
  const jitter = (random() * 2 - 1) * opts.jitterMs;
  const delayMs = Math.max(0, opts.latencyMs + jitter) + (slow ? opts.slowMs : 0);

  if (drop || overloaded || failed) {
    await sleep(delayMs);
    if (drop) {
      counters.dropped++;
      req.socket.destroy();
      return;
    }
    if (overloaded) throw new ApiError(529, 'overloaded_error', 'Overloaded');
    throw new ApiError(500, 'api_error', 'Internal server error');
  }

  const admittedAt = Date.now();
  const cache = state.cache.plan(params.model, promptLayout(params), admittedAt, cacheSettings(state));
  // ITPM counts uncached input and cache writes; cache reads only for the class the API names.
  const inputCost =
    cache.inputTokens + cacheCreationTokens(cache) + (cacheReadsCountAsInput(className) ? cache.cacheReadTokens : 0);
  const admission = budget.admit({ inputTokens: inputCost, maxTokens: params.max_tokens }, admittedAt);
  if (!admission.ok) {
    classCount.rateLimited++;
    counters.rateLimitedBy[BY_LIMIT[admission.limit]]++;
    throw new ApiError(429, 'rate_limit_error', admission.message, {
      headers: { 'retry-after': String(admission.retryAfterSeconds), ...rateLimitHeaders(budget, admittedAt, opts.exactHeaders) },
    });
  }
  state.spendUsed++;
  state.cache.read(cache, admittedAt);

  const key = promptKey(params);
  const message = simulatedMessage(params, { key, cache });
  const output = budget.chargeOutput(message.usage.output_tokens, params.max_tokens, admittedAt, admittedAt + delayMs, admittedAt);
  await sleep(delayMs);
  // A client that gave up (timeout) gets nothing, is not counted as served, and its answer stops.
  if (res.destroyed) {
    output.stop(Date.now());
    return;
  }
  const finishedAt = Date.now();
  output.finish(finishedAt);
  state.cache.commit(cache, finishedAt);
  countSuccess(state, classCount, message.usage);
  counters.successesByPrompt[key] = (counters.successesByPrompt[key] ?? 0) + 1;
  sendJson(res, 200, message, requestId, headersNow());
}

function countSuccess(state: SimulatorState, classCount: ClassCounters, usage: SimulatedUsage): void {
  const { counters } = state;
  counters.succeeded++;
  classCount.succeeded++;
  counters.inputTokens += usage.input_tokens;
  classCount.inputTokens += usage.input_tokens;
  counters.outputTokens += usage.output_tokens;
  classCount.outputTokens += usage.output_tokens;
  if (usage.cache_creation_input_tokens > 0) {
    counters.cacheWrites++;
    counters.cacheCreationInputTokens += usage.cache_creation_input_tokens;
    classCount.cacheCreationInputTokens += usage.cache_creation_input_tokens;
  }
  if (usage.cache_read_input_tokens > 0) {
    counters.cacheReads++;
    counters.cacheReadInputTokens += usage.cache_read_input_tokens;
    classCount.cacheReadInputTokens += usage.cache_read_input_tokens;
  }
}

export async function handleCountTokens(state: SimulatorState, req: IncomingMessage, res: ServerResponse, requestId: string) {
  const body = await readJson(req, MESSAGE_MAX_BYTES);
  // count_tokens takes no max_tokens; check the rest as /v1/messages would.
  const problem = checkMessageParams(body && typeof body === 'object' ? { max_tokens: 1, ...body } : body);
  if (problem) throw problem;
  sendJson(res, 200, { input_tokens: countTokens(body as PromptParams) }, requestId);
}
