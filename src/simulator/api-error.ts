/**
 * An error the simulator answers with, in the real API's shape:
 * `{"type":"error","error":{"type":...,"message":...},"request_id":"req_..."}`, and with
 * `x-should-retry`: true for 408, 409, 429 rate limits and 5xx; false for the rest (and for the
 * spend cap, whose 429 is not worth retrying).
 */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'billing_error'
  | 'api_error'
  | 'overloaded_error';

const RETRYABLE = new Set([408, 409, 429]);

export class ApiError extends Error {
  readonly status: number;
  readonly type: ApiErrorType;
  /** Extra fields inside `error` (the spend cap's `details`). */
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers (`retry-after`, rate-limit headers). */
  readonly headers: Record<string, string>;
  /** What `x-should-retry` says. */
  readonly shouldRetry: boolean;

  constructor(
    status: number,
    type: ApiErrorType,
    message: string,
    extra: { details?: Record<string, unknown>; headers?: Record<string, string>; shouldRetry?: boolean } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.details = extra.details;
    this.headers = extra.headers ?? {};
    this.shouldRetry = extra.shouldRetry ?? (RETRYABLE.has(status) || status >= 500);
  }

  body(requestId: string): unknown {
    const error: Record<string, unknown> = { type: this.type, message: this.message };
    if (this.details) error.details = this.details;
    return { type: 'error', error, request_id: requestId };
  }
}

export const badRequest = (message: string) => new ApiError(400, 'invalid_request_error', message);
export const notFound = (message: string) => new ApiError(404, 'not_found_error', message);
