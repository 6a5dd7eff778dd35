/**
 * What a wrapped client's call can fail with besides the SDK's own errors (which come through
 * unchanged: `Anthropic.APIError` and its subclasses, for a request's own 400, a 5xx, a 529).
 * Each class is a case a caller branches on.
 */
import { ClawError, ExitCode } from '../errors.js';

/** The call's AbortSignal (or the wrapper's) fired before its answer came: nothing more is sent for it. */
export class AbortedError extends ClawError {
  constructor(message = 'the request was aborted') {
    super(message, ExitCode.stopped);
  }
}

/** `close()` was called: the wrapper sends nothing more. */
export class ClientClosedError extends ClawError {
  constructor() {
    super('the paced client is closed', ExitCode.stopped);
  }
}

/**
 * The request waited `maxWaitMs` for its turn under the rate limit without being answered.
 * `cause` is the API's last 429 for it (an `Anthropic.RateLimitError`), when there was one.
 */
export class RateLimitWaitError extends ClawError {
  readonly waitedMs: number;
  constructor(waitedMs: number, cause?: unknown) {
    super(`waited ${Math.round(waitedMs / 1000)}s (maxWaitMs) for the rate limit without an answer`, ExitCode.stopped, { cause });
    this.waitedMs = waitedMs;
  }
}
