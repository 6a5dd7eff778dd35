/**
 * The heart of claw-batch: the real CLI against the simulator's token buckets. Each test counts
 * 429s and checks every item once with its own answer; the pace is read at the simulator, from when
 * the requests arrived (the CLI's start-up and the last answer's latency are not the limiter's), with
 * bounds loose enough for a shared machine. The exact ratios are measured by bench/limiters.js.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { runCli, writeItems } from '../helpers/cli.js';
import { arrivalRate, expectEveryItemOnceWithItsOwnAnswer } from '../helpers/pacing.js';

const fx = useSimulator({}, { latencyMs: 0 });

describe('run at a known limit', () => {
  it('sends 180 items at 2,400 RPM with a one-second bucket: all succeed, zero 429s, at the limit and not over it', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 2400, itpm: undefined, otpm: undefined, burstSeconds: 1 });
    fx.sim.resetCounters();
    const prompt = (i: number) => `Classify ticket ${i}: my order has not arrived`;
    const input = writeItems(dir, 180, prompt);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--rpm', '2400', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'], {
      env: fx.env(),
    });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const c = fx.sim.counters();
    expect(c.rateLimited).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, 180, prompt);
    // The pace after the opening burst: the API's full bucket bounds what may arrive at once (the upper
    // bound); claw-batch's own burst is half a second's worth (its bucket's capacity: the lower bound).
    expect(arrivalRate(c, 40)).toBeLessThanOrEqual(2400 * 1.02);
    expect(arrivalRate(c, 20)).toBeGreaterThanOrEqual(2400 * 0.85);
  });
});

describe('run with limits it has to learn', () => {
  const N = 150;
  const prompt = (i: number) => `Label document ${i}`;

  const cases: Array<[string, string[]]> = [
    ['with no limit given, learns 2400 RPM from the headers', []],
    ['with a claimed --rpm four times the real one, keeps to the real 2400 RPM', ['--rpm', '9600']],
  ];
  for (const [what, flags] of cases) {
    it(`${what}: every item succeeds, <=1% 429s, at the limit and not over it`, async () => {
      const dir = fx.newDir();
      fx.sim.setOptions({ rpm: 2400, itpm: undefined, otpm: undefined, burstSeconds: 1 });
      fx.sim.resetCounters();
      const input = writeItems(dir, N, prompt);
      const out = join(dir, 'out.jsonl');
      const r = await runCli(['run', input, '-o', out, ...flags, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'], { env: fx.env() });
      expect(r.code).toBe(0);
      expectEveryItemOnceWithItsOwnAnswer(out, N, prompt);
      const c = fx.sim.counters();
      expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
      // As above: the API's bucket for the upper bound, claw-batch's half-second burst for the lower.
      expect(arrivalRate(c, 40)).toBeLessThanOrEqual(2400 * 1.05);
      expect(arrivalRate(c, 20)).toBeGreaterThanOrEqual(2400 * 0.8);
    });
  }

  it('keeps to the input-token limit when long prompts make ITPM bind: at most one 429, not over the limit', async () => {
    const dir = fx.newDir();
    const itpm = 240_000;
    fx.sim.setOptions({ rpm: 6000, itpm, otpm: undefined, burstSeconds: 1 });
    fx.sim.resetCounters();
    const long = (i: number) => `Summarize report ${i}: ${'the quarterly numbers were flat again. '.repeat(50)}`;
    const input = writeItems(dir, 60, long);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'], { env: fx.env() });
    expect(r.code).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, 60, long);
    const c = fx.sim.counters();
    expect(c.rateLimited).toBeLessThanOrEqual(1);
    // Input tokens per minute after the opening bucket (4,000 tokens, about 8 requests).
    const perRequest = c.inputTokens / c.succeeded;
    const rate = arrivalRate(c, 8) * perRequest;
    expect(rate).toBeLessThanOrEqual(itpm * 1.05);
    expect(rate).toBeGreaterThanOrEqual(itpm * 0.75);
  });
});
