/**
 * What to do with a failed call. The scheduler owns every retry (the SDK client has
 * `maxRetries: 0`), so this is the one place that decides:
 * - 429 rate_limit_error: pause every worker for `retry-after`, put the item back in front;
 * - 429 with `enforced_spend_limit_reached`, 401, 403: stop the whole run (exit 3);
 * - 500, 529, other 5xx, 408, timeouts and dropped connections: back off and retry the item,
 *   up to `--max-attempts`;
 * - any other 4xx (400, 404, 413, 422 …): an errored result at once, no retry.
 */
import { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import type { StopReason } from '../errors.js';
import { redact } from '../secrets.js';
import { parseRateLimitHeaders, retryAfterMs, type RateLimitHeaders } from './rate-limit-headers.js';

export type FailureAction =
  | { kind: 'rate-limited'; retryAfterMs: number | undefined; headers: RateLimitHeaders }
  | { kind: 'transient'; errorType: string; message: string; retryAfterMs: number | undefined; maybeProcessed: boolean }
  | { kind: 'item-error'; errorType: string; message: string }
  | { kind: 'stop'; reason: StopReason; message: string };

interface ApiErrorBody {
  type?: string;
  message?: string;
  details?: { error_code?: string };
}

function errorBody(err: APIError): ApiErrorBody {
  const e = err.error as { error?: ApiErrorBody } | undefined;
  return e?.error ?? {};
}

export function classifyFailure(err: unknown): FailureAction {
  if (err instanceof APIConnectionError) {
    // Includes timeouts. The request may have reached the API before the connection dropped.
    return {
      kind: 'transient',
      errorType: 'api_connection_error',
      message: redact(err.message || 'connection error'),
      retryAfterMs: undefined,
      maybeProcessed: true,
    };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const body = errorBody(err);
    const errorType = body.type ?? `http_${err.status}`;
    const message = redact(body.message ?? err.message);
    const status = err.status;
    if (status === 429) {
      if (body.details?.error_code === 'enforced_spend_limit_reached') {
        return { kind: 'stop', reason: 'spend-limit', message: `the account's spend limit is reached (${message})` };
      }
      return { kind: 'rate-limited', retryAfterMs: retryAfterMs(err.headers), headers: parseRateLimitHeaders(err.headers) };
    }
    if (status === 401) return { kind: 'stop', reason: 'auth', message: `the API rejected the API key (401 ${errorType})` };
    if (status === 403) return { kind: 'stop', reason: 'auth', message: `the API key is not allowed to do this (403 ${errorType}: ${message})` };
    if (status === 408 || status >= 500) {
      return { kind: 'transient', errorType, message, retryAfterMs: retryAfterMs(err.headers), maybeProcessed: false };
    }
    return { kind: 'item-error', errorType, message };
  }
  // Anything else is a bug or an unexpected client failure: report it on the item, do not retry.
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'item-error', errorType: 'client_error', message: redact(message) };
}

/**
 * Jittered exponential backoff for attempt `attempt` (1-based, the attempt that just failed):
 * 0.5 s, 1 s, 2 s … capped at 30 s, each scaled by a random factor in [0.5, 1).
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + random() / 2));
}
