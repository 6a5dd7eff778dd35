/**
 * The heart of claw-batch: the real CLI against the simulator's token buckets. Each test measures
 * the run's wall time against N/limit, as the issue asks; the bounds are the issue's own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startSimulator, replyText, type Simulator } from '../../src/simulator/index.js';
import { countById, readResults, removeDir, runCli, tempDir, textOf, writeItems } from '../helpers/cli.js';

let sim: Simulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  if (dir) removeDir(dir);
});

function env() {
  return { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: 'test-key', CLAW_BATCH_STATE_DIR: join(dir, 'state') };
}

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
    dir = tempDir();
    sim.setOptions({ rpm: 600, itpm: undefined, otpm: undefined, burstSeconds: 1 });
    sim.resetCounters();
    const prompt = (i: number) => `Classify ticket ${i}: my order has not arrived`;
    const input = writeItems(dir, 300, prompt);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(
      ['run', input, '-o', out, '--rpm', '600', '--concurrency', '8', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'],
      { env: env() },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(sim.counters().rateLimited).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, 300, prompt);
    const ideal = (300 / 600) * 60_000;
    expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.03);
  });
});

describe('run with limits it has to learn', () => {
  const N = 150;
  const prompt = (i: number) => `Label document ${i}`;

  it('with no limit given, learns 1200 RPM from the headers: every item succeeds, <=1% 429s, within 10% of N/limit', async () => {
    dir = tempDir();
    sim.setOptions({ rpm: 1200, itpm: undefined, otpm: undefined, burstSeconds: 1 });
    sim.resetCounters();
    const input = writeItems(dir, N, prompt);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--concurrency', '16', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'], {
      env: env(),
    });
    expect(r.code).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, N, prompt);
    const c = sim.counters();
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
    const ideal = (N / 1200) * 60_000;
    expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.1);
  });

  it('with a claimed --rpm four times the real one, keeps to the real limit: <=1% 429s, within 10% of N/limit', async () => {
    dir = tempDir();
    sim.setOptions({ rpm: 1200, itpm: undefined, otpm: undefined, burstSeconds: 1 });
    sim.resetCounters();
    const input = writeItems(dir, N, prompt);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(
      ['run', input, '-o', out, '--rpm', '4800', '--concurrency', '16', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'],
      { env: env() },
    );
    expect(r.code).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, N, prompt);
    const c = sim.counters();
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
    const ideal = (N / 1200) * 60_000;
    expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.1);
  });

  it('keeps to the input-token limit when long prompts make ITPM bind: <=1% 429s, within 10% of its pace', async () => {
    dir = tempDir();
    const itpm = 120_000;
    sim.setOptions({ rpm: 6000, itpm, otpm: undefined, burstSeconds: 1 });
    sim.resetCounters();
    const long = (i: number) => `Summarize report ${i}: ${'the quarterly numbers were flat again. '.repeat(50)}`;
    const input = writeItems(dir, 40, long);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--concurrency', '8', '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'], {
      env: env(),
    });
    expect(r.code).toBe(0);
    expectEveryItemOnceWithItsOwnAnswer(out, 40, long);
    const c = sim.counters();
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
    const ideal = (c.inputTokens / itpm) * 60_000;
    expect(Math.abs(r.ms - ideal) / ideal).toBeLessThanOrEqual(0.1);
  });
});
