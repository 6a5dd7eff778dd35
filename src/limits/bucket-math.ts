/**
 * The arithmetic of one budget's buckets, as pure functions over plain state, so that every limit
 * store computes exactly the same thing: the in-process and SQLite stores call these, and the
 * Redis store's Lua script is a line-by-line port (redis-scripts.ts; the contract tests hold both
 * to the same results).
 *
 * A dimension's state is `{ level, t }`: tokens available at time `t` (ms). It refills at
 * perMinute/60000 per ms up to the API's full size (`fullSeconds` worth); a cost up to our
 * capacity (`capacitySeconds` worth, a little below the API's) may be taken when the level, capped
 * at our capacity, covers it. A cost larger than our capacity (one request under a 50 RPM limit is
 * more than a second's worth) waits until the level is as full as the API's bucket and then leaves
 * it in debt, as the API lets such a request through only then. A `debtOnly` dimension (output
 * tokens) admits whenever its level is not in debt and then takes the cost whatever it is. Time
 * that runs backwards (a clock stepped back) counts as no time passed.
 */
import { DIMENSIONS, type BudgetSpec, type Cost, type Dimension, type DimensionSpec } from './types.js';

export interface DimensionState {
  level: number;
  /** ms on the store's clock when `level` was computed. */
  t: number;
}

export type BudgetState = Partial<Record<Dimension, DimensionState>>;

export function capacity(spec: DimensionSpec): number {
  return (spec.perMinute / 60) * spec.capacitySeconds;
}

export function fullLevel(spec: DimensionSpec): number {
  return (spec.perMinute / 60) * Math.max(spec.fullSeconds, spec.capacitySeconds);
}

/** The state refilled up to `now`; a missing state is a bucket that has been full for a while. */
export function refill(state: DimensionState | undefined, spec: DimensionSpec, now: number): DimensionState {
  const full = fullLevel(spec);
  if (!state) return { level: full, t: now };
  const elapsed = Math.max(0, now - state.t);
  return { level: Math.min(full, state.level + (elapsed * spec.perMinute) / 60_000), t: Math.max(state.t, now) };
}

/** ms until `amount` can be taken from a refilled state (0: now). */
export function waitFor(state: DimensionState, spec: DimensionSpec, amount: number): number {
  if (amount <= 0 || spec.debtOnly) return state.level >= 0 ? 0 : Math.ceil((-state.level * 60_000) / spec.perMinute);
  const cap = capacity(spec);
  const need = amount <= cap ? amount : fullLevel(spec);
  const have = amount <= cap ? Math.min(cap, state.level) : state.level;
  // Float slack: a level refilled to exactly the cost must not wait a millisecond more.
  if (have + 1e-9 >= need) return 0;
  return Math.ceil(((need - have) * 60_000) / spec.perMinute);
}

/**
 * A cost that (nearly) empties a full bucket — one request under a limit below 80 RPM, a prompt of
 * a second's worth of ITPM — leaves this much more debt, in seconds of the limit, so such requests
 * reach the API with room to spare: sent exactly as the bucket refills, any jitter on the way
 * would have the next one arrive a moment early and draw a 429. (Smaller costs have the slack of
 * our capacity being below the API's bucket.) Costs the pace 10% at such low limits.
 */
export const BIG_COST_SLACK_SECONDS = 0.1;

/** Takes `amount` from a refilled state. */
export function takeFrom(state: DimensionState, spec: DimensionSpec, amount: number): DimensionState {
  if (amount <= 0) return state;
  const cap = capacity(spec);
  if (amount <= cap || spec.debtOnly) return { level: Math.min(cap, state.level) - amount, t: state.t };
  const slack = (spec.perMinute / 60) * BIG_COST_SLACK_SECONDS;
  return { level: state.level - amount - (amount > fullLevel(spec) - slack ? slack : 0), t: state.t };
}

/**
 * Gives back (`delta` > 0, never above our capacity) or charges (`delta` < 0) a refilled state. A
 * charge is what the API's bucket spent, so it comes off the whole level (up to the API's full
 * size), not off our capacity: charging a full bucket for the request a cold start sent before the
 * limit was known leaves it empty, not half a second in debt.
 */
export function adjustBy(state: DimensionState, spec: DimensionSpec, delta: number): DimensionState {
  if (delta === 0) return state;
  if (delta < 0) return { level: state.level + delta, t: state.t };
  const cap = capacity(spec);
  return { level: Math.min(cap, Math.min(cap, state.level) + delta), t: state.t };
}

/** Lowers a refilled state to `level` when that is below ours (another reading can only be stricter). */
export function clampTo(state: DimensionState, spec: DimensionSpec, level: number): DimensionState {
  return level < Math.min(capacity(spec), state.level) ? { level, t: state.t } : state;
}

export interface TakeOutcome {
  /** The state after the take (unchanged when it had to wait). */
  state: BudgetState;
  /** 0 when taken; else ms until every dimension could pay. */
  waitMs: number;
  /** The dimension that waits longest, when it had to wait. */
  heldBy?: Dimension;
}

/**
 * Takes `cost` from every dimension with a spec, or from none: the longest wait of any dimension
 * decides. A dimension in debt holds every request back, even one that costs it nothing.
 */
export function takeAll(state: BudgetState, spec: BudgetSpec, cost: Cost, now: number): TakeOutcome {
  const refilled: BudgetState = {};
  let waitMs = 0;
  let heldBy: Dimension | undefined;
  for (const d of DIMENSIONS) {
    const s = spec[d];
    if (!s) continue;
    const r = refill(state[d], s, now);
    refilled[d] = r;
    const w = waitFor(r, s, cost[d]);
    if (w > waitMs) {
      waitMs = w;
      heldBy = d;
    }
  }
  if (waitMs > 0) return { state: { ...state, ...refilled }, waitMs, heldBy };
  const next: BudgetState = { ...state };
  for (const d of DIMENSIONS) {
    const s = spec[d];
    if (s) next[d] = takeFrom(refilled[d]!, s, cost[d]);
  }
  return { state: next, waitMs: 0 };
}

/** Applies per-dimension deltas (positive: give back; negative: charge). */
export function adjustAll(state: BudgetState, spec: BudgetSpec, delta: Partial<Cost>, now: number): BudgetState {
  const next: BudgetState = { ...state };
  for (const d of DIMENSIONS) {
    const s = spec[d];
    const v = delta[d];
    if (!s || !v) continue;
    next[d] = adjustBy(refill(state[d], s, now), s, v);
  }
  return next;
}

/** Lowers each dimension to the given level when that is below ours. */
export function clampAll(state: BudgetState, spec: BudgetSpec, levels: Partial<Record<Dimension, number>>, now: number): BudgetState {
  const next: BudgetState = { ...state };
  for (const d of DIMENSIONS) {
    const s = spec[d];
    const v = levels[d];
    if (!s || v === undefined || !Number.isFinite(v)) continue;
    next[d] = clampTo(refill(state[d], s, now), s, v);
  }
  return next;
}

/** Current levels (refilled to `now`, capped at our capacity) for display. */
export function levelsAt(state: BudgetState, spec: BudgetSpec, now: number): Partial<Record<Dimension, number>> {
  const out: Partial<Record<Dimension, number>> = {};
  for (const d of DIMENSIONS) {
    const s = spec[d];
    if (s) out[d] = Math.min(capacity(s), refill(state[d], s, now).level);
  }
  return out;
}
