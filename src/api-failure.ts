/**
 * What a failed API call means, in one place for both layers that call the API (the real-time
 * scheduler and the batch poller). The SDK client has `maxRetries: 0`, so these decide every retry:
 * - 429 rate_limit_error: wait `retry-after` (the scheduler pauses every worker), then retry;
 * - 429 with `enforced_spend_limit_reached`, 401, 403, and the billing refusals (402
 *   `billing_error`, the 400s "Your credit balance is too low" and "You have reached your specified
 *   (workspace) API usage limits"): stop the whole run (exit 3); the items not done stay pending;
 * - 500, 529, other 5xx, 408, 409, timeouts, dropped connections, stalled streams and bodies cut off
 *   mid-stream: back off and retry, up to a number of attempts;
 * - any other 4xx (400, 404, 413, 422 …): the request's own fault; no retry.
 * `x-should-retry` overrides the status where the API sends it: `false` turns a 5xx into the item's
 * error, `true` turns a 4xx into a retry.
 */
import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk/core/error';
import type { StopReason } from './errors.js';
import { redact } from './secrets.js';

type HeaderSource = { get(name: string): string | null } | undefined | null;

export type FailureAction =
  | { kind: 'rate-limited'; retryAfterMs: number | undefined; headers: HeaderSource; message: string }
  /** We aborted it ourselves (a stop): not the item's fault, it stays pending. */
  | { kind: 'aborted' }
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

/** A response body cut off mid-stream surfaces as undici's TypeError('terminated') or a socket error. */
function isCutOff(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return /^(terminated|fetch failed)$/.test(err.message) || /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_\w+)$/.test(code ?? '');
}

/** The 400s the API answers once a spend limit set in the Console, or the credit balance, is reached. */
const SPEND_LIMIT_400 = /^You have reached your specified (workspace )?API usage limits/i;
const CREDIT_400 = /credit balance is too low/i;

export function classifyFailure(err: unknown): FailureAction {
  if (err instanceof APIUserAbortError) return { kind: 'aborted' };
  if (err instanceof Error && err.name === 'StalledError') {
    // The API may have started on it (and counted it) before it went quiet.
    return { kind: 'transient', errorType: 'api_timeout', message: redact(err.message), retryAfterMs: undefined, maybeProcessed: true };
  }
  if (err instanceof APIConnectionError) {
    // Includes timeouts. The request may have reached the API before the connection dropped.
    const message = redact(err.message || 'connection error');
    return { kind: 'transient', errorType: 'api_connection_error', message, retryAfterMs: undefined, maybeProcessed: true };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const body = errorBody(err);
    const errorType = body.type ?? `http_${err.status}`;
    const message = redact(body.message ?? err.message);
    const status = err.status;
    if (status === 429) {
      if (body.details?.error_code === 'enforced_spend_limit_reached') {
        return { kind: 'stop', reason: 'spend-limit', message: "the account's spend limit is reached; raise it in the Console, then rerun" };
      }
      return { kind: 'rate-limited', retryAfterMs: retryAfterMs(err.headers), headers: err.headers, message };
    }
    if (status === 402 || errorType === 'billing_error') {
      return { kind: 'stop', reason: 'billing', message: `the API refused the request for billing (${status} ${errorType}: ${message}); fix billing in the Console, then rerun` };
    }
    if (status === 400 && SPEND_LIMIT_400.test(message)) {
      return { kind: 'stop', reason: 'spend-limit', message: `the spend limit set for this ${/workspace/i.test(message) ? 'workspace' : 'organization'} is reached (${message}); raise it in the Console or wait, then rerun` };
    }
    if (status === 400 && CREDIT_400.test(message)) {
      return { kind: 'stop', reason: 'billing', message: 'the credit balance is too low; add credits in the Console (Plans & Billing), then rerun' };
    }
    if (status === 401) {
      return { kind: 'stop', reason: 'auth', message: `the API rejected the API key (401 ${errorType}); check ANTHROPIC_API_KEY` };
    }
    if (status === 403) {
      return { kind: 'stop', reason: 'auth', message: `the API key is not allowed to do this (403 ${errorType}: ${message})` };
    }
    const shouldRetry = err.headers?.get('x-should-retry');
    const transient = shouldRetry === 'true' || (shouldRetry !== 'false' && (status === 408 || status === 409 || status >= 500));
    if (transient) {
      return { kind: 'transient', errorType, message, retryAfterMs: retryAfterMs(err.headers), maybeProcessed: false };
    }
    return { kind: 'item-error', errorType, message };
  }
  if (err instanceof Error && isCutOff(err)) {
    return { kind: 'transient', errorType: 'api_connection_error', message: redact(err.message), retryAfterMs: undefined, maybeProcessed: true };
  }
  // Anything else is a bug or an unexpected client failure: report it, do not retry.
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'item-error', errorType: 'client_error', message: redact(message) };
}

/** The wait a response asks for, in ms: `retry-after-ms` if present, else `retry-after` seconds or HTTP date. */
export function retryAfterMs(headers: HeaderSource, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const msRaw = headers.get('retry-after-ms');
  const ms = Number(msRaw);
  if (msRaw !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/**
 * Jittered exponential backoff after failed attempt `attempt` (1-based): `baseMs`, twice that …
 * capped at `maxMs`, each scaled by a random factor in [0.5, 1).
 */
export function backoffMs(attempt: number, options: { baseMs?: number; maxMs?: number; random?: () => number } = {}): number {
  const base = Math.min(options.maxMs ?? 30_000, (options.baseMs ?? 500) * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + (options.random ?? Math.random)() / 2));
}
