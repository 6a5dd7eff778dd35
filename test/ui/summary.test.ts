import { describe, expect, it } from 'vitest';
import { formatDuration, formatEta, formatSummary, summaryObject } from '../../src/ui/index.js';
import { emptyStats, type RunStats } from '../../src/ui/stats.js';

const finished: RunStats = {
  ...emptyStats(5000, { rpm: 600, itpm: 80_000 }),
  skipped: 1200,
  done: 5000,
  succeeded: 4980,
  errored: 20,
  retried: 31,
  rateLimited: 2,
  faults: 3,
  requestsSent: 3831,
  inputTokens: 1_234_567,
  outputTokens: 345_678,
};
const wallMs = 380_000;

describe('formatSummary', () => {
  it('lists items, outcomes, retries, 429s, faults, wall time, achieved rate and tokens', () => {
    const text = formatSummary(finished, { wallMs, color: false });
    expect(text).toContain('5,000 items in 6m20s');
    expect(text).toMatch(/succeeded +4,980/);
    expect(text).toMatch(/errored +20/);
    expect(text).toMatch(/skipped +1,200 +already in the output/);
    expect(text).toMatch(/retried +31/);
    expect(text).toMatch(/429s +2/);
    expect(text).toMatch(/faults +3/);
    // 3,831 requests over 380 s is 605 per minute.
    expect(text).toMatch(/requests +3,831 +605 req\/min achieved \(limit 600\)/);
    expect(text).toContain('1,234,567 in · 345,678 out');
    expect(text).not.toContain('pending');
    expect(text).not.toContain('\x1b');
  });

  it('says how many are still pending when a run stopped early', () => {
    const text = formatSummary({ ...finished, done: 4000, succeeded: 3980 }, { wallMs, color: false });
    expect(text).toMatch(/pending +1,000 +not done: rerun the same command to resume/);
  });

  it('heads a stopped run with how many of the items were done, not just the total', () => {
    const stopped: RunStats = { ...emptyStats(200, { rpm: 600 }), done: 1, succeeded: 1, requestsSent: 1 };
    const text = formatSummary(stopped, { wallMs: 100, color: false });
    expect(text.split('\n')[0]).toBe('1 of 200 items done in 0.1s');
    expect(text).not.toContain('200 items in');
    expect(formatSummary(finished, { wallMs, color: false }).split('\n')[0]).toBe('5,000 items in 6m20s');
  });

  it('compares the achieved rate with the limit only for a run of a minute or more', () => {
    // 2 requests in 0.1 s is 1,200 per minute: the opening burst, not a breach of the limit.
    const short = formatSummary({ ...finished, requestsSent: 2 }, { wallMs: 100, color: false });
    expect(short).toMatch(/requests +2 +1,200 req\/min achieved$/m);
    expect(short).not.toContain('limit');
    const minute = formatSummary({ ...finished, requestsSent: 600 }, { wallMs: 60_000, color: false });
    expect(minute).toMatch(/requests +600 +600 req\/min achieved \(limit 600\)$/m);
  });

  it('colours only when asked', () => {
    expect(formatSummary(finished, { wallMs, color: true })).toMatch(/\x1b\[31m +20\x1b\[39m/);
  });
});

describe('summaryObject', () => {
  it('has the same numbers with snake_case keys', () => {
    expect(summaryObject(finished, { wallMs })).toEqual({
      items: 5000,
      succeeded: 4980,
      errored: 20,
      skipped: 1200,
      pending: 0,
      retried: 31,
      schema_retries: 0,
      rate_limited: 2,
      faults: 3,
      requests: 3831,
      wall_seconds: 380,
      requests_per_minute: 604.9,
      input_tokens: 1_234_567,
      output_tokens: 345_678,
      cache_write_tokens: 0,
      cache_read_tokens: 0,
      cost_usd: null,
      cost_other_way_usd: null,
      limits: { rpm: 600, itpm: 80_000 },
    });
  });

  it('carries the cost the caller worked out, and prints cache and cost lines for people', () => {
    const cost = { usd: 0.42, otherWayUsd: 0.21, text: '$0.42 at list price — the Batches API would have saved $0.21' };
    const stats = { ...finished, cacheWriteTokens: 2_000, cacheReadTokens: 98_000 };
    expect(summaryObject(stats, { wallMs, cost })).toMatchObject({ cost_usd: 0.42, cost_other_way_usd: 0.21, cache_write_tokens: 2000, cache_read_tokens: 98000 });
    const text = formatSummary(stats, { wallMs, color: false, cost });
    expect(text).toMatch(/cache +2,000 written · 98,000 read/);
    expect(text).toMatch(/cost +\$0\.42 at list price — the Batches API would have saved \$0\.21/);
  });

  it('reports zero rate for a run that took no time', () => {
    expect(summaryObject(emptyStats(0), { wallMs: 0 }).requests_per_minute).toBe(0);
  });
});

describe('durations', () => {
  it('reads like 42s, 6m20s, 2h05m', () => {
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(380_000)).toBe('6m20s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000 + 10_000)).toBe('2h05m');
    expect(formatDuration(3_450)).toBe('3.4s');
    expect(formatEta(7.4)).toBe('7s');
    expect(formatEta(380)).toBe('6m20s');
  });
});
