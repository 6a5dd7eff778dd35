/**
 * Choosing between real-time and the Message Batches API, with the time and cost each way. Pure
 * functions: the only I/O is reading data/prices.json once (src/plan/prices.ts).
 */
import { plural } from '../ui/format.js';
import { priceFor, type ModelPrice } from './prices.js';

export { priceFor, type ModelPrice } from './prices.js';

export interface PlanInput {
  items: number;
  promptChars: number;
  /** Sum of every item's max_tokens. */
  maxTokens: number;
  models: string[];
  limits: { rpm?: number; itpm?: number; otpm?: number };
  /** 'none': nothing known — assume a conservative tier and say so. */
  limitsSource: 'given' | 'learned' | 'assumed' | 'none';
  concurrency: number;
  urgent: boolean;
  mode: 'auto' | 'realtime' | 'batch';
  thresholdMinutes: number;
  smallJobItems: number;
  priceOverrides: Record<string, ModelPrice>;
}

export interface Plan {
  mode: 'realtime' | 'batch';
  /** Why, in plain words. */
  reasons: string[];
  /** Estimated duration real-time, under the limits. */
  realtimeSeconds: number;
  batchSeconds: { typical: number; max: number };
  tokens: { input: number; outputMax: number };
  /** Undefined when a model has no price: the plan then shows tokens only. */
  cost?: { realtime: number; batch: number; currency: 'USD' };
  /** The models of the job that have no price (in data/prices.json or the config). */
  unpricedModels: string[];
}

/** Characters per token for planning; the real-time scheduler calibrates its own from `usage`. */
export const CHARS_PER_TOKEN = 4;
/** Tier 1's request limit, assumed when no limit is known at all. */
export const ASSUMED_RPM = 50;
/** Most batches end within an hour; the API lets one run for 24 hours before it expires. */
export const BATCH_TYPICAL_SECONDS = 60 * 60;
export const BATCH_MAX_SECONDS = 24 * 60 * 60;
/** The Message Batches API charges half the list price. */
export const BATCH_DISCOUNT = 0.5;

interface Pace {
  requestsPerMinute: number;
  /** Which limit binds, in words: "50 requests/min". */
  binding: string;
}

function pace(input: PlanInput, tokens: { input: number; outputMax: number }): Pace | undefined {
  const { rpm, itpm, otpm } = input.limits;
  const n = Math.max(1, input.items);
  const avgIn = Math.max(1, tokens.input / n);
  const avgOut = Math.max(1, tokens.outputMax / n);
  const candidates: Pace[] = [];
  if (rpm) candidates.push({ requestsPerMinute: rpm, binding: `${fmtNum(rpm)} requests/min` });
  if (itpm) candidates.push({ requestsPerMinute: itpm / avgIn, binding: `${fmtNum(itpm)} input tokens/min` });
  if (otpm) candidates.push({ requestsPerMinute: otpm / avgOut, binding: `${fmtNum(otpm)} output tokens/min (at max_tokens)` });
  if (candidates.length === 0) return undefined;
  return candidates.reduce((a, b) => (b.requestsPerMinute < a.requestsPerMinute ? b : a));
}

function estimateCost(input: PlanInput, tokens: { input: number; outputMax: number }, unpriced: string[]): Plan['cost'] {
  if (input.models.length === 0 || unpriced.length > 0) return undefined;
  const prices = input.models.map((model) => priceFor(model, input.priceOverrides)!);
  // Items are not counted per model here, so with several models price every token at the dearest:
  // the estimate stays an upper bound.
  const inRate = Math.max(...prices.map((p) => p.inputPerMTok));
  const outRate = Math.max(...prices.map((p) => p.outputPerMTok));
  const realtime = (tokens.input * inRate + tokens.outputMax * outRate) / 1e6;
  return { realtime, batch: realtime * BATCH_DISCOUNT, currency: 'USD' };
}

export function choosePlan(input: PlanInput): Plan {
  const tokens = { input: Math.ceil(input.promptChars / CHARS_PER_TOKEN), outputMax: input.maxTokens };
  const reasons: string[] = [];

  let p = input.limitsSource === 'none' ? undefined : pace(input, tokens);
  if (!p) {
    p = { requestsPerMinute: ASSUMED_RPM, binding: `${ASSUMED_RPM} requests/min` };
    reasons.push(`limits unknown; assuming ${ASSUMED_RPM} requests/min (Tier 1) — pass --rpm/--itpm/--otpm for a better estimate`);
  }
  const realtimeSeconds = (input.items / p.requestsPerMinute) * 60;
  const realtimeText = `real-time would take about ${formatDuration(realtimeSeconds)} at ${p.binding}`;
  const threshold = input.thresholdMinutes * 60;

  let mode: Plan['mode'];
  if (input.mode === 'realtime') {
    mode = 'realtime';
    reasons.push('real-time was asked for (--realtime, or mode in the config or CLAW_BATCH_MODE)', realtimeText);
  } else if (input.mode === 'batch') {
    mode = 'batch';
    reasons.push('the Batches API was asked for (--batch-api, submit, or mode in the config or CLAW_BATCH_MODE)', realtimeText);
  } else if (input.urgent) {
    mode = 'realtime';
    reasons.push(`--urgent: results as they come rather than within the hour; ${realtimeText}`);
  } else if (input.items <= input.smallJobItems) {
    mode = 'realtime';
    reasons.push(`${plural(input.items, 'item')} is a small job (at most ${fmtNum(input.smallJobItems)}): real-time`);
  } else if (realtimeSeconds <= threshold) {
    mode = 'realtime';
    reasons.push(`${realtimeText}, within the ${formatDuration(threshold)} threshold`);
  } else {
    mode = 'batch';
    reasons.push(
      `${realtimeText}, over the ${formatDuration(threshold)} threshold`,
      'the Batches API has no per-minute limit and costs half',
    );
  }

  const unpricedModels = input.models.filter((model) => !priceFor(model, input.priceOverrides));
  const cost = estimateCost(input, tokens, unpricedModels);
  if (input.models.length > 1 && cost) reasons.push('several models: cost priced at the dearest, an upper bound');
  return {
    mode,
    reasons,
    realtimeSeconds,
    batchSeconds: { typical: BATCH_TYPICAL_SECONDS, max: BATCH_MAX_SECONDS },
    tokens,
    cost,
    unpricedModels,
  };
}

/** The plan as lines for stderr: the choice, the reasons, the time and the cost each way. */
export function formatPlan(plan: Plan): string[] {
  const lines = [`plan: ${plan.mode === 'batch' ? 'Message Batches API' : 'real-time requests'}`];
  for (const r of plan.reasons) lines.push(`  why: ${r}`);
  lines.push(
    `  time: real-time ≈ ${formatDuration(plan.realtimeSeconds)}; Batches API typically ≤ ${formatDuration(plan.batchSeconds.typical)}, at most ${formatDuration(plan.batchSeconds.max)}`,
  );
  const tokens = `input ≈ ${fmtTokens(plan.tokens.input)}, output ≤ ${fmtTokens(plan.tokens.outputMax)}`;
  if (plan.cost) {
    lines.push(
      `  cost: real-time ${atMost(plan.cost.realtime)}, Batches API ${atMost(plan.cost.batch)} (50% off) — ${tokens} (output is usually shorter than max_tokens)`,
    );
  } else {
    const which = plan.unpricedModels.length > 0 ? plan.unpricedModels.join(', ') : 'the model (none is named)';
    lines.push(`  cost: no price known for ${which}; ${tokens} (the Batches API charges half)`);
  }
  return lines;
}

/** Plan-sized durations: `45 s`, `12 min`, `1 h 30 min` (the ui's formats are for live progress). */
function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function fmtNum(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtTokens(n: number): string {
  return `${fmtNum(n)} ${Math.round(n) === 1 ? 'token' : 'tokens'}`;
}

/** An upper bound in USD: `≤ $4.14`, or `< $0.01` for less than a cent (never `≤ < $0.01`). */
function atMost(n: number): string {
  if (n > 0 && n < 0.01) return '< $0.01';
  return `≤ $${n.toFixed(2)}`;
}

/** The plan for `--dry-run --json`, snake_case like the summary. */
export function planObject(plan: Plan): Record<string, unknown> {
  return {
    mode: plan.mode,
    reasons: plan.reasons,
    realtime_seconds: Math.round(plan.realtimeSeconds),
    batch_seconds: plan.batchSeconds,
    tokens: { input: plan.tokens.input, output_max: plan.tokens.outputMax },
    cost: plan.cost ?? null,
  };
}
