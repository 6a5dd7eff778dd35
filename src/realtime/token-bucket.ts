/**
 * One rate limit as the API enforces it: a bucket refilled continuously at limit/60 per second,
 * holding at most `capacitySeconds` worth of the limit. A 60-second sliding window would let a
 * whole minute's budget out at once; the bucket is what the server actually counts.
 *
 * A cost larger than the whole capacity (one request under a 50 RPM limit is more than a second's
 * worth) is let through once the bucket is full, as the API does, and the bucket goes into debt.
 * Our bucket is kept smaller than the API's (see RateBudget), so such a cost waits until ours is
 * `largeCostSlackSeconds` past full — as full as the API's — and the next one waits exactly one
 * cost's worth of refill: requests under 60 RPM go out 60/rpm seconds apart.
 */
export class TokenBucket {
  /** Per minute. */
  private limit: number;
  private readonly capacitySeconds: number;
  private readonly largeCostSlackSeconds: number;
  /** The level without the cap: how far past full it is tells how long it has been full. */
  private uncapped: number;
  private updatedAt: number;

  constructor(
    limitPerMinute: number,
    options: { capacitySeconds?: number; largeCostSlackSeconds?: number; now?: number; level?: number } = {},
  ) {
    if (!(limitPerMinute > 0)) throw new RangeError(`Expected \`limitPerMinute\` > 0, got \`${limitPerMinute}\``);
    this.limit = limitPerMinute;
    this.capacitySeconds = options.capacitySeconds ?? 1;
    this.largeCostSlackSeconds = options.largeCostSlackSeconds ?? 0;
    this.updatedAt = options.now ?? Date.now();
    // A new bucket counts as having been full for a while: even a large cost may go at once.
    this.uncapped = options.level ?? this.capacity + this.slackTokens;
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

  /** Tokens available now (negative while in debt). */
  available(now = Date.now()): number {
    this.refill(now);
    return Math.min(this.capacity, this.uncapped);
  }

  /** How long until `amount` can be taken. */
  waitMs(amount: number, now = Date.now()): number {
    this.refill(now);
    const need = amount <= this.capacity ? amount : this.capacity + this.slackTokens;
    const have = amount <= this.capacity ? Math.min(this.capacity, this.uncapped) : this.uncapped;
    if (have >= need) return 0;
    return Math.ceil((need - have) / this.ratePerMs);
  }

  take(amount: number, now = Date.now()): void {
    this.refill(now);
    // A large cost waited for the slack past full; keep that slack in the level it leaves behind,
    // so the next one waits one cost's worth of refill, not that plus the slack again.
    const ceiling = amount > this.capacity ? this.capacity + this.slackTokens : this.capacity;
    this.uncapped = Math.min(ceiling, this.uncapped) - amount;
  }

  /** As full as the API's bucket: our capacity plus the slack we keep below it. */
  get apiCapacity(): number {
    return this.capacity + this.slackTokens;
  }

  private get slackTokens(): number {
    return (this.limit / 60) * this.largeCostSlackSeconds;
  }

  /** Gives back tokens that were reserved but not used (never above capacity). */
  give(amount: number, now = Date.now()): void {
    this.refill(now);
    this.uncapped = Math.min(this.capacity, Math.min(this.capacity, this.uncapped) + amount);
  }

  /** A new limit (learned from the API, or the pace stepping down or back up). */
  setLimit(limitPerMinute: number, now = Date.now()): void {
    if (!(limitPerMinute > 0) || limitPerMinute === this.limit) return;
    this.refill(now);
    this.limit = limitPerMinute;
    this.uncapped = Math.min(this.uncapped, this.capacity);
  }

  /** Lowers the level to `level` if it is below ours (never raises it: our view is the stricter). */
  clampTo(level: number, now = Date.now()): void {
    this.refill(now);
    if (level < Math.min(this.capacity, this.uncapped)) this.uncapped = level;
  }

  /** Tokens the bucket gains in `ms`. */
  refillIn(ms: number): number {
    return ms * this.ratePerMs;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.uncapped += (now - this.updatedAt) * this.ratePerMs;
      this.updatedAt = now;
    }
  }
}
