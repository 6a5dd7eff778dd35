/**
 * Reads the API's rate-limit headers: `anthropic-ratelimit-{requests,input-tokens,output-tokens}-
 * {limit,remaining,reset}`. (`retry-after` is read in src/api-failure.ts.)
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

export type HeaderSource = { get(name: string): string | null } | undefined | null;

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
