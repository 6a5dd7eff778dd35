/**
 * Choosing between real-time and the Message Batches API, with the time and cost each way. Pure
 * functions: the only I/O is reading data/prices.json once (src/plan/prices.ts); plan-input.ts
 * gathers what they need (limits given, learned or assumed) from the settings and the state dir.
 */
import type { ModelShare } from '../input/index.js';
import { modelClass } from '../limits/model-class.js';
import { plural } from '../ui/format.js';
import { formatDuration } from './format-plan.js';
import { priceFor, type ModelPrice } from './prices.js';
import { cutOverAt } from './deadline.js';
import { CHARS_PER_TOKEN, classPace, expectedOutputPerItem, type ClassPace, type PlanClass } from './realtime-estimate.js';

export { priceFor, type ModelPrice } from './prices.js';
export { formatPlan, planObject } from './format-plan.js';
export { CHARS_PER_TOKEN, type PlanClass } from './realtime-estimate.js';

export interface PlanInput {
  items: number;
  /** One entry per model class in the input. */
  classes: PlanClass[];
  /** Per model, for prices. */
  byModel: Record<string, ModelShare>;
  urgent: boolean;
  mode: 'auto' | 'realtime' | 'batch';
  thresholdMinutes: number;
  smallJobItems: number;
  priceOverrides: Record<string, ModelPrice>;
  /** `--deadline`: ms since epoch by which every result must be there, and the time now. */
  deadline?: { at: number; now: number };
}

export interface PlanCost {
  /** At the expected output. */
  realtime: number;
  batch: number;
  /** Upper bounds: every answer as long as its max_tokens. */
  realtimeMax: number;
  batchMax: number;
  currency: 'USD';
}

export interface Plan {
  mode: 'realtime' | 'batch';
  /** Why, in plain words. */
  reasons: string[];
  /** Estimated duration real-time, under the limits (the slowest class). */
  realtimeSeconds: number;
  /** Each class's pace. */
  paces: ClassPace[];
  batchSeconds: { typical: number; max: number };
  tokens: { input: number; outputExpected: number; outputMax: number };
  /** Undefined when a model has no price: the plan then shows tokens only. */
  cost?: PlanCost;
  /** The models of the job that have no price (in data/prices.json or the config). */
  unpricedModels: string[];
  /**
   * With `--deadline` and the Batches API: when to cancel a batch that has not ended and finish in
   * real time (ms since epoch, for all items unresolved), and the real-time time per item.
   */
  cutOver?: { at: number; msPerItem: number; deadline: number };
  /** With `--deadline`: real time alone cannot finish by then (nothing should be sent). */
  deadlineMissed?: string;
}

/** The Start tier's limits per model class, assumed when nothing is given or learned. */
export const START_TIER = { rpm: 1_000, itpm: 2_000_000, otpm: 400_000 } as const;
/** Most batches end within an hour; the API lets one run for 24 hours before it expires. */
export const BATCH_TYPICAL_SECONDS = 60 * 60;
export const BATCH_MAX_SECONDS = 24 * 60 * 60;
/** The Message Batches API charges half the list price. */
export const BATCH_DISCOUNT = 0.5;

function estimateCost(input: PlanInput, unpriced: string[]): PlanCost | undefined {
  const models = Object.keys(input.byModel);
  if (models.length === 0 || unpriced.length > 0) return undefined;
  const expectedPerItem = new Map(input.classes.map((c) => [c.modelClass, expectedOutputPerItem(c)]));
  let expected = 0;
  let max = 0;
  for (const model of models) {
    const share = input.byModel[model]!;
    const price = priceFor(model, input.priceOverrides)!;
    const inputCost = (share.promptChars / CHARS_PER_TOKEN) * price.inputPerMTok;
    const perItem = Math.min(share.maxTokens / Math.max(1, share.items), expectedPerItem.get(modelClass(model)) ?? Infinity);
    expected += (inputCost + perItem * share.items * price.outputPerMTok) / 1e6;
    max += (inputCost + share.maxTokens * price.outputPerMTok) / 1e6;
  }
  return { realtime: expected, batch: expected * BATCH_DISCOUNT, realtimeMax: max, batchMax: max * BATCH_DISCOUNT, currency: 'USD' };
}

export function choosePlan(input: PlanInput): Plan {
  const paces = input.classes.map(classPace);
  const slowest = paces.reduce<ClassPace | undefined>((a, b) => (!a || b.seconds > a.seconds ? b : a), undefined);
  const realtimeSeconds = slowest?.seconds ?? 0;
  const reasons: string[] = [];
  const assumed = input.classes.filter((c) => c.limitsSource === 'assumed');
  const allAssumed = assumed.filter((c) => (c.assumedLimits ?? ['rpm', 'itpm', 'otpm']).length === 3).map((c) => c.modelClass);
  if (allAssumed.length > 0) {
    reasons.push(
      `limits not known for ${allAssumed.join(', ')}: assuming the Start tier (${START_TIER.rpm.toLocaleString('en-US')} requests, ` +
        `${START_TIER.itpm.toLocaleString('en-US')} input and ${START_TIER.otpm.toLocaleString('en-US')} output tokens per minute) — ` +
        'pass --rpm/--itpm/--otpm, or a first run learns them',
    );
  }
  for (const c of assumed) {
    const some = c.assumedLimits ?? [];
    if (some.length === 0 || some.length === 3) continue;
    const named = { rpm: `${START_TIER.rpm.toLocaleString('en-US')} requests`, itpm: `${START_TIER.itpm.toLocaleString('en-US')} input tokens`, otpm: `${START_TIER.otpm.toLocaleString('en-US')} output tokens` };
    reasons.push(`${c.modelClass}: ${some.map((k) => k.toUpperCase()).join(' and ')} not known: assuming the Start tier's (${some.map((k) => named[k]).join(', ')} per minute)`);
  }
  const realtimeText = slowest ? `real-time would take about ${formatDuration(realtimeSeconds)} at ${describePace(paces, slowest)}` : 'real-time';
  const threshold = input.thresholdMinutes * 60;

  let mode: Plan['mode'];
  const msPerItem = input.items > 0 ? (realtimeSeconds * 1000) / input.items : 0;
  const deadline = input.deadline;
  let cutOver: Plan['cutOver'];
  let deadlineMissed: string | undefined;
  if (deadline && realtimeSeconds * 1000 > deadline.at - deadline.now) {
    deadlineMissed =
      `--deadline ${new Date(deadline.at).toISOString()} is ${formatDuration((deadline.at - deadline.now) / 1000)} away, but ${realtimeText}` +
      ' — even real time cannot meet it';
  }
  if (input.mode === 'realtime') {
    mode = 'realtime';
    reasons.push('real-time was asked for (--realtime, or mode in the config or CLAW_BATCH_MODE)', realtimeText);
  } else if (input.mode === 'batch') {
    mode = 'batch';
    reasons.push('the Batches API was asked for (--batch-api, submit, or mode in the config or CLAW_BATCH_MODE)', realtimeText);
  } else if (input.urgent) {
    mode = 'realtime';
    reasons.push(`--urgent: results as they come rather than within the hour; ${realtimeText}`);
  } else if (deadline) {
    const at = cutOverAt(deadline.at, input.items, msPerItem);
    if (deadlineMissed || at <= deadline.now) {
      mode = 'realtime';
      reasons.push(deadlineMissed ?? `--deadline: ${realtimeText}, too close to the deadline to try the Batches API first`);
    } else {
      mode = 'batch';
      cutOver = { at, msPerItem, deadline: deadline.at };
      reasons.push(
        `--deadline ${new Date(deadline.at).toISOString()}: the Batches API at half price; if it has not ended by ${new Date(at).toISOString()}, ` +
          `it is canceled, what it finished is kept, and the rest runs in real time (${realtimeText} for all of it)`,
      );
    }
  } else if (input.items <= input.smallJobItems) {
    mode = 'realtime';
    reasons.push(`${plural(input.items, 'item')} is a small job (at most ${input.smallJobItems.toLocaleString('en-US')}): real-time`);
  } else if (realtimeSeconds <= threshold) {
    mode = 'realtime';
    reasons.push(`${realtimeText}, within the ${formatDuration(threshold)} threshold`);
  } else {
    mode = 'batch';
    reasons.push(`${realtimeText}, over the ${formatDuration(threshold)} threshold`, 'the Batches API has no per-minute limit and costs half');
  }

  const unpricedModels = Object.keys(input.byModel).filter((model) => !priceFor(model, input.priceOverrides));
  const tokens = {
    input: Math.ceil(input.classes.reduce((n, c) => n + c.promptChars, 0) / CHARS_PER_TOKEN),
    outputExpected: Math.round(paces.reduce((n, p) => n + p.expectedOutputTokens, 0)),
    outputMax: input.classes.reduce((n, c) => n + c.maxTokens, 0),
  };
  return {
    mode,
    reasons,
    realtimeSeconds,
    paces,
    batchSeconds: { typical: BATCH_TYPICAL_SECONDS, max: BATCH_MAX_SECONDS },
    tokens,
    cost: estimateCost(input, unpricedModels),
    unpricedModels,
    cutOver,
    deadlineMissed,
  };
}

/** The binding limit of the slowest class, naming the class when there are several. */
function describePace(paces: ClassPace[], slowest: ClassPace): string {
  return paces.length > 1 ? `${slowest.binding} for ${slowest.modelClass} (the slowest of ${paces.length} model classes, which run at once)` : slowest.binding;
}
