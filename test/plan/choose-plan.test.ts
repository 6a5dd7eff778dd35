import { describe, expect, it } from 'vitest';
import { choosePlan, formatPlan, planObject, priceFor, type PlanInput } from '../../src/plan/index.js';
import type { PlanClass } from '../../src/plan/realtime-estimate.js';

/** One model, one class: `items` items of `chars` prompt characters and `maxTokens` max_tokens each. */
function input(over: Partial<PlanInput> & { items?: number; chars?: number; maxTokens?: number; model?: string; cls?: Partial<PlanClass> } = {}): PlanInput {
  const { items = 20, chars = 400, maxTokens = 256, model = 'claude-haiku-4-5', cls = {}, ...rest } = over;
  return {
    items,
    classes: [
      {
        modelClass: model,
        items,
        promptChars: items * chars,
        maxTokens: items * maxTokens,
        limits: { rpm: 1000, itpm: 2_000_000, otpm: 400_000 },
        limitsSource: 'assumed',
        ...cls,
      },
    ],
    byModel: { [model]: { items, promptChars: items * chars, maxTokens: items * maxTokens } },
    urgent: false,
    mode: 'auto',
    thresholdMinutes: 10,
    smallJobItems: 100,
    priceOverrides: {},
    ...rest,
  };
}

describe('choosePlan in auto mode', () => {
  it('chooses real-time for 20 items, a small job', () => {
    const plan = choosePlan(input());
    expect(plan.mode).toBe('realtime');
    expect(plan.reasons.join(' ')).toMatch(/small job/);
  });

  it('chooses the Batches API for 3,000 items at 50 requests/min', () => {
    const plan = choosePlan(input({ items: 3000, cls: { limits: { rpm: 50 }, limitsSource: 'given' } }));
    expect(plan.mode).toBe('batch');
    expect(plan.realtimeSeconds).toBeCloseTo(3600, 5);
    expect(plan.reasons.join(' ')).toMatch(/over the 10 min threshold/);
  });

  it('chooses real-time for the same 3,000 items when urgent', () => {
    const plan = choosePlan(input({ items: 3000, cls: { limits: { rpm: 50 }, limitsSource: 'given' }, urgent: true }));
    expect(plan.mode).toBe('realtime');
    expect(plan.reasons.join(' ')).toMatch(/--urgent/);
  });

  it('chooses real-time when the job fits within the threshold', () => {
    const plan = choosePlan(input({ items: 3000, cls: { limits: { rpm: 4000 }, limitsSource: 'learned' } }));
    expect(plan.mode).toBe('realtime');
    expect(plan.realtimeSeconds).toBeCloseTo(45, 5);
  });

  it('paces by the tightest of rpm, itpm and otpm', () => {
    // 1,000 items of 1,000 input tokens each at 100k ITPM: 100 requests/min binds, not the 4,000 rpm.
    const plan = choosePlan(input({ items: 1000, chars: 4000, maxTokens: 100, cls: { limits: { rpm: 4000, itpm: 100_000, otpm: 1e9 }, limitsSource: 'given' } }));
    expect(plan.realtimeSeconds).toBeCloseTo(600, 5);
    expect(plan.reasons.join(' ')).toMatch(/input tokens\/min/);
  });

  it('paces output by the expected answer, not max_tokens', () => {
    // max_tokens 4096 but answers of ~100 tokens learned before: 90k OTPM allows 900 a minute, so
    // the 600 RPM binds; reserving max_tokens would have said 22 a minute.
    const plan = choosePlan(input({ items: 3000, maxTokens: 4096, cls: { limits: { rpm: 600, otpm: 90_000 }, limitsSource: 'given', expectedOutput: 100 } }));
    expect(plan.realtimeSeconds).toBeCloseTo(300, 5);
    expect(plan.tokens).toMatchObject({ outputExpected: 300_000, outputMax: 3000 * 4096 });
  });

  it('without anything learned, expects a quarter of max_tokens, at most 1,000', () => {
    const plan = choosePlan(input({ items: 100, maxTokens: 32_000, cls: { limits: { otpm: 100_000 }, limitsSource: 'given' } }));
    expect(plan.paces[0]!.requestsPerMinute).toBeCloseTo(100, 5);
  });

  it('assumes the Start tier and says so when no limit is known', () => {
    const plan = choosePlan(input({ items: 3000 }));
    expect(plan.realtimeSeconds).toBeCloseTo(180, 5);
    expect(plan.reasons[0]).toMatch(/limits not known for claude-haiku-4-5: assuming the Start tier \(1,000 requests, 2,000,000 input and 400,000 output tokens per minute\)/);
    expect(plan.reasons.join(' ')).not.toMatch(/Tier 1|50 requests/);
  });

  it('runs model classes at once: the job takes as long as its slowest class', () => {
    const base = input({ items: 600 });
    const plan = choosePlan({
      ...base,
      items: 1200,
      classes: [
        { ...base.classes[0]!, limits: { rpm: 600 }, limitsSource: 'given' },
        { ...base.classes[0]!, modelClass: 'claude-sonnet-4', limits: { rpm: 300 }, limitsSource: 'given' },
      ],
      smallJobItems: 0,
    });
    expect(plan.realtimeSeconds).toBeCloseTo(120, 5);
    expect(plan.reasons.join(' ')).toMatch(/300 requests\/min for claude-sonnet-4 \(the slowest of 2 model classes, which run at once\)/);
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
  it('prices input at promptChars/4 and output at the expected answer, with max_tokens as the upper bound; the batch at half', () => {
    const plan = choosePlan(input({ items: 1000, chars: 4000, maxTokens: 200, model: 'claude-sonnet-4-5', cls: { modelClass: 'claude-sonnet-4', expectedOutput: 100 } }));
    expect(plan.tokens).toEqual({ input: 1_000_000, outputExpected: 100_000, outputMax: 200_000 });
    expect(plan.cost?.realtime).toBeCloseTo(3 + 1.5, 9);
    expect(plan.cost?.realtimeMax).toBeCloseTo(3 + 3, 9);
    expect(plan.cost?.batch).toBeCloseTo((3 + 1.5) / 2, 9);
    expect(plan.cost?.batchMax).toBeCloseTo(3, 9);
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
    const plan = choosePlan(input({ chars: 200_000, maxTokens: 1, priceOverrides: { 'claude-haiku-4-5': haikuAt(2, 0) } }));
    expect(plan.cost?.realtime).toBeCloseTo(2, 9);
  });

  it('shows tokens only for a model without a price, naming it', () => {
    const plan = choosePlan(input({ model: 'my-finetune' }));
    expect(plan.cost).toBeUndefined();
    expect(plan.unpricedModels).toEqual(['my-finetune']);
    expect(formatPlan(plan).join('\n')).toMatch(/no price known for my-finetune; input ≈ 2,000 tokens/);
  });
});

describe('formatPlan', () => {
  it('says "< $0.01" for less than a cent', () => {
    const text = formatPlan(choosePlan(input({ items: 1, chars: 40, maxTokens: 10 }))).join('\n');
    expect(text).toMatch(/cost: real-time under \$0\.01, Batches API under \$0\.01 \(50% off\)/);
  });

  it('says "1 token", not "1 tokens"', () => {
    const text = formatPlan(choosePlan(input({ items: 1, chars: 4, maxTokens: 1 }))).join('\n');
    expect(text).toMatch(/input ≈ 1 token, output ≈ 1 token \(≤ 1 token at max_tokens\)/);
  });

  it('prints the choice, the reasons, time and cost each way, and the JSON form', () => {
    const plan = choosePlan(input({ items: 3000, chars: 400, maxTokens: 256, cls: { limits: { rpm: 50 }, limitsSource: 'given' } }));
    const text = formatPlan(plan).join('\n');
    expect(text.split('\n')[0]).toBe('plan: Message Batches API');
    expect(text).toMatch(/real-time ≈ 1 h; Batches API typically ≤ 1 h, at most 24 h/);
    expect(text).toMatch(/cost: real-time ≈ \$[\d.]+ \(at most \$[\d.]+\), Batches API ≈ \$[\d.]+ \(at most \$[\d.]+\) \(50% off\)/);
    expect(planObject(plan)).toMatchObject({ mode: 'batch', realtime_seconds: 3600, classes: [{ model_class: 'claude-haiku-4-5', requests_per_minute: 50 }] });
  });
});
