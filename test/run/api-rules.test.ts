/**
 * The real CLI against the simulator following the API's 2026 rules by default: output counted as
 * produced (max_tokens does not factor in), cache-aware input, limits per model class, rounded
 * headers, billing refusals. Each test asserts what users rely on — every item exactly once, the
 * 429 count, the exit code — and the behaviour that proves the rule is followed (requests in
 * flight, cache writes, which class finished first), not wall-clock times.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { useSimulator } from '../helpers/simulator.js';
import { countById, readResults, runCli } from '../helpers/cli.js';

const fx = useSimulator({ latencyMs: 200, jitterMs: 50 }, {});

type Rec = Record<string, unknown>;

function writeJsonl(dir: string, records: Rec[], name = 'items.jsonl'): string {
  const path = join(dir, name);
  writeFileSync(path, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}

function expectEachOnce(out: string, n: number, type = 'succeeded'): void {
  const lines = readResults(out);
  const counts = countById(lines);
  expect(counts.size).toBe(n);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  expect(lines.every((l) => l.result.type === type)).toBe(true);
}

const ticket = (i: number) => `Classify support ticket ${i}: my parcel has not arrived.`;

describe('output tokens count as produced; max_tokens is an upper bound for cost only', () => {
  it('max_tokens 4096 with ~100-token answers and a 90k OTPM: many requests in flight, no 429', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 800, itpm: 2_000_000, otpm: 90_000, replyTokens: { min: 80, max: 120 }, outputTokensPerSecond: 400 });
    fx.sim.resetCounters();
    const input = writeJsonl(dir, Array.from({ length: 60 }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1), max_tokens: 4096 })));
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--realtime', '--quiet'], { env: fx.env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectEachOnce(out, 60);
    const c = fx.sim.counters();
    expect(c.rateLimited).toBe(0);
    // Reserving max_tokens against a 90k OTPM bucket (1,125 tokens in 0.75 s) lets one request
    // through at a time; counting real output keeps several in flight.
    expect(c.peakInFlight).toBeGreaterThanOrEqual(4);
  });

  it('long answers where OTPM binds: every item once, at most 1% 429s', async () => {
    const dir = fx.newDir();
    // 60k OTPM with ~300-token answers: 200 a minute, far below the 3,000 RPM.
    fx.sim.setOptions({ rpm: 3000, itpm: 2_000_000, otpm: 60_000, replyTokens: { min: 250, max: 350 }, outputTokensPerSecond: 400 });
    fx.sim.resetCounters();
    const input = writeJsonl(dir, Array.from({ length: 20 }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1), max_tokens: 4096 })));
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--realtime', '--quiet'], { env: fx.env() });
    expect(r.code).toBe(0);
    expectEachOnce(out, 20);
    const c = fx.sim.counters();
    expect(c.rateLimited).toBeLessThanOrEqual(Math.ceil(c.requests * 0.01));
    expect(c.peakInFlight).toBeGreaterThanOrEqual(2);
  });
});

describe('input tokens, cache-aware', () => {
  const shared = `You are a triage assistant. ${'Apply the triage policy to the ticket. '.repeat(500)}`;
  const cachedItems = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      custom_id: `t-${i + 1}`,
      prompt: ticket(i + 1),
      system: [{ type: 'text', text: shared, cache_control: { type: 'ephemeral' } }],
    }));

  it('a shared cached prefix is written once before fanning out, read by the rest; the summary shows both', async () => {
    const dir = fx.newDir();
    // ITPM tight enough that a wave of writers (5k tokens each) would be a 429 storm: one second of
    // it holds just over one write.
    fx.sim.setOptions({ rpm: 3000, itpm: 400_000, otpm: undefined, replyTokens: 20, outputTokensPerSecond: undefined });
    fx.sim.flushCache();
    fx.sim.resetCounters();
    const input = writeJsonl(dir, cachedItems(120));
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'], { env: fx.env() });
    expect(r.code).toBe(0);
    expectEachOnce(out, 120);
    const c = fx.sim.counters();
    expect(c.cacheWrites).toBeLessThanOrEqual(2);
    expect(c.cacheReads).toBeGreaterThanOrEqual(118);
    expect(c.rateLimited).toBe(0);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!) as Rec;
    expect(summary.cache_write_tokens).toBe(c.cacheCreationInputTokens);
    expect(summary.cache_read_tokens).toBe(c.cacheReadInputTokens);
  });

  it('a cache evicted mid-run causes no 429 storm, and every item still succeeds once', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 3000, itpm: 400_000, otpm: undefined, replyTokens: 20, outputTokensPerSecond: undefined });
    fx.sim.flushCache();
    fx.sim.resetCounters();
    const input = writeJsonl(dir, cachedItems(200));
    const out = join(dir, 'out.jsonl');
    const evict = setInterval(() => {
      if (fx.sim.counters().succeeded >= 80) {
        fx.sim.flushCache();
        clearInterval(evict);
      }
    }, 20);
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--quiet'], { env: fx.env() });
    clearInterval(evict);
    expect(r.code).toBe(0);
    expectEachOnce(out, 200);
    const c = fx.sim.counters();
    // The eviction costs the writes of the requests already on their way and a pause, not a storm.
    expect(c.rateLimited).toBeLessThanOrEqual(6);
    expect(c.cacheWrites).toBeLessThanOrEqual(12);
  });

  it('a flat record with inference_geo and a top-level cache_control passes, and counts as cached', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 1200, itpm: undefined, otpm: undefined, replyTokens: undefined });
    fx.sim.resetCounters();
    const input = writeJsonl(dir, [{ custom_id: 'a', prompt: ticket(1), inference_geo: 'global', cache_control: { type: 'ephemeral' } }]);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--realtime', '--quiet'], { env: fx.env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectEachOnce(out, 1);
  });
});

describe('limits per model class', () => {
  it('Haiku and Sonnet interleaved run each at its own limit: Haiku is not held to Sonnet’s pace', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 3000, itpm: undefined, otpm: undefined, classLimits: { 'claude-sonnet-4': { rpm: 300 } }, replyTokens: undefined });
    fx.sim.resetCounters();
    const n = 80;
    const input = writeJsonl(
      dir,
      Array.from({ length: n }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1), model: i % 2 === 0 ? 'claude-sonnet-4-5' : 'claude-haiku-4-5' })),
    );
    const out = join(dir, 'out.jsonl');
    let sonnetWhenHaikuDone: number | undefined;
    const watch = setInterval(() => {
      const byClass = fx.sim.counters().byClass;
      if (sonnetWhenHaikuDone === undefined && (byClass['claude-haiku-4-5']?.succeeded ?? 0) >= n / 2) {
        sonnetWhenHaikuDone = byClass['claude-sonnet-4']?.succeeded ?? 0;
      }
    }, 20);
    const r = await runCli(['run', input, '-o', out, '--max-tokens', '64', '--realtime', '--quiet'], { env: fx.env() });
    clearInterval(watch);
    expect(r.code).toBe(0);
    expectEachOnce(out, n);
    const c = fx.sim.counters();
    expect(c.rateLimited).toBeLessThanOrEqual(1);
    // At 3,000 vs 300 RPM, the 40 Haiku items are done while most Sonnet items still wait; held to
    // Sonnet's pace (one queue for both) they would finish together.
    expect(sonnetWhenHaikuDone).toBeDefined();
    expect(sonnetWhenHaikuDone!).toBeLessThan(n / 4);
  });
});

describe('billing refusals stop the run', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a spend limit set for the workspace (400)', 'workspace-limit', /spend limit set for this workspace is reached/],
    ['a credit balance too low (400)', 'credit-balance', /credit balance is too low/],
    ['a billing error (402)', 'billing-error', /billing/],
  ];
  for (const [what, kind, says] of cases) {
    it(`${what} after 30 items: exit 3, no errored lines, one line saying why; the rerun finishes every item once`, async () => {
      const dir = fx.newDir();
      fx.sim.setOptions({ rpm: 3000, itpm: undefined, otpm: undefined, classLimits: undefined, billingRefusal: kind as never, billingRefusalAfter: 30 });
      fx.sim.resetCounters();
      const input = writeJsonl(dir, Array.from({ length: 60 }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1) })));
      const out = join(dir, 'out.jsonl');
      const args = ['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--quiet'];
      const r = await runCli(args, { env: fx.env() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      const lines = readResults(out);
      expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
      expect(lines.length).toBeGreaterThanOrEqual(30);
      expect(lines.length).toBeLessThan(60);

      fx.sim.setOptions({ billingRefusalAfter: undefined });
      const again = await runCli(args, { env: fx.env() });
      expect(again.code).toBe(0);
      expectEachOnce(out, 60);
    });
  }
});
