/**
 * One per-minute limit enforced as the real API does: a token bucket refilled continuously at
 * limit/60 per second, holding at most `burstSeconds` seconds' worth, starting full. So 60 RPM with
 * a one-second bucket admits one request per second, not 60 at once.
 */

/** Float slack so a bucket refilled to exactly the cost is not refused by rounding. */
export const EPSILON = 1e-9;

export class TokenBucket {
  /** The per-minute limit, as reported in `anthropic-ratelimit-*-limit`. */
  readonly limitPerMinute: number;
  readonly capacity: number;
  private readonly perMs: number;
  private current: number;
  private updatedAt: number;

  constructor(limitPerMinute: number, burstSeconds: number, now = Date.now()) {
    this.limitPerMinute = limitPerMinute;
    this.perMs = limitPerMinute / 60_000;
    this.capacity = (limitPerMinute / 60) * burstSeconds;
    this.current = this.capacity;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.current = Math.min(this.capacity, this.current + (now - this.updatedAt) * this.perMs);
      this.updatedAt = now;
    }
  }

  /**
   * Milliseconds until `cost` can be taken; 0 if it can be taken now. A cost larger than the whole
   * bucket is allowed once the bucket is full (it then goes into debt), so it can never livelock.
   */
  waitMs(cost: number, now: number): number {
    this.refill(now);
    const need = Math.min(cost, this.capacity);
    if (this.current + EPSILON >= need) return 0;
    return (need - this.current) / this.perMs;
  }

  take(cost: number, now: number): void {
    this.refill(now);
    this.current -= cost;
  }

  /** Gives back reserved tokens that were not used (never above capacity). */
  give(amount: number, now: number): void {
    this.refill(now);
    this.current = Math.min(this.capacity, this.current + amount);
  }

  /** The exact level now; negative while the bucket is in debt. */
  level(now: number): number {
    this.refill(now);
    return this.current;
  }

  /** Whole tokens available now, as `anthropic-ratelimit-*-remaining` reports them. */
  remaining(now: number): number {
    this.refill(now);
    return Math.max(0, Math.floor(this.current + EPSILON));
  }

  /** Epoch ms at which the bucket would be full again. */
  fullAt(now: number): number {
    this.refill(now);
    return now + Math.max(0, this.capacity - this.current) / this.perMs;
  }
}
