/**
 * The `anthropic-ratelimit-*` headers as the API sends them, for the class of the request's model:
 * `-requests-`, `-input-tokens-`, `-output-tokens-`, each `-limit`, `-remaining`, `-reset`, plus
 * `-tokens-` showing whichever token limit is most restrictive now (least remaining relative to
 * its limit). Token `-remaining` is rounded to the nearest thousand; requests `-remaining` is a
 * whole number; every `-reset` is RFC 3339 at second precision, rounded up. `exact` (the
 * `exactHeaders` option, for unit tests of bucket math) gives whole tokens and millisecond resets.
 * Limits that are not set are not reported.
 */
import type { BucketReading, ClassBudget } from './class-budget.js';

/** Formatted resets by epoch second: most answers in a second share a handful (formatting dominated the headers' cost). */
const formatted = new Map<number, string>();

/** RFC 3339 at second precision, rounded up: `2026-03-01T12:00:05Z`. */
export function resetTime(epochMs: number): string {
  const second = Math.ceil(epochMs / 1000);
  let text = formatted.get(second);
  if (text === undefined) {
    if (formatted.size >= 256) formatted.clear();
    text = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    formatted.set(second, text);
  }
  return text;
}

function wholeRemaining(bucket: BucketReading, now: number): number {
  return Math.max(0, Math.floor(bucket.level(now) + 1e-9));
}

function tokensRemaining(bucket: BucketReading, now: number, exact: boolean): number {
  const level = Math.max(0, bucket.level(now));
  return exact ? Math.floor(level + 1e-9) : Math.round(level / 1000) * 1000;
}

export function rateLimitHeaders(budget: Pick<ClassBudget, 'requests' | 'input' | 'output'>, now: number, exact: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const reset = (bucket: BucketReading) => (exact ? new Date(Math.ceil(bucket.fullAt(now))).toISOString() : resetTime(bucket.fullAt(now)));
  if (budget.requests) {
    out['anthropic-ratelimit-requests-limit'] = String(budget.requests.limitPerMinute);
    out['anthropic-ratelimit-requests-remaining'] = String(wholeRemaining(budget.requests, now));
    out['anthropic-ratelimit-requests-reset'] = reset(budget.requests);
  }
  let tightest: { bucket: BucketReading; share: number } | undefined;
  for (const [name, bucket] of [
    ['input-tokens', budget.input],
    ['output-tokens', budget.output],
  ] as const) {
    if (!bucket) continue;
    out[`anthropic-ratelimit-${name}-limit`] = String(bucket.limitPerMinute);
    out[`anthropic-ratelimit-${name}-remaining`] = String(tokensRemaining(bucket, now, exact));
    out[`anthropic-ratelimit-${name}-reset`] = reset(bucket);
    const share = bucket.level(now) / bucket.capacity;
    if (!tightest || share < tightest.share) tightest = { bucket, share };
  }
  if (tightest) {
    out['anthropic-ratelimit-tokens-limit'] = String(tightest.bucket.limitPerMinute);
    out['anthropic-ratelimit-tokens-remaining'] = String(tokensRemaining(tightest.bucket, now, exact));
    out['anthropic-ratelimit-tokens-reset'] = reset(tightest.bucket);
  }
  return out;
}
