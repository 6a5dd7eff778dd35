/**
 * One model class's three per-minute limits. Admission takes 1 request and the request's input
 * cost; output is charged by the rule in force:
 * - `as-produced` (the API's rule): admitted while the output bucket is not in debt, then charged
 *   as the answer is produced; `max_tokens` does not factor in.
 * - `reserve-max-tokens` (the old rule): `max_tokens` is reserved at admission and the unused part
 *   refunded when the answer ends.
 * A refused request consumes nothing.
 */
import { OutputBucket, producedBy, type Production } from './output-bucket.js';
import { TokenBucket } from './token-bucket.js';
import type { ClassLimitSet } from './tiers.js';

export type LimitName = 'requests' | 'input-tokens' | 'output-tokens';
export type OtpmRule = 'as-produced' | 'reserve-max-tokens';

const UNITS: Record<LimitName, string> = {
  requests: 'requests',
  'input-tokens': 'input tokens',
  'output-tokens': 'output tokens',
};

export interface AdmissionCost {
  /** What the request charges to ITPM (uncached input plus cache writes). */
  inputTokens: number;
  /** Its `max_tokens`: reserved under `reserve-max-tokens`, ignored under `as-produced`. */
  maxTokens: number;
}

export type Admission =
  | { ok: true }
  | { ok: false; limit: LimitName; limitPerMinute: number; retryAfterSeconds: number; message: string };

/** An admitted answer's output charge: ended normally, or stopped part-way. */
export interface OutputCharge {
  /** The answer ended: under `reserve-max-tokens`, refunds what `max_tokens` reserved beyond it. */
  finish(now: number): void;
  /** The answer stopped at `now` (client gone, stream stalled): the rest is never charged. */
  stop(now: number): void;
}

/** What a rate-limit header reports of one bucket. */
export interface BucketReading {
  readonly limitPerMinute: number;
  readonly capacity: number;
  level(now: number): number;
  fullAt(now: number): number;
}

const NO_CHARGE: OutputCharge = { finish() {}, stop() {} };

export class ClassBudget {
  readonly requests: TokenBucket | undefined;
  readonly input: TokenBucket | undefined;
  readonly output: OutputBucket | TokenBucket | undefined;

  constructor(
    readonly name: string,
    readonly limits: ClassLimitSet,
    readonly burstSeconds: number,
    readonly rule: OtpmRule,
    now: number,
  ) {
    this.requests = limits.rpm !== undefined ? new TokenBucket(limits.rpm, burstSeconds, now) : undefined;
    this.input = limits.itpm !== undefined ? new TokenBucket(limits.itpm, burstSeconds, now) : undefined;
    if (limits.otpm !== undefined) {
      this.output = rule === 'as-produced' ? new OutputBucket(limits.otpm, burstSeconds, now) : new TokenBucket(limits.otpm, burstSeconds, now);
    }
  }

  /** Whether these buckets still implement `limits` (a change of limit, burst or rule starts them over). */
  matches(limits: ClassLimitSet, burstSeconds: number, rule: OtpmRule): boolean {
    return (
      limits.rpm === this.limits.rpm &&
      limits.itpm === this.limits.itpm &&
      limits.otpm === this.limits.otpm &&
      burstSeconds === this.burstSeconds &&
      rule === this.rule
    );
  }

  /** Takes the request's cost, or says which limit refuses it and for how long (the longest wait). */
  admit(cost: AdmissionCost, now: number): Admission {
    let worst: { name: LimitName; limitPerMinute: number; waitMs: number } | undefined;
    const consider = (name: LimitName, limitPerMinute: number, waitMs: number) => {
      if (waitMs > 0 && (!worst || waitMs > worst.waitMs)) worst = { name, limitPerMinute, waitMs };
    };
    if (this.requests) consider('requests', this.requests.limitPerMinute, this.requests.waitMs(1, now));
    if (this.input) consider('input-tokens', this.input.limitPerMinute, this.input.waitMs(cost.inputTokens, now));
    if (this.output instanceof OutputBucket) consider('output-tokens', this.output.limitPerMinute, this.output.waitMs(now));
    else if (this.output) consider('output-tokens', this.output.limitPerMinute, this.output.waitMs(cost.maxTokens, now));
    if (worst) {
      const retryAfterSeconds = Math.max(1, Math.ceil(worst.waitMs / 1000));
      return {
        ok: false,
        limit: worst.name,
        limitPerMinute: worst.limitPerMinute,
        retryAfterSeconds,
        message:
          `This request would exceed your organization's rate limit of ${worst.limitPerMinute} ${UNITS[worst.name]} per minute ` +
          `(model class: ${this.name}); retry after ${retryAfterSeconds} s.`,
      };
    }
    this.requests?.take(1, now);
    this.input?.take(cost.inputTokens, now);
    if (this.output instanceof TokenBucket) this.output.take(cost.maxTokens, now);
    return { ok: true };
  }

  /**
   * Charges an admitted answer's `tokens` of output, produced evenly from `start` to `end` (epoch
   * ms). Under `reserve-max-tokens` its `maxTokens` were taken at admission instead.
   */
  chargeOutput(tokens: number, maxTokens: number, start: number, end: number, now: number): OutputCharge {
    const bucket = this.output;
    if (!bucket) return NO_CHARGE;
    if (bucket instanceof OutputBucket) {
      const production: Production = bucket.produce(tokens, start, end, now);
      return { finish() {}, stop: (at) => bucket.stop(production, at) };
    }
    let settled = false;
    const refund = (used: number, at: number) => {
      if (settled) return;
      settled = true;
      if (maxTokens > used) bucket.give(maxTokens - used, at);
    };
    return {
      finish: (at) => refund(tokens, at),
      stop: (at) => refund(producedBy({ tokens, start, end }, at), at),
    };
  }
}
