/**
 * How long real-time would take: each model class runs at the tightest of its own limits, all
 * classes at once, so the job takes as long as its slowest class. Output is paced by the expected
 * output per answer, not max_tokens: the API counts output as it is produced, and max_tokens is
 * only the upper bound for cost.
 */
import type { RateLimits } from '../limits/types.js';

/** Characters per token for planning; the real-time scheduler calibrates its own from `usage`. */
export const CHARS_PER_TOKEN = 4;

/** Without anything learned: expect answers of a quarter of max_tokens, at most this many tokens. */
export const DEFAULT_EXPECTED_OUTPUT = 1_000;

/** Where a class's limits came from, weakest last. */
export type LimitsSource = 'given' | 'learned' | 'assumed';

export interface PlanClass {
  modelClass: string;
  items: number;
  promptChars: number;
  /** Sum of the items' max_tokens. */
  maxTokens: number;
  limits: RateLimits;
  /** The weakest source among the limits used: `assumed` means a tier was assumed. */
  limitsSource: LimitsSource;
  /** The limits taken from the Start tier (neither given nor learned); all three when none is known. */
  assumedLimits?: Array<keyof RateLimits>;
  /** Mean output tokens per answer an earlier run of this key and class saw. */
  expectedOutput?: number;
}

export interface ClassPace {
  modelClass: string;
  requestsPerMinute: number;
  /** Which limit binds, in words: "1,000 requests/min". */
  binding: string;
  seconds: number;
  /** Expected output tokens in all, for this class. */
  expectedOutputTokens: number;
}

/** Expected output per answer: what was learned, else a quarter of max_tokens up to 1,000, never above max_tokens. */
export function expectedOutputPerItem(c: PlanClass): number {
  const avgMax = c.items > 0 ? c.maxTokens / c.items : 0;
  const guess = c.expectedOutput ?? Math.min(DEFAULT_EXPECTED_OUTPUT, avgMax / 4);
  return Math.max(1, Math.min(avgMax, guess));
}

export function classPace(c: PlanClass): ClassPace {
  const n = Math.max(1, c.items);
  const avgIn = Math.max(1, c.promptChars / CHARS_PER_TOKEN / n);
  const avgOut = expectedOutputPerItem(c);
  const { rpm, itpm, otpm } = c.limits;
  const candidates: Array<{ requestsPerMinute: number; binding: string }> = [];
  if (rpm) candidates.push({ requestsPerMinute: rpm, binding: `${fmt(rpm)} requests/min` });
  if (itpm) candidates.push({ requestsPerMinute: itpm / avgIn, binding: `${fmt(itpm)} input tokens/min` });
  if (otpm) candidates.push({ requestsPerMinute: otpm / avgOut, binding: `${fmt(otpm)} output tokens/min (~${fmt(avgOut)} per answer)` });
  const best = candidates.length === 0 ? { requestsPerMinute: Infinity, binding: 'no limit' } : candidates.reduce((a, b) => (b.requestsPerMinute < a.requestsPerMinute ? b : a));
  return {
    modelClass: c.modelClass,
    ...best,
    seconds: Number.isFinite(best.requestsPerMinute) ? (c.items / best.requestsPerMinute) * 60 : 0,
    expectedOutputTokens: avgOut * c.items,
  };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
