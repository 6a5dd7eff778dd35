/**
 * The account's three per-minute limits (requests, input tokens, output tokens) as the real API
 * enforces them: a request reserves 1 request, its input tokens and its whole `max_tokens` of
 * output up front; the unused output is refunded when it finishes. A refused request consumes
 * nothing.
 */
import { TokenBucket } from './token-bucket.js';

export type LimitName = 'requests' | 'input-tokens' | 'output-tokens';

const UNITS: Record<LimitName, string> = {
  requests: 'requests',
  'input-tokens': 'input tokens',
  'output-tokens': 'output tokens',
};

export interface LimitSettings {
  rpm?: number;
  itpm?: number;
  otpm?: number;
  burstSeconds: number;
}

export type Admission =
  | { ok: true }
  | { ok: false; limit: LimitName; limitPerMinute: number; retryAfterSeconds: number; message: string };

export class RateLimits {
  private buckets = new Map<LimitName, TokenBucket>();
  private settings: LimitSettings = { burstSeconds: 1 };

  /** Applies new limits; a bucket whose limit or burst changed starts over, full. */
  configure(next: LimitSettings, now = Date.now()): void {
    const burstChanged = next.burstSeconds !== this.settings.burstSeconds;
    const wanted: [LimitName, number | undefined][] = [
      ['requests', next.rpm],
      ['input-tokens', next.itpm],
      ['output-tokens', next.otpm],
    ];
    for (const [name, limit] of wanted) {
      const current = this.buckets.get(name);
      if (limit === undefined) this.buckets.delete(name);
      else if (!current || burstChanged || current.limitPerMinute !== limit) {
        this.buckets.set(name, new TokenBucket(limit, next.burstSeconds, now));
      }
    }
    this.settings = { ...next };
  }

  /** Reserves what the request may use, or says which limit refuses it and for how long. */
  admit(inputTokens: number, maxTokens: number, now = Date.now()): Admission {
    const costs: Record<LimitName, number> = { requests: 1, 'input-tokens': inputTokens, 'output-tokens': maxTokens };
    let worst: { name: LimitName; bucket: TokenBucket; waitMs: number } | undefined;
    for (const [name, bucket] of this.buckets) {
      const waitMs = bucket.waitMs(costs[name], now);
      if (waitMs > 0 && (!worst || waitMs > worst.waitMs)) worst = { name, bucket, waitMs };
    }
    if (worst) {
      const retryAfterSeconds = Math.max(1, Math.ceil(worst.waitMs / 1000));
      const { limitPerMinute } = worst.bucket;
      return {
        ok: false,
        limit: worst.name,
        limitPerMinute,
        retryAfterSeconds,
        message: `This request would exceed the rate limit of ${limitPerMinute} ${UNITS[worst.name]} per minute; retry after ${retryAfterSeconds} s.`,
      };
    }
    for (const [name, bucket] of this.buckets) bucket.take(costs[name], now);
    return { ok: true };
  }

  /** Returns output tokens that were reserved (`max_tokens`) but not produced. */
  refundOutput(unused: number, now = Date.now()): void {
    if (unused > 0) this.buckets.get('output-tokens')?.give(unused, now);
  }

  /** `anthropic-ratelimit-{name}-{limit,remaining,reset}` for each limit that is set. */
  headers(now = Date.now()): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, bucket] of this.buckets) {
      out[`anthropic-ratelimit-${name}-limit`] = String(bucket.limitPerMinute);
      out[`anthropic-ratelimit-${name}-remaining`] = String(bucket.remaining(now));
      out[`anthropic-ratelimit-${name}-reset`] = new Date(Math.ceil(bucket.fullAt(now))).toISOString();
    }
    return out;
  }
}
