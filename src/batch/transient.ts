/**
 * The one retry loop of the batch layer (the SDK client has `maxRetries: 0`). Polling and
 * downloading can wait out a 429, a 5xx, a 529 or a dropped connection: those are retried with
 * jittered exponential backoff (a 429's `retry-after` honoured). A rejected key stops at once.
 */
import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { StoppedError } from '../errors.js';

/** Worth trying again: rate limited, overloaded, a server error, a timeout, a dropped connection. */
export function isTransient(err: unknown): boolean {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true;
  if (err instanceof APIError) {
    const s = err.status ?? 0;
    return s === 408 || s === 409 || s === 429 || s >= 500;
  }
  // A body cut off mid-stream surfaces as undici's TypeError('terminated'), or a socket error.
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return /^(terminated|fetch failed)$/.test(err.message) || /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_\w+)$/.test(code ?? '');
}

/** 401/403, or a 429 because the spend limit is reached: retrying cannot help. */
export function asStop(err: unknown): StoppedError | undefined {
  if (!(err instanceof APIError)) return undefined;
  if (err.status === 401 || err.status === 403) {
    return new StoppedError('auth', `the API rejected the credentials (${err.status}); check ANTHROPIC_API_KEY`, { cause: err });
  }
  if (err.status === 429 && err.errorCode === 'enforced_spend_limit_reached') {
    return new StoppedError('spend-limit', 'the account reached its spend limit; raise it in the Console, then rerun', { cause: err });
  }
  return undefined;
}

function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof APIError) || !err.headers) return undefined;
  const ms = Number(err.headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = Number(err.headers.get('retry-after'));
  return Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller checks `signal.aborted`). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  /** Attempts in all; Infinity while waiting on a job that may take a day. Default 6. */
  maxAttempts?: number;
  /** First backoff, ms. Default 1000. */
  baseMs?: number;
  /** Longest backoff, ms. Default 60,000. */
  maxMs?: number;
  signal?: AbortSignal;
  /** Told about each retry, e.g. to print "retrying in 2 s". */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `fn` until it succeeds, a non-transient error is thrown, or the attempts run out. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const stop = asStop(err);
      if (stop) throw stop;
      if (!isTransient(err) || attempt >= maxAttempts || options.signal?.aborted) throw err;
      const backoff = Math.min(maxMs, baseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      const delay = Math.max(retryAfterMs(err) ?? 0, backoff);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}

export function describeError(err: unknown): string {
  if (err instanceof APIError && err.status) return `${err.status} ${err.type ?? ''}`.trim();
  return err instanceof Error ? err.message : String(err);
}
