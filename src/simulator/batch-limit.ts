/**
 * The Message Batches endpoints' own request limit (`batchRpm`): one token bucket per organization
 * for every batch call (create, retrieve, list, cancel, delete, results), apart from the Messages
 * limits, as the real API keeps them. Over it: 429 `rate_limit_error` with `retry-after` and the
 * `anthropic-ratelimit-requests-*` headers of that bucket; under it, the same headers on the answer.
 */
import type { ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import { sendError } from './http-io.js';
import { resetTime } from './rate-limit-headers.js';
import type { SimulatorState } from './state.js';
import { TokenBucket } from './token-bucket.js';

/** Answers a refused batch call itself (so it is not counted as a Messages 429); true when the call may go on. */
export function admitBatchCall(state: SimulatorState, organization: string, res: ServerResponse, requestId: string): boolean {
  state.counters.batchRequests++;
  const rpm = state.options.batchRpm;
  if (rpm === undefined) return true;
  const now = Date.now();
  let bucket = state.batchBuckets.get(organization);
  if (!bucket || bucket.limitPerMinute !== rpm) {
    bucket = new TokenBucket(rpm, state.options.burstSeconds, now);
    state.batchBuckets.set(organization, bucket);
  }
  const waitMs = bucket.waitMs(1, now);
  if (waitMs === 0) bucket.take(1, now);
  const headers = {
    'anthropic-ratelimit-requests-limit': String(rpm),
    'anthropic-ratelimit-requests-remaining': String(Math.max(0, Math.floor(bucket.level(now) + 1e-9))),
    'anthropic-ratelimit-requests-reset': resetTime(bucket.fullAt(now)),
  };
  if (waitMs === 0) {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return true;
  }
  state.counters.batchRateLimited++;
  const message = `This request would exceed your organization's rate limit of ${rpm} requests per minute to the Message Batches API`;
  sendError(res, new ApiError(429, 'rate_limit_error', message, { headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))), ...headers } }), requestId);
  return false;
}
