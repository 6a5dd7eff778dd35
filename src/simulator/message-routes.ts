/**
 * POST /v1/messages and /v1/messages/count_tokens. The order of checks follows the real API:
 * body, credentials, validation, spend cap and billing; then the fault draws (a faulted request is
 * never charged), then the prompt cache and the rate limiter of the model's class, then the
 * answer: as JSON after its whole duration, or streamed as it is produced.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import { authenticate } from './auth.js';
import { billingRefusal, spendCapError } from './billing.js';
import { classCounters, organizationCounters, type ClassCounters } from './counters.js';
import { drawFaults, latencyOf, responseTiming } from './fault-draws.js';
import { readJson, sendJson } from './http-io.js';
import { cacheReadsCountAsInput, modelClass } from './model-classes.js';
import { checkMessageParams } from './params-check.js';
import { cacheCreationTokens } from './prompt-cache.js';
import { promptLayout } from './prompt-layout.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { budgetsOf, tightest } from './organizations.js';
import { admitAll, type OutputCharge } from './class-budget.js';
import { countTokens, promptKey, simulatedMessage, type PromptParams, type SimulatedUsage } from './replies.js';
import { cacheSettings, type SimulatorState } from './state.js';
import { streamMessage } from './stream-reply.js';
import { untilClosed, waitUntil } from './wait.js';

/** The real API's request size limit for the Messages endpoint. */
const MESSAGE_MAX_BYTES = 32 * 1024 * 1024;

const BY_LIMIT = { requests: 'requests', 'input-tokens': 'inputTokens', 'output-tokens': 'outputTokens' } as const;

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
  const tenancy = state.organizations.of(authenticate(req, opts.rejectKeys));
  const problem = checkMessageParams(body);
  if (problem) throw problem;
  const params = body as PromptParams & { model: string; max_tokens: number; stream?: unknown };
  const stream = params.stream === true;
  const className = modelClass(params.model);
  const classCount = classCounters(counters, className);
  classCount.requests++;
  const budgets = budgetsOf(tenancy, className, receivedAt);
  // The headers show the tighter of a workspace's limit and its organization's.
  const budget = tightest(budgets);
  const orgCount = organizationCounters(counters, tenancy.workspace ? `${tenancy.organization}/${tenancy.workspace}` : tenancy.organization);
  orgCount.requests++;
  orgCount.firstRequestAt ??= receivedAt;
  orgCount.lastRequestAt = receivedAt;

  if (opts.spendLimitAfter !== undefined && state.spendUsed >= opts.spendLimitAfter) {
    classCount.rateLimited++;
    throw spendCapError(rateLimitHeaders(budget, Date.now(), opts.exactHeaders));
  }
  if (opts.billingRefusalAfter !== undefined && state.billingUsed >= opts.billingRefusalAfter) {
    throw billingRefusal(opts.billingRefusal);
  }

  const draws = drawFaults(state.random, opts);
  if (draws.drop || draws.overloaded || draws.failed) {
    if (!(await waitUntil(res, Date.now() + latencyOf(draws, opts)))) return;
    if (draws.drop) {
      counters.dropped++;
      req.socket.destroy();
      return;
    }
    if (draws.overloaded) throw new ApiError(529, 'overloaded_error', 'Overloaded');
    throw new ApiError(500, 'api_error', 'Internal server error');
  }
  if (draws.hang) {
    // Accepted, then nothing at all (no headers, no bytes) until the client gives up.
    counters.hung++;
    await untilClosed(res);
    return;
  }

  const admittedAt = Date.now();
  const cache = state.cache.plan(params.model, promptLayout(params), admittedAt, cacheSettings(state));
  // ITPM counts uncached input and cache writes; cache reads only for the class the API names.
  const inputCost = cache.inputTokens + cacheCreationTokens(cache) + (cacheReadsCountAsInput(className) ? cache.cacheReadTokens : 0);
  const admission = admitAll(budgets, { inputTokens: inputCost, maxTokens: params.max_tokens }, admittedAt);
  if (!admission.ok) {
    classCount.rateLimited++;
    orgCount.rateLimited++;
    counters.rateLimitedBy[BY_LIMIT[admission.limit]]++;
    throw new ApiError(429, 'rate_limit_error', admission.message, {
      headers: { 'retry-after': String(admission.retryAfterSeconds), ...rateLimitHeaders(budget, admittedAt, opts.exactHeaders) },
    });
  }
  state.spendUsed++;
  state.billingUsed++;
  state.cache.read(cache, admittedAt);

  const key = promptKey(params);
  const message = simulatedMessage(params, { key, cache, replyTokens: opts.replyTokens, invalidStructured: draws.invalidStructured });
  const outputTokens = message.usage.output_tokens;
  const timing = responseTiming(draws, opts, outputTokens);
  const outputStart = admittedAt + timing.outputStartMs;
  const outputEnd = admittedAt + timing.outputEndMs;
  const output = chargeAll(budgets, outputTokens, params.max_tokens, outputStart, outputEnd, admittedAt);

  if (stream) {
    counters.streamed++;
    const headers = rateLimitHeaders(budget, Date.now(), opts.exactHeaders);
    const outcome = await streamMessage(res, requestId, headers, message, {
      outputStart,
      outputEnd,
      stall: draws.stall,
      onStall: (at) => {
        counters.stalled++;
        output.stop(at);
      },
      // The API makes a cache entry readable once the response that writes it has begun.
      onOutputStart: (at) => state.cache.commit(cache, at),
    });
    if (outcome.kind === 'aborted') {
      counters.clientAborts++;
      output.stop(outcome.at);
    }
    if (outcome.kind !== 'done') return;
  } else {
    // A client that gives up (a timeout) gets nothing, is not counted as served, and its answer stops.
    if (!(await waitUntil(res, outputEnd))) {
      counters.clientAborts++;
      output.stop(Date.now());
      return;
    }
  }
  // Settled before the last bytes go out, so the headers of a JSON answer already show the refund.
  const finishedAt = Date.now();
  output.finish(finishedAt);
  state.cache.commit(cache, finishedAt);
  if (!stream) sendJson(res, 200, message, requestId, rateLimitHeaders(budget, finishedAt, opts.exactHeaders));
  countSuccess(state, classCount, message.usage);
  orgCount.succeeded++;
  orgCount.inputTokens += message.usage.input_tokens + message.usage.cache_creation_input_tokens;
  orgCount.outputTokens += message.usage.output_tokens;
  counters.successesByPrompt[key] = (counters.successesByPrompt[key] ?? 0) + 1;
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

/** Output charged to every budget the request spends (a workspace's and its organization's). */
function chargeAll(budgets: ReturnType<typeof budgetsOf>, tokens: number, maxTokens: number, start: number, end: number, now: number): OutputCharge {
  const charges = budgets.map((b) => b.chargeOutput(tokens, maxTokens, start, end, now));
  if (charges.length === 1) return charges[0]!;
  return {
    finish: (at) => charges.forEach((c) => c.finish(at)),
    stop: (at) => charges.forEach((c) => c.stop(at)),
  };
}
