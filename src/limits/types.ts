/**
 * The shapes every part of src/limits/ shares: the three dimensions an account's limit has, what a
 * request costs in each, and how a bucket for one dimension is sized.
 */

/** Requests, input tokens and output tokens per minute: the three limits of one model class. */
export type Dimension = 'requests' | 'inputTokens' | 'outputTokens';
export const DIMENSIONS: readonly Dimension[] = ['requests', 'inputTokens', 'outputTokens'];

/** What one request takes from each bucket (estimates before the call, actual usage after). */
export interface Cost {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** Per-minute limits as flags, config and the API's headers give them; absent = unknown. */
export type { RateLimits } from '../ui/stats.js';
import type { RateLimits } from '../ui/stats.js';

export const LIMIT_OF: Record<Dimension, keyof RateLimits> = { requests: 'rpm', inputTokens: 'itpm', outputTokens: 'otpm' };

/**
 * How one dimension's bucket is sized, passed with every store call (the caller's view of the
 * limit, after any temporary step-down): it refills at `perMinute / 60` per second; a cost up to
 * `capacitySeconds` worth can be taken whenever the level allows it; a larger cost waits until the
 * level reaches `fullSeconds` worth (as full as the API's own bucket), then leaves it in debt.
 */
export interface DimensionSpec {
  perMinute: number;
  /** Our bucket's size in seconds of the limit (0.5: half a second of slack below the API's). */
  capacitySeconds: number;
  /** The API's bucket size in seconds of the limit (about 1). Must be >= capacitySeconds. */
  fullSeconds: number;
  /**
   * Admit whenever the level is not in debt, and then take the cost whatever it is: the API's rule
   * for output tokens, which count as they are produced (a request is let in while the bucket is
   * not in debt; max_tokens does not factor in). Default false: a cost must fit, as for requests
   * and input tokens.
   */
  debtOnly?: boolean;
}

/** One spec per dimension whose limit is known; a dimension without one is not limited. */
export type BudgetSpec = Partial<Record<Dimension, DimensionSpec>>;

/**
 * Whose budget: the account (a fingerprint of the API key and base URL, never the key) and the
 * model class (models that share one pool of limits, see model-class.ts).
 */
export interface BudgetKey {
  account: string;
  modelClass: string;
}
