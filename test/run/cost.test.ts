/**
 * Money: what a run cost, from the usage the API returned (cache writes and reads included, half
 * through the Batches API), and `--max-cost`, which stops a real-time run before its spend could
 * pass the cap and refuses a batch job whose worst case is over it.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countById, readResults, runCli } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({ latencyMs: 50, batchMs: 800 }, {});

/** Claude Haiku 4.5 list prices, US$ per million tokens (data/prices.json). */
const HAIKU = { input: 1, output: 5, write5m: 1.25, read: 0.1 };

interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

function usagesOf(out: string): Usage[] {
  return readResults(out).map((l) => (l.result as unknown as { message: { usage: Usage } }).message.usage);
}

function listPrice(usages: Usage[]): number {
  let usd = 0;
  for (const u of usages) {
    usd += u.input_tokens * HAIKU.input + u.output_tokens * HAIKU.output;
    usd += (u.cache_creation_input_tokens ?? 0) * HAIKU.write5m + (u.cache_read_input_tokens ?? 0) * HAIKU.read;
  }
  return usd / 1e6;
}

function summaryOf(stderr: string): Record<string, number> {
  return JSON.parse(stderr.trim().split('\n').pop()!) as Record<string, number>;
}

function writeCachedItems(dir: string, n: number): string {
  const shared = `Triage policy: ${'apply the policy to the ticket. '.repeat(300)}`;
  const path = join(dir, 'items.jsonl');
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ custom_id: `t-${i + 1}`, prompt: `Ticket ${i + 1}: where is my parcel?`, system: [{ type: 'text', text: shared, cache_control: { type: 'ephemeral' } }] }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('cost after a run', () => {
  it('real time: cost_usd is the returned usage times the list prices, cache writes and reads included', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 1200, replyTokens: 30 });
    fx.sim.flushCache();
    const input = writeCachedItems(dir, 12);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'], { env: fx.env() });
    expect(r.code).toBe(0);
    const usages = usagesOf(out);
    expect(usages.some((u) => (u.cache_creation_input_tokens ?? 0) > 0)).toBe(true);
    expect(usages.some((u) => (u.cache_read_input_tokens ?? 0) > 0)).toBe(true);
    const summary = summaryOf(r.stderr);
    expect(summary.cost_usd).toBeCloseTo(listPrice(usages), 12);
    // The Batches API would have charged half.
    expect(summary.cost_other_way_usd).toBeCloseTo(listPrice(usages) / 2, 12);
  });

  it('the Batches API: half the list price, for run --batch-api and for poll', async () => {
    const dir = fx.newDir();
    fx.sim.flushCache();
    const input = writeCachedItems(dir, 6);
    const out = join(dir, 'out.jsonl');
    const env = { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: '0.2' };
    const r = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--batch-api', '--json'], { env });
    expect(r.code).toBe(0);
    const usages = usagesOf(out);
    const summary = summaryOf(r.stderr);
    expect(summary.cost_usd).toBeCloseTo(listPrice(usages) / 2, 12);
    expect(summary.cost_other_way_usd).toBeCloseTo(listPrice(usages), 12);

    const id = (await runCli(['submit', input, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--force'], { env })).stdout.trim();
    const polled = await runCli(['poll', id, '--wait', '-o', join(dir, 'polled.jsonl'), '--json'], { env });
    expect(polled.code).toBe(0);
    const status = summaryOf(polled.stderr);
    expect(status.cost_usd).toBeCloseTo(listPrice(usagesOf(join(dir, 'polled.jsonl'))) / 2, 12);
    // A second poll writes nothing new and reports the same job's cost.
    const again = await runCli(['poll', id, '-o', join(dir, 'polled.jsonl'), '--json'], { env });
    expect(again.code).toBe(0);
    expect(summaryOf(again.stderr).cost_usd).toBeCloseTo(status.cost_usd as number, 12);
    // A rerun with everything done sends nothing and spent nothing: 0, not "unknown".
    const rerun = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'], { env });
    expect(rerun.code).toBe(0);
    expect(summaryOf(rerun.stderr).cost_usd).toBe(0);
  });

  it('a model without a price reports tokens only, and says so', async () => {
    const dir = fx.newDir();
    const input = join(dir, 'items.jsonl');
    writeFileSync(input, `${JSON.stringify({ custom_id: 'a', prompt: 'hi', model: 'claude-finetune-x' })}\n`);
    const r = await runCli(['run', input, '-o', join(dir, 'out.jsonl'), '--max-tokens', '64', '--realtime'], { env: fx.env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cost +no price for claude-finetune-x \(tokens only\)/);
  });
});

describe('--max-cost', () => {
  const items = (dir: string, n: number) => {
    const path = join(dir, 'items.jsonl');
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `t-${i + 1}`, prompt: `Ticket ${i + 1}: my parcel has not arrived.` }));
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };
  // Each request's worst case: about 15 input tokens and 1,000 output tokens at $5 per million,
  // half a cent; the answers cost far less (30 tokens).
  const args = (input: string, out: string, cap: string) => ['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '1000', '--realtime', '--max-cost', cap];

  it('real time: waits for answers in flight, stops before the spend could pass the cap, says so, exit 3; a rerun with a higher cap finishes every item once', async () => {
    const dir = fx.newDir();
    // Answers of 600 tokens: $0.003 each against a worst case of $0.005, so the cap's worth of
    // worst cases (4) is fewer than the answers it pays for.
    fx.sim.setOptions({ rpm: 3000, replyTokens: 600 });
    const input = items(dir, 60);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(args(input, out, '0.02'), { env: fx.env() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--max-cost \$0\.02 reached: \$0\.0[12]\d* spent; the next request could cost up to \$0\.005\d* more, so none is sent/);
    const done = readResults(out);
    expect(done.every((l) => l.result.type === 'succeeded')).toBe(true);
    expect(done.length).toBeGreaterThanOrEqual(5);
    expect(done.length).toBeLessThan(60);
    const spent = listPrice(usagesOf(out));
    expect(spent).toBeLessThanOrEqual(0.02);
    expect(spent).toBeGreaterThan(0.015); // it stopped only when the next worst case no longer fit

    const again = await runCli([...args(input, out, '1'), '--quiet'], { env: fx.env() });
    expect(again.code).toBe(0);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('real time: a cap below any one request\'s worst case is exit 2 before anything is sent, also in a dry run', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = items(dir, 3);
    for (const extra of [[], ['--dry-run']]) {
      const r = await runCli([...args(input, join(dir, 'out.jsonl'), '0.001'), ...extra], { env: fx.env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--max-cost \$0\.001 is below what any one request could cost \(the least is \$0\.005\d*, "t-1" with its answer at max_tokens\).*nothing was sent/);
    }
    expect(fx.sim.counters().requests).toBe(0);
    // Set in the config file: the refusal names the file and key, not a flag that was never given.
    const config = join(dir, 'cap.yaml');
    writeFileSync(config, 'max_cost_usd: 0.001\n');
    const fromFile = await runCli(['run', input, '-o', join(dir, 'out.jsonl'), '--model', 'claude-haiku-4-5', '--max-tokens', '1000', '--realtime', '--config', config], { env: fx.env() });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toMatch(/cap\.yaml: max_cost_usd \$0\.001 is below what any one request could cost/);
  });

  it('the Batches API: a worst case over the cap is refused before anything is submitted, with the numbers', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = items(dir, 60);
    const r = await runCli(['run', input, '-o', join(dir, 'out.jsonl'), '--model', 'claude-haiku-4-5', '--max-tokens', '1000', '--batch-api', '--max-cost', '0.05'], {
      env: fx.env(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-cost \$0\.05: the worst case of these 60 requests through the Batches API is \$0\.15 .*nothing was submitted/);
    const submit = await runCli(['submit', input, '--model', 'claude-haiku-4-5', '--max-tokens', '1000', '--max-cost', '0.05'], { env: fx.env() });
    expect(submit.code).toBe(2);
    expect(submit.stdout).toBe('');
    const dry = await runCli(['run', input, '--model', 'claude-haiku-4-5', '--max-tokens', '1000', '--batch-api', '--max-cost', '0.05', '--dry-run'], { env: fx.env() });
    expect(dry.code).toBe(2);
    expect(dry.stderr).toMatch(/worst case of these 60 requests through the Batches API is \$0\.15/);
    expect(fx.sim.counters().batchCreateCalls).toBe(0);
  });
});
