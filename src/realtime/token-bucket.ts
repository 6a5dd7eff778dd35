/**
 * One rate limit as the API enforces it: a bucket refilled continuously at limit/60 per second,
 * holding at most `capacitySeconds` worth of the limit. A 60-second sliding window would let a
 * whole minute's budget out at once; the bucket is what the server actually counts.
 */
export class TokenBucket {
  /** Per minute. */
  private limit: number;
  private capacitySeconds: number;
  private level: number;
  private updatedAt: number;

  constructor(limitPerMinute: number, options: { capacitySeconds?: number; now?: number; level?: number } = {}) {
    if (!(limitPerMinute > 0)) throw new RangeError(`Expected \`limitPerMinute\` > 0, got \`${limitPerMinute}\``);
    this.limit = limitPerMinute;
    this.capacitySeconds = options.capacitySeconds ?? 1;
    this.updatedAt = options.now ?? Date.now();
    this.level = options.level ?? this.capacity;
  }

  get limitPerMinute(): number {
    return this.limit;
  }

  get capacity(): number {
    return (this.limit / 60) * this.capacitySeconds;
  }

  private get ratePerMs(): number {
    return this.limit / 60_000;
  }

  /** Tokens available now (may be negative after a correction charged more than was there). */
  available(now = Date.now()): number {
    this.refill(now);
    return this.level;
  }

  /**
   * How long until `amount` can be taken. A cost larger than the whole capacity is allowed once
   * the bucket is full (the server does the same), so it can never wait forever.
   */
  waitMs(amount: number, now = Date.now()): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity);
    if (this.level >= need) return 0;
    return Math.ceil((need - this.level) / this.ratePerMs);
  }

  take(amount: number, now = Date.now()): void {
    this.refill(now);
    this.level -= amount;
  }

  /** Gives back tokens that were reserved but not used (never above capacity). */
  give(amount: number, now = Date.now()): void {
    this.refill(now);
    this.level = Math.min(this.capacity, this.level + amount);
  }

  /** A new limit (learned from the API); the level keeps its fraction of capacity at most. */
  setLimit(limitPerMinute: number, now = Date.now()): void {
    if (!(limitPerMinute > 0) || limitPerMinute === this.limit) return;
    this.refill(now);
    this.limit = limitPerMinute;
    this.level = Math.min(this.level, this.capacity);
  }

  /** Lowers the level to what the server says remains (never raises it: our view is the stricter). */
  clampTo(remaining: number, now = Date.now()): void {
    this.refill(now);
    if (remaining < this.level) this.level = remaining;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.level = Math.min(this.capacity, this.level + (now - this.updatedAt) * this.ratePerMs);
      this.updatedAt = now;
    }
  }
}
