/**
 * The account's three limits (requests, input tokens, output tokens per minute) as token buckets
 * shared by every worker. Before a call, `reserve()` takes 1 request, the estimated input tokens
 * and `max_tokens` output tokens; after it, `settle()` gives back what `usage` shows was unused
 * (or charges an underestimate). A 429 pauses every worker until `retry-after`, steps the pace
 * down, and the pace recovers over the following seconds.
 */
import { StoppedError } from '../errors.js';
import type { RateLimits } from '../ui/stats.js';
import { sleep } from '../sleep.js';
import type { LimitReading, RateLimitHeaders } from './rate-limit-headers.js';
import { TokenBucket } from './token-bucket.js';

export interface Cost {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

export interface RateBudgetOptions {
  /** Limits given by flags or config: ceilings; the API's headers can only lower them. */
  given: RateLimits;
  /** When set, a single wait for capacity longer than this stops the run (`queue_overflow: fail`). */
  maxWaitMs?: number;
  /**
   * Bucket capacity in seconds of limit. Default 0.75: the API's bucket holds about a second's
   * worth, but a request reaches it some milliseconds after we count it, and while the API's bucket
   * sits full that refill is lost to the cap. A quarter second of slack covers that delay.
   */
  capacitySeconds?: number;
  /** After a 429 the pace returns to the full limit over this long. Default 20 s. */
  recoveryMs?: number;
  now?: () => number;
}

type Dimension = 'requests' | 'inputTokens' | 'outputTokens';
const DIMENSIONS: Dimension[] = ['requests', 'inputTokens', 'outputTokens'];
const GIVEN_KEY: Record<Dimension, keyof RateLimits> = { requests: 'rpm', inputTokens: 'itpm', outputTokens: 'otpm' };
/** Lowest pace after repeated 429s, as a fraction of the limit. */
const MIN_PACE = 0.25;
const DEFAULT_CAPACITY_SECONDS = 0.75;
const STEP_DOWN = 0.7;

export class RateBudget {
  private readonly buckets: Partial<Record<Dimension, TokenBucket>> = {};
  /** The limit for each dimension before the pace factor: min(given, learned). */
  private readonly base: Partial<Record<Dimension, number>> = {};
  private readonly learned: Partial<Record<Dimension, number>> = {};
  private readonly options: RateBudgetOptions;
  private readonly now: () => number;
  private pausedUntil = 0;
  private pace = 1;
  private paceLowAt = 0;
  private paceLow = 1;
  private headersSeen = false;
  /** Reservations are served one at a time, in order, so a retried item put in front goes first. */
  private line: Promise<unknown> = Promise.resolve();

  constructor(options: RateBudgetOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    for (const d of DIMENSIONS) {
      const given = options.given[GIVEN_KEY[d]];
      if (given) this.setBase(d, given);
    }
  }

  /** True once the API has reported its limits in headers. */
  get confirmed(): boolean {
    return this.headersSeen;
  }

  /** True when any limit is known (given or learned). */
  get hasLimits(): boolean {
    return DIMENSIONS.some((d) => this.base[d] !== undefined);
  }

  /** The limits in force (before the temporary pace step-down). */
  limits(): RateLimits {
    return { rpm: this.base.requests, itpm: this.base.inputTokens, otpm: this.base.outputTokens };
  }

  /** What the API's headers reported, for remembering between runs. */
  learnedLimits(): RateLimits {
    return { rpm: this.learned.requests, itpm: this.learned.inputTokens, otpm: this.learned.outputTokens };
  }

  /** Waits until `cost` fits every bucket and no 429 pause is in force, then takes it. */
  reserve(cost: Cost, signal?: AbortSignal): Promise<boolean> {
    const turn = this.line.then(() => this.acquire(cost, signal));
    this.line = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(cost: Cost, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const now = this.now();
      this.recoverPace(now);
      let wait = Math.max(0, this.pausedUntil - now);
      for (const d of DIMENSIONS) {
        const bucket = this.buckets[d];
        if (bucket && cost[d] > 0) wait = Math.max(wait, bucket.waitMs(cost[d], now));
      }
      if (wait === 0) {
        for (const d of DIMENSIONS) this.buckets[d]?.take(cost[d], now);
        return true;
      }
      if (this.options.maxWaitMs !== undefined && wait > this.options.maxWaitMs) {
        throw new StoppedError(
          'queue-timeout',
          `the rate limit would hold the next request back ${Math.ceil(wait / 1000)}s, longer than queue_timeout_ms (${this.options.maxWaitMs}); stopping because queue_overflow is "fail"`,
        );
      }
      // Sleep in short steps so a lowered or raised limit takes effect promptly.
      if (!(await sleep(Math.min(wait, 250), signal))) return false;
    }
  }

  /** After a response: give back what was reserved but not used, or charge an underestimate. */
  settle(reserved: Cost, used: { inputTokens?: number; outputTokens?: number }): void {
    const now = this.now();
    this.adjust('inputTokens', reserved.inputTokens - (used.inputTokens ?? reserved.inputTokens), now);
    this.adjust('outputTokens', reserved.outputTokens - (used.outputTokens ?? 0), now);
  }

  /** The request was refused before it counted (429) or failed without using tokens (5xx). */
  refund(reserved: Cost, options: { request: boolean }): void {
    const now = this.now();
    if (options.request) this.adjust('requests', reserved.requests, now);
    this.adjust('inputTokens', reserved.inputTokens, now);
    this.adjust('outputTokens', reserved.outputTokens, now);
  }

  private adjust(d: Dimension, delta: number, now: number): void {
    const bucket = this.buckets[d];
    if (!bucket || delta === 0) return;
    if (delta > 0) bucket.give(delta, now);
    else bucket.take(-delta, now);
  }

  /**
   * Adopts the limits the API reports: they cap the given ones. The first time, the buckets also
   * start from what the API says remains, since other clients of the account may have used some.
   */
  observe(headers: RateLimitHeaders): void {
    const now = this.now();
    const readings: Record<Dimension, LimitReading | undefined> = {
      requests: headers.requests,
      inputTokens: headers.inputTokens,
      outputTokens: headers.outputTokens,
    };
    let any = false;
    for (const d of DIMENSIONS) {
      const r = readings[d];
      if (!r) continue;
      any = true;
      this.learned[d] = r.limit;
      const given = this.options.given[GIVEN_KEY[d]];
      const limit = given ? Math.min(given, r.limit) : r.limit;
      this.setBase(d, limit);
      this.clampToReading(d, r, now);
    }
    if (any) this.headersSeen = true;
  }

  /**
   * A 429: every worker waits `retryAfterMs`, the buckets drop to what the API says remains, and
   * the pace steps down — once per pause: the other requests in flight that get 429s with it are
   * the same signal. Returns whether this 429 started a new pause.
   */
  onRateLimited(retryAfterMs: number | undefined, headers: RateLimitHeaders): boolean {
    const now = this.now();
    this.observe(headers);
    const newPause = now >= this.pausedUntil;
    this.pausedUntil = Math.max(this.pausedUntil, now + (retryAfterMs ?? 1000));
    if (newPause) {
      this.pace = Math.max(MIN_PACE, this.pace * STEP_DOWN);
      this.paceLow = this.pace;
      this.paceLowAt = now;
      this.applyPace(now);
    }
    return newPause;
  }

  /**
   * What the API says remains can only lower our view: requests still on their way to it are
   * already counted here but not there. `remaining` stops at 0, so when it is 0 the reset time
   * tells how deep in debt the API's bucket is (a request costing more than the bucket holds).
   */
  private clampToReading(d: Dimension, r: LimitReading, now: number): void {
    const bucket = this.buckets[d];
    if (!bucket || r.remaining === undefined) return;
    let level = r.remaining;
    if (r.remaining <= 0 && r.resetAt !== undefined && r.resetAt > now) {
      level = bucket.apiCapacity - bucket.refillIn(r.resetAt - now);
    }
    bucket.clampTo(level, now);
  }

  private recoverPace(now: number): void {
    if (this.pace >= 1) return;
    const recoveryMs = this.options.recoveryMs ?? 20_000;
    const since = Math.max(0, now - Math.max(this.paceLowAt, this.pausedUntil));
    const next = Math.min(1, this.paceLow + (1 - this.paceLow) * (since / recoveryMs));
    if (next - this.pace >= 0.01 || next === 1) {
      this.pace = next;
      this.applyPace(now);
    }
  }

  private setBase(d: Dimension, limit: number): void {
    this.base[d] = limit;
    const effective = limit * this.pace;
    const bucket = this.buckets[d];
    if (bucket) bucket.setLimit(effective, this.now());
    else {
      const capacitySeconds = this.options.capacitySeconds ?? DEFAULT_CAPACITY_SECONDS;
      // A cost over the whole bucket is let through when the bucket is full, as the API does; it
      // waits the same quarter second of slack past full, for the trip there.
      const largeCostSlackSeconds = 1 - DEFAULT_CAPACITY_SECONDS;
      this.buckets[d] = new TokenBucket(effective, { capacitySeconds, largeCostSlackSeconds, now: this.now() });
    }
  }

  private applyPace(now: number): void {
    for (const d of DIMENSIONS) {
      const limit = this.base[d];
      if (limit !== undefined) this.buckets[d]?.setLimit(limit * this.pace, now);
    }
  }
}
