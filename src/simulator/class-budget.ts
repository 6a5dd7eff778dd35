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

/** Which bucket refuses a request, and for how long. */
export interface Refusal {
  budget: ClassBudget;
  name: LimitName;
  limitPerMinute: number;
  waitMs: number;
}

/**
 * Admits a request against several budgets at once (a workspace's and its organization's): taken
 * from all of them, or refused by the one that waits longest, taking nothing.
 */
export function admitAll(budgets: readonly ClassBudget[], cost: AdmissionCost, now: number): Admission {
  let worst: Refusal | undefined;
  for (const b of budgets) {
    const r = b.refusal(cost, now);
    if (r && (!worst || r.waitMs > worst.waitMs)) worst = r;
  }
  if (worst) {
    const retryAfterSeconds = Math.max(1, Math.ceil(worst.waitMs / 1000));
    return {
      ok: false,
      limit: worst.name,
      limitPerMinute: worst.limitPerMinute,
      retryAfterSeconds,
      message:
        `This request would exceed your ${worst.budget.owner}'s rate limit of ${worst.limitPerMinute} ${UNITS[worst.name]} per minute ` +
        `(model class: ${worst.budget.name}); retry after ${retryAfterSeconds} s.`,
    };
  }
  for (const b of budgets) b.take(cost, now);
  return { ok: true };
}

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
    /** Whose limit this is, for the 429's message: `organization` or `workspace`. */
    readonly owner: 'organization' | 'workspace' = 'organization',
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
    return admitAll([this], cost, now);
  }

  /** The limit that would refuse `cost` now, with the wait; undefined when every limit admits it. */
  refusal(cost: AdmissionCost, now: number): Refusal | undefined {
    let worst: Refusal | undefined;
    const consider = (name: LimitName, limitPerMinute: number, waitMs: number) => {
      if (waitMs > 0 && (!worst || waitMs > worst.waitMs)) worst = { budget: this, name, limitPerMinute, waitMs };
    };
    if (this.requests) consider('requests', this.requests.limitPerMinute, this.requests.waitMs(1, now));
    if (this.input) consider('input-tokens', this.input.limitPerMinute, this.input.waitMs(cost.inputTokens, now));
    if (this.output instanceof OutputBucket) consider('output-tokens', this.output.limitPerMinute, this.output.waitMs(now));
    else if (this.output) consider('output-tokens', this.output.limitPerMinute, this.output.waitMs(cost.maxTokens, now));
    return worst;
  }

  /** Takes an admitted request's cost (`refusal` said nothing refuses it). */
  take(cost: AdmissionCost, now: number): void {
    this.requests?.take(1, now);
    this.input?.take(cost.inputTokens, now);
    if (this.output instanceof TokenBucket) this.output.take(cost.maxTokens, now);
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
