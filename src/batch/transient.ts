/**
 * The one retry loop of the batch layer (the SDK client has `maxRetries: 0`). Polling, downloading,
 * listing and creating batches wait out a 429, a 5xx, a 529 or a dropped connection with jittered
 * exponential backoff, a `retry-after` / `retry-after-ms` honoured (src/api-failure.ts reads them).
 * A rejected key or a reached spend limit stops at once; so does Ctrl-C, between attempts.
 */
import { APIError } from '@anthropic-ai/sdk/core/error';
import { backoffMs, classifyFailure } from '../api-failure.js';
import { sleep } from '../sleep.js';
import { formatDuration } from '../ui/format.js';
import { StoppedError } from '../errors.js';

/** 401/403, or a 429 because the spend limit is reached: retrying cannot help. */
export function asStop(err: unknown): StoppedError | undefined {
  const action = classifyFailure(err);
  return action.kind === 'stop' ? new StoppedError(action.reason, action.message, { cause: err }) : undefined;
}

export interface RetryOptions {
  /** Attempts in all; Infinity while waiting on a job that may take a day. Default 6. */
  maxAttempts?: number;
  /** First backoff, ms. Default 1000. */
  baseMs?: number;
  /** Longest backoff, ms. Default 60,000. */
  maxMs?: number;
  /** Which transient failures (429, 5xx, 529, dropped connections) to retry. Default: all of them. */
  retryIf?: (err: unknown) => boolean;
  /** Aborted by Ctrl-C: no further attempt is made, and StoppedError('interrupted') is thrown. */
  signal?: AbortSignal;
  /** What the calls are for, in the interrupted message: "waiting for the batches". */
  task?: string;
  /** Told about each retry, e.g. to print "retrying in 2 s". */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /**
   * `queue_overflow: fail`: a 429 that asks for a longer wait than this ends the retries with
   * StoppedError('queue-timeout') instead. Default: wait as long as the API asks.
   */
  maxRateLimitWaitMs?: number;
}

/**
 * Calls `fn` until it succeeds, a non-transient error is thrown, or the attempts run out. Throws
 * StoppedError for a rejected key or spend limit, and StoppedError('interrupted') when `signal`
 * aborts before or during the pause between attempts.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const action = classifyFailure(err);
      if (action.kind === 'stop') throw new StoppedError(action.reason, action.message, { cause: err });
      const transient = action.kind === 'transient' || action.kind === 'rate-limited';
      if (!transient || (options.retryIf && !options.retryIf(err)) || attempt >= maxAttempts) throw err;
      const delay = Math.max(action.retryAfterMs ?? 0, backoffMs(attempt, { baseMs, maxMs }));
      if (action.kind === 'rate-limited' && options.maxRateLimitWaitMs !== undefined && delay > options.maxRateLimitWaitMs) {
        throw new StoppedError(
          'queue-timeout',
          `${options.task ?? 'the request'}: the API is rate limiting it and asks to wait ${formatDuration(delay)}, longer than queue_timeout_ms (${options.maxRateLimitWaitMs}) allows; stopping because queue_overflow is "fail"`,
          { cause: err },
        );
      }
      let slept = false;
      if (!options.signal?.aborted) {
        options.onRetry?.(err, attempt, delay);
        slept = await sleep(delay, options.signal);
      }
      // `sleep` is also false when the signal aborted before it began; either way, no further attempt.
      if (!slept || options.signal?.aborted) {
        throw new StoppedError(
          'interrupted',
          `interrupted while ${options.task ?? 'retrying'} (the last attempt failed: ${describeError(err)})`,
          { cause: err },
        );
      }
    }
  }
}

export function describeError(err: unknown): string {
  if (err instanceof APIError && err.status) return `${err.status} ${err.type ?? ''}`.trim();
  return err instanceof Error ? err.message : String(err);
}
