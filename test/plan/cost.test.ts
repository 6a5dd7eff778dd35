import { describe, expect, it } from 'vitest';
import { CostTally, costOfUsage, describeSavings, formatUsd, usageTokens } from '../../src/plan/cost.js';
import { priceFor } from '../../src/plan/prices.js';

// Every expected amount below is worked by hand: tokens x US$ per million tokens / 1,000,000.
const sonnet5 = priceFor('claude-sonnet-5')!; // 2 in, 10 out, 2.50 write 5m, 4 write 1h, 0.20 read
const opus55 = priceFor('claude-opus-5-5')!; // 4 in, 20 out, 5 write 5m, 8 write 1h, 0.20 read
const haiku55 = priceFor('claude-haiku-5-5')!; // 0.10 / 0.50 / 0.125 / 0.20 / 0.01; over 100,000: 0.50 / 2.50 / 0.625 / 1 / 0.05

describe('costOfUsage', () => {
  it('prices 1,000,000 cache-read tokens of Sonnet 5 at $0.20', () => {
    expect(costOfUsage({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 1_000_000 }, sonnet5)).toBe(0.2);
  });

  it('prices each kind of token at its own rate', () => {
    // 1,000 x 2 + 500 x 10 + 2,000 x 2.50 + 10,000 x 0.20 = 2,000 + 5,000 + 5,000 + 2,000 = 14,000 -> $0.014
    const usage = { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 10_000 };
    expect(costOfUsage(usage, sonnet5)).toBe(0.014);
  });

  it('halves every rate through the Message Batches API, cache writes and reads included', () => {
    const usage = { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 10_000 };
    expect(costOfUsage(usage, sonnet5, { batch: true })).toBe(0.007);
    expect(costOfUsage({ ...usage, service_tier: 'batch' }, sonnet5)).toBe(0.007);
    expect(costOfUsage({ ...usage, service_tier: 'batch' }, sonnet5, { batch: false })).toBe(0.014);
  });

  it('prices the 1-hour part of the cache_creation split at the 1-hour rate', () => {
    // Opus 5.5: 1,000 x 5 + 2,000 x 8 = 21,000 -> $0.021
    const usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 } };
    expect(costOfUsage(usage, opus55)).toBe(0.021);
  });

  it('counts cache writes as 5-minute ones when the split is absent, or short of the total', () => {
    expect(usageTokens({ cache_creation_input_tokens: 3000 })).toMatchObject({ cacheWrite5m: 3000, cacheWrite1h: 0 });
    const zeros = { cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };
    expect(usageTokens(zeros)).toMatchObject({ cacheWrite5m: 3000, cacheWrite1h: 0 });
    const partial = { cache_creation_input_tokens: 3000, cache_creation: { ephemeral_1h_input_tokens: 1000 } };
    expect(usageTokens(partial)).toMatchObject({ cacheWrite5m: 2000, cacheWrite1h: 1000 });
  });

  it('uses the cache read rates that depart from 0.1x: Fable 5.1 at $0.25, Opus 5.5 at $0.20, Sonnet 5.5 at $0.10', () => {
    const reads = { cache_read_input_tokens: 4_000_000 };
    expect(costOfUsage(reads, priceFor('claude-fable-5-1')!)).toBe(1); // 4M x 0.25
    expect(costOfUsage(reads, opus55)).toBe(0.8); // 4M x 0.20
    expect(costOfUsage(reads, priceFor('claude-sonnet-5-5')!)).toBe(0.4); // 4M x 0.10
  });

  it('keeps Haiku 5.5 at its low band up to a 100,000-token prompt', () => {
    // 100,000 x 0.10 + 1,000 x 0.50 = 10,000 + 500 = 10,500 -> $0.0105
    expect(costOfUsage({ input_tokens: 100_000, output_tokens: 1000 }, haiku55)).toBe(0.0105);
  });

  it('prices every token of a Haiku 5.5 request over 100,000 prompt tokens at the long-prompt band, output included', () => {
    // 100,001 x 0.50 + 1,000 x 2.50 = 50,000.5 + 2,500 = 52,500.5 -> $0.0525005
    expect(costOfUsage({ input_tokens: 100_001, output_tokens: 1000 }, haiku55)).toBe(0.0525005);
  });

  it('counts cache reads and writes in the prompt length that picks the band', () => {
    // prompt = 1 + 100,000 = 100,001: 1 x 0.50 + 100,000 x 0.05 = 0.5 + 5,000 = 5,000.5 -> $0.0050005
    expect(costOfUsage({ input_tokens: 1, cache_read_input_tokens: 100_000 }, haiku55)).toBe(0.0050005);
    // prompt = 50,000 + 50,001 written for an hour: 50,000 x 0.50 + 50,001 x 1 = 25,000 + 50,001 = 75,001 -> $0.075001
    const written = { input_tokens: 50_000, cache_creation_input_tokens: 50_001, cache_creation: { ephemeral_1h_input_tokens: 50_001 } };
    expect(costOfUsage(written, haiku55)).toBe(0.075001);
  });

  it('halves the long-prompt band too through the Batches API', () => {
    expect(costOfUsage({ input_tokens: 100_001, output_tokens: 1000 }, haiku55, { batch: true })).toBe(0.02625025);
  });

  it('treats an absent or null count as 0 and refuses one that is not a whole number >= 0, naming it', () => {
    expect(costOfUsage({ output_tokens: 100, cache_creation_input_tokens: null, cache_creation: null }, sonnet5)).toBe(0.001);
    expect(() => usageTokens({ input_tokens: -1 })).toThrow('Expected `usage.input_tokens` to be a whole number >= 0, got -1 (number)');
    expect(() => usageTokens({ output_tokens: 1.5 })).toThrow('`usage.output_tokens`');
    expect(() => usageTokens({ cache_read_input_tokens: '7' as unknown as number })).toThrow('got "7" (string)');
  });
});

describe('CostTally', () => {
  it('adds up usages per model without drifting: $0.10 + $0.20 is $0.30', () => {
    const tally = new CostTally();
    tally.add('claude-haiku-4-5', { cache_read_input_tokens: 1_000_000 }); // 1M x 0.10
    tally.add('claude-sonnet-5', { cache_read_input_tokens: 1_000_000 }); // 1M x 0.20
    expect(tally.report().totalUsd).toBe(0.3);
  });

  it('stays exact over many small usages', () => {
    const tally = new CostTally();
    // 10,000 x (7 x 2 + 3 x 10) = 10,000 x 44 = 440,000 -> $0.44
    for (let i = 0; i < 10_000; i++) tally.add('claude-sonnet-5', { input_tokens: 7, output_tokens: 3 });
    expect(tally.report().totalUsd).toBe(0.44);
  });

  it('reports tokens by kind and the cost for each model, dated names under their own', () => {
    const tally = new CostTally();
    tally.add('claude-sonnet-5', { input_tokens: 1000, output_tokens: 500 }); // 2,000 + 5,000 = 7,000 -> $0.007
    tally.add('claude-opus-5-5', { input_tokens: 100, cache_creation_input_tokens: 1000, cache_creation: { ephemeral_1h_input_tokens: 1000 } }); // 400 + 8,000 -> $0.0084
    tally.add('claude-haiku-4-5-20251001', { input_tokens: 10, output_tokens: 10, cache_read_input_tokens: 1000 }); // 10 + 50 + 100 = 160 -> $0.00016
    const report = tally.report();
    expect(report.requests).toBe(3);
    expect(report.tokens).toEqual({ input: 1110, output: 510, cacheWrite5m: 0, cacheWrite1h: 1000, cacheRead: 1000 });
    expect(report.models.map((m) => [m.model, m.usd])).toEqual([
      ['claude-haiku-4-5-20251001', 0.00016],
      ['claude-opus-5-5', 0.0084],
      ['claude-sonnet-5', 0.007],
    ]);
    expect(report.totalUsd).toBe(0.01556);
  });

  it('reports tokens only for a model without a price, and leaves it out of the total', () => {
    const tally = new CostTally();
    tally.add('my-finetune', { input_tokens: 5000, output_tokens: 100 });
    tally.add('claude-sonnet-5', { input_tokens: 1000 }); // $0.002
    const report = tally.report();
    expect(report.unpricedModels).toEqual(['my-finetune']);
    expect(report.models.find((m) => m.model === 'my-finetune')).toEqual({
      model: 'my-finetune', requests: 1, batchRequests: 0, usd: undefined,
      tokens: { input: 5000, output: 100, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 },
    });
    expect(report.tokens.input).toBe(6000);
    expect(report.totalUsd).toBe(0.002);
    expect(report.realtime.requests).toBe(1);
  });

  it('uses the config prices before the list prices', () => {
    const tally = new CostTally({
      prices: { 'my-finetune': { inputPerMTok: 1, outputPerMTok: 2, cacheWrite5mPerMTok: 1.25, cacheWrite1hPerMTok: 2, cacheReadPerMTok: 0.1 } },
    });
    tally.add('my-finetune', { input_tokens: 1_000_000, output_tokens: 1_000_000 }); // 1 + 2
    expect(tally.report()).toMatchObject({ totalUsd: 3, unpricedModels: [] });
  });

  it('says what real time would have cost for usage that went through the Batches API', () => {
    const tally = new CostTally();
    // Sonnet 5 at full price: 1,000,000 x 2 + 100,000 x 10 = 3,000,000 -> $3; the batch paid half.
    tally.add('claude-sonnet-5', { input_tokens: 1_000_000, output_tokens: 100_000 }, { batch: true });
    const report = tally.report();
    expect(report.totalUsd).toBe(1.5);
    expect(report.otherWayUsd).toBe(3);
    expect(report.batch).toEqual({ requests: 1, usd: 1.5, realtimeUsd: 3, savedUsd: 1.5 });
    expect(report.realtime).toEqual({ requests: 0, usd: 0, batchUsd: 0, wouldSaveUsd: 0 });
    expect(describeSavings(report)).toBe('the Batches API saved $1.50');
  });

  it('says what the Batches API would have saved for usage that ran in real time', () => {
    const tally = new CostTally();
    tally.add('claude-opus-5-5', { input_tokens: 1000, output_tokens: 1000 }); // 4,000 + 20,000 -> $0.024
    const report = tally.report();
    expect(report.realtime).toEqual({ requests: 1, usd: 0.024, batchUsd: 0.012, wouldSaveUsd: 0.012 });
    expect(report.otherWayUsd).toBe(0.012);
    expect(describeSavings(report)).toBe('the Batches API would have saved $0.012');
  });

  it('names both savings for a job that did some of each', () => {
    const tally = new CostTally();
    tally.add('claude-sonnet-5', { input_tokens: 1_000_000 }, { batch: true }); // $2 full, $1 paid
    tally.add('claude-sonnet-5', { input_tokens: 500_000 }); // $1 paid, $0.50 through batches
    tally.add('claude-sonnet-5', { input_tokens: 500_000 }); // likewise
    const report = tally.report();
    expect(report.totalUsd).toBe(3);
    expect(report.otherWayUsd).toBe(3); // $2 real time for the first, $1 through batches for the others
    expect(report.models[0]).toMatchObject({ requests: 3, batchRequests: 1, usd: 3 });
    expect(describeSavings(report)).toBe('the Batches API saved $1.00; on the 2 real-time requests it would have saved $1.00');
  });

  it('has no saving to describe when nothing priced was added', () => {
    const tally = new CostTally();
    expect(describeSavings(tally.report())).toBeUndefined();
    tally.add('my-finetune', { input_tokens: 5 });
    expect(describeSavings(tally.report())).toBeUndefined();
    expect(tally.report()).toMatchObject({ totalUsd: 0, otherWayUsd: 0 });
  });

  it('refuses a model that is not a name', () => {
    expect(() => new CostTally().add('', { input_tokens: 1 })).toThrow('Expected `model` to be a non-empty string, got ""');
  });
});

describe('formatUsd', () => {
  it('shows cents from 10 cents up, with thousands separated', () => {
    expect(formatUsd(12.34)).toBe('$12.34');
    expect(formatUsd(0.1)).toBe('$0.10');
    expect(formatUsd(1234.567)).toBe('$1,234.57');
    expect(formatUsd(0)).toBe('$0.00');
  });

  it('shows two significant digits below 10 cents, so a small job does not read $0.00', () => {
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(0.042)).toBe('$0.042');
    expect(formatUsd(0.05)).toBe('$0.05');
    expect(formatUsd(0.004)).toBe('$0.004');
    expect(formatUsd(0.00016)).toBe('$0.00016');
    expect(formatUsd(0.000000123)).toBe('$0.00000012');
    expect(formatUsd(0.09996)).toBe('$0.10');
    expect(formatUsd(-0.0042)).toBe('-$0.0042');
  });

  it('refuses an amount that is not a finite number', () => {
    expect(() => formatUsd(Number.NaN)).toThrow('Expected a finite amount of US$, got NaN');
  });
});
