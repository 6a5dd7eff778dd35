/**
 * Reads the API's rate-limit headers: `anthropic-ratelimit-{requests,input-tokens,output-tokens}-
 * {limit,remaining,reset}`, and `retry-after` / `retry-after-ms` on a 429.
 */
export interface LimitReading {
  limit: number;
  remaining?: number;
  /** ms since epoch when the bucket is full again. */
  resetAt?: number;
}

export interface RateLimitHeaders {
  requests?: LimitReading;
  inputTokens?: LimitReading;
  outputTokens?: LimitReading;
}

type HeaderSource = { get(name: string): string | null } | undefined | null;

function reading(headers: NonNullable<HeaderSource>, name: string): LimitReading | undefined {
  const limit = Number(headers.get(`anthropic-ratelimit-${name}-limit`));
  if (!Number.isFinite(limit) || limit <= 0) return undefined;
  const remainingRaw = headers.get(`anthropic-ratelimit-${name}-remaining`);
  const resetRaw = headers.get(`anthropic-ratelimit-${name}-reset`);
  const remaining = remainingRaw === null ? undefined : Number(remainingRaw);
  const resetAt = resetRaw === null ? undefined : Date.parse(resetRaw);
  return {
    limit,
    remaining: remaining !== undefined && Number.isFinite(remaining) ? remaining : undefined,
    resetAt: resetAt !== undefined && Number.isFinite(resetAt) ? resetAt : undefined,
  };
}

export function parseRateLimitHeaders(headers: HeaderSource): RateLimitHeaders {
  if (!headers) return {};
  return {
    requests: reading(headers, 'requests'),
    inputTokens: reading(headers, 'input-tokens'),
    outputTokens: reading(headers, 'output-tokens'),
  };
}

/** The wait a 429 asks for, in ms: `retry-after-ms` if present, else `retry-after` seconds or HTTP date. */
export function retryAfterMs(headers: HeaderSource, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
