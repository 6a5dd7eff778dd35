import { describe, expect, it } from 'vitest';
import type { ClassBudget } from '../../src/limits/class-budget.js';
import { OutputEstimate } from '../../src/limits/output-estimate.js';
import { ClassLane } from '../../src/realtime/class-lane.js';

/** A lane over a budget that knows the Start tier's limits for its class: 1,000 RPM, 400k OTPM. */
function startTierLane(limits: { rpm?: number; otpm?: number } = { rpm: 1000, otpm: 400_000 }): ClassLane {
  const budget = {
    key: { account: 'a', modelClass: 'claude-haiku-4-5' },
    limits: () => limits,
    get outputPerSecond() {
      return limits.otpm === undefined ? undefined : limits.otpm / 60;
    },
  } as unknown as ClassBudget;
  return new ClassLane({ budget, ceiling: 1024 });
}

describe('the output a request reserves before any answer has ended', () => {
  it('streamed: its share of OTPM at the RPM pace, so max_tokens 1024 does not hold a Start-tier job to 6 requests a second', () => {
    const lane = startTierLane();
    const prior = lane.outputPrior(true)!;
    expect(prior).toBe(400);
    expect(new OutputEstimate().estimate(1024, prior)).toBe(400);
    // max_tokens below the share is reserved as it is.
    expect(new OutputEstimate().estimate(256, prior)).toBe(256);
  });

  it('not streamed (charged only at the end): one second of OTPM; with no limit known: none', () => {
    expect(startTierLane().outputPrior(false)).toBeCloseTo(6666.67, 1);
    expect(startTierLane({ otpm: 400_000 }).outputPrior(true)).toBeCloseTo(6666.67, 1);
    expect(startTierLane({ rpm: 1000 }).outputPrior(true)).toBeUndefined();
  });
});
