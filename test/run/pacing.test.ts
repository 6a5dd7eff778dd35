/**
 * The heart of claw-batch: the real CLI against the simulator's token buckets. Each test measures
 * the run's wall time against N/limit, as the issue asks; the bounds are the issue's own.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { replyText } from '../../src/simulator/index.js';
import { useSimulator } from '../helpers/simulator.js';
import { countById, readResults, runCli, textOf, writeItems } from '../helpers/cli.js';

const fx = useSimulator({}, {});

function expectEveryItemOnceWithItsOwnAnswer(out: string, n: number, prompt: (i: number) => string): void {
  const lines = readResults(out);
  const counts = countById(lines);
  expect(counts.size).toBe(n);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  for (const line of lines) {
    expect(line.result.type).toBe('succeeded');
    const i = Number(line.custom_id.slice(2));
    expect(textOf(line)).toBe(
      replyText({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: prompt(i) }] }),
    );
  }
}

describe('run at a known limit', () => {
  it('sends 300 items at 600 RPM with a one-second bucket: all succeed, zero 429s, within 3% of N/limit', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600, itpm: undefined, otpm: undefined, burstSeconds: 1 });
    fx.sim.resetCounters();
    const prompt = (i: number) => `Classify ticket ${i}: my order has not arrived`;
    const input = writeItems(dir, 300, prompt);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(
      ['run', input, '-o', out, '--rpm', '600', '--concurrency', '8', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'],
      { env: fx.env() },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(fx.sim.counters().rateLimited).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, 300, prompt);
    const ideal = (300 / 600) * 60_000;
    expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.03);
  });
});

describe('run with limits it has to learn', () => {
  const N = 150;
  const prompt = (i: number) => `Label document ${i}`;

  const cases: Array<[string, string[]]> = [
    ['with no limit given, learns 1200 RPM from the headers', []],
    ['with a claimed --rpm four times the real one, keeps to the real 1200 RPM', ['--rpm', '4800']],
  ];
  for (const [what, flags] of cases) {
    it(`${what}: every item succeeds, <=1% 429s, within 10% of N/limit`, async () => {
      const dir = fx.newDir();
      fx.sim.setOptions({ rpm: 1200, itpm: undefined, otpm: undefined, burstSeconds: 1 });
      fx.sim.resetCounters();
      const input = writeItems(dir, N, prompt);
      const out = join(dir, 'out.jsonl');
      const r = await runCli(
        ['run', input, '-o', out, ...flags, '--concurrency', '16', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'],
        { env: fx.env() },
      );
      expect(r.code).toBe(0);
      expectEveryItemOnceWithItsOwnAnswer(out, N, prompt);
      const c = fx.sim.counters();
      expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
      const ideal = (N / 1200) * 60_000;
      expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.1);
    });
  }

  it('keeps to the input-token limit when long prompts make ITPM bind: <=1% 429s, within 10% of its pace', async () => {
    const dir = fx.newDir();
    const itpm = 120_000;
    fx.sim.setOptions({ rpm: 6000, itpm, otpm: undefined, burstSeconds: 1 });
    fx.sim.resetCounters();
    const long = (i: number) => `Summarize report ${i}: ${'the quarterly numbers were flat again. '.repeat(50)}`;
    const input = writeItems(dir, 40, long);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--concurrency', '8', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'], {
      env: fx.env(),
    });
    expect(r.code).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, 40, long);
    const c = fx.sim.counters();
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
    const ideal = (c.inputTokens / itpm) * 60_000;
    expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.1);
  });
});
