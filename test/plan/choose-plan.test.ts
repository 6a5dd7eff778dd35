import { describe, expect, it } from 'vitest';
import { choosePlan, formatPlan, priceFor, type PlanInput } from '../../src/plan/index.js';

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    items: 20,
    promptChars: 20 * 400,
    maxTokens: 20 * 256,
    models: ['claude-haiku-4-5'],
    limits: {},
    limitsSource: 'none',
    concurrency: 8,
    urgent: false,
    mode: 'auto',
    thresholdMinutes: 10,
    smallJobItems: 100,
    priceOverrides: {},
    ...over,
  };
}

describe('choosePlan in auto mode', () => {
  it('chooses real-time for 20 items, a small job', () => {
    const plan = choosePlan(input());
    expect(plan.mode).toBe('realtime');
    expect(plan.reasons.join(' ')).toMatch(/small job/);
  });

  it('chooses the Batches API for 3,000 items at 50 requests/min', () => {
    const plan = choosePlan(input({ items: 3000, promptChars: 3000 * 400, maxTokens: 3000 * 256, limits: { rpm: 50 }, limitsSource: 'given' }));
    expect(plan.mode).toBe('batch');
    expect(plan.realtimeSeconds).toBeCloseTo(3600, 5);
    expect(plan.reasons.join(' ')).toMatch(/over the 10 min threshold/);
  });

  it('chooses real-time for the same 3,000 items when urgent', () => {
    const plan = choosePlan(input({ items: 3000, limits: { rpm: 50 }, limitsSource: 'given', urgent: true }));
    expect(plan.mode).toBe('realtime');
    expect(plan.reasons.join(' ')).toMatch(/--urgent/);
  });

  it('chooses real-time when the job fits within the threshold', () => {
    const plan = choosePlan(input({ items: 3000, limits: { rpm: 4000 }, limitsSource: 'learned' }));
    expect(plan.mode).toBe('realtime');
    expect(plan.realtimeSeconds).toBeCloseTo(45, 5);
  });

  it('paces by the tightest of rpm, itpm and otpm', () => {
    // 1,000 items of 1,000 input tokens each at 100k ITPM: 100 requests/min binds, not the 4,000 rpm.
    const plan = choosePlan(
      input({ items: 1000, promptChars: 1000 * 4000, maxTokens: 1000 * 100, limits: { rpm: 4000, itpm: 100_000, otpm: 1e9 }, limitsSource: 'given' }),
    );
    expect(plan.realtimeSeconds).toBeCloseTo(600, 5);
    expect(plan.reasons.join(' ')).toMatch(/input tokens\/min/);
  });

  it('assumes 50 requests/min and says so when no limit is known', () => {
    const plan = choosePlan(input({ items: 600 }));
    expect(plan.realtimeSeconds).toBeCloseTo(720, 5);
    expect(plan.mode).toBe('batch');
    expect(plan.reasons[0]).toMatch(/limits unknown; assuming 50 requests\/min/);
  });

  it('honours a forced mode whatever the size', () => {
    expect(choosePlan(input({ mode: 'batch' })).mode).toBe('batch');
    expect(choosePlan(input({ items: 1e6, mode: 'realtime' })).mode).toBe('realtime');
  });
});

/** A price override as the config produces it: cache rates at the usual multiples of input. */
function haikuAt(inputPerMTok: number, outputPerMTok: number) {
  return { inputPerMTok, outputPerMTok, cacheWrite5mPerMTok: inputPerMTok * 1.25, cacheWrite1hPerMTok: inputPerMTok * 2, cacheReadPerMTok: inputPerMTok / 10 };
}

describe('cost', () => {
  it('prices input at promptChars/4 and output at max_tokens, the batch at half', () => {
    const plan = choosePlan(input({ items: 1000, promptChars: 4_000_000, maxTokens: 200_000, models: ['claude-sonnet-4-5'] }));
    expect(plan.tokens).toEqual({ input: 1_000_000, outputMax: 200_000 });
    expect(plan.cost?.realtime).toBeCloseTo(3 + 3, 9);
    expect(plan.cost?.batch).toBeCloseTo(3, 9);
  });

  it('matches dated model names to their base price', () => {
    expect(priceFor('claude-haiku-4-5-20251001')).toEqual({
      inputPerMTok: 1, outputPerMTok: 5, cacheWrite5mPerMTok: 1.25, cacheWrite1hPerMTok: 2, cacheReadPerMTok: 0.1,
    });
    expect(priceFor('claude-sonnet-4-5-20250929')?.inputPerMTok).toBe(3);
    expect(priceFor('claude-3-5-haiku-latest')?.inputPerMTok).toBe(0.8);
    expect(priceFor('claude-opus-4-9')).toBeUndefined();
  });

  it('lets the config override a price', () => {
    const plan = choosePlan(input({ promptChars: 4_000_000, maxTokens: 0, priceOverrides: { 'claude-haiku-4-5': haikuAt(2, 10) } }));
    expect(plan.cost?.realtime).toBeCloseTo(2, 9);
  });

  it('shows tokens only for a model without a price', () => {
    const plan = choosePlan(input({ models: ['my-finetune'] }));
    expect(plan.cost).toBeUndefined();
    expect(formatPlan(plan).join('\n')).toMatch(/no price known.*input ≈ 2,000 tokens/);
  });
});

describe('formatPlan', () => {
  it('says "< $0.01" for less than a cent, never "≤ < $0.01"', () => {
    const text = formatPlan(choosePlan(input({ items: 1, promptChars: 40, maxTokens: 10 }))).join('\n');
    expect(text).toMatch(/real-time < \$0\.01, Batches API < \$0\.01 \(50% off\)/);
    expect(text).not.toMatch(/≤ </);
  });

  it('says "1 token", not "1 tokens"', () => {
    const text = formatPlan(choosePlan(input({ items: 1, promptChars: 4, maxTokens: 1 }))).join('\n');
    expect(text).toMatch(/input ≈ 1 token, output ≤ 1 token \(/);
  });

  it('names the model without a price when another has one', () => {
    const plan = choosePlan(input({ models: ['claude-haiku-4-5', 'my-finetune'] }));
    expect(plan.cost).toBeUndefined();
    expect(plan.unpricedModels).toEqual(['my-finetune']);
    expect(formatPlan(plan).join('\n')).toMatch(/no price known for my-finetune; input ≈ 2,000 tokens/);
  });

  it('prints the choice, the reasons, time and cost each way', () => {
    const lines = formatPlan(choosePlan(input({ items: 3000, promptChars: 3000 * 400, maxTokens: 3000 * 256, limits: { rpm: 50 }, limitsSource: 'given' })));
    const text = lines.join('\n');
    expect(lines[0]).toBe('plan: Message Batches API');
    expect(text).toMatch(/real-time ≈ 1 h; Batches API typically ≤ 1 h, at most 24 h/);
    expect(text).toMatch(/real-time ≤ \$4\.14, Batches API ≤ \$2\.07 \(50% off\)/);
  });
});
