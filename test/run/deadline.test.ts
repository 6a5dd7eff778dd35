/**
 * `--deadline`: auto mode has every result by then the cheapest way it can. The Batches API when
 * real time could still finish what it leaves; the cut-over (cancel, keep what the batch finished,
 * send the rest in real time once it has ended) when it is slow; real time, or a refusal before
 * anything is sent, when the batch cannot help.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countById, readResults, runCli, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({ latencyMs: 50, rpm: 1200 }, { rpm: 1200 });
const args = (input: string, out: string, deadline: string, rpm = 1200) => ['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--rpm', String(rpm), '--deadline', deadline];

describe('--deadline', () => {
  it('a slow Batches API and a deadline it alone would miss: every item once, by the deadline, some through the batch, none paid twice', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ batchMs: 20_000, rpm: 6000 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 150);
    const out = join(dir, 'out.jsonl');
    const started = Date.now();
    // Real time needs 150 / 6,000 a minute = 1.5 s; the cut-over is due by 12 s - 1.5 s - a margin
    // (a quarter of it and 5 s), about 5 s in: a quarter of the way through the batch's 20 s.
    const r = await runCli(args(input, out, '12s', 6000), { env: { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: '0.5' } });
    expect(r.stderr).toMatch(/plan: Message Batches API, cutting over to real time at \d{4}-\d\d-\d\dT[\d:.]+Z if it has not ended/);
    expect(r.stderr).toMatch(/deadline: the Batches API has \d+ request\(s\) still processing .*canceling the batch, keeping what it finished/);
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(12_000);
    const lines = readResults(out);
    const counts = countById(lines);
    expect(counts.size).toBe(150);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
    const c = fx.sim.counters();
    expect(c.batchesCreated).toBe(1);
    // None paid twice: the real-time answers are exactly the items the batch did not finish.
    const viaBatch = 150 - c.succeeded;
    expect(viaBatch).toBeGreaterThan(0);
    expect(c.succeeded).toBeGreaterThan(0);
    expect(c.succeeded + viaBatch).toBe(150);
    // The summary's time is the whole run's, the batch's part included.
    const took = Number(/150 items in (\d+(?:\.\d)?)s/.exec(r.stderr)?.[1]);
    expect(took).toBeGreaterThanOrEqual(Math.floor((Date.now() - started) / 1000) - 2);
  });

  it('a fast Batches API: the batch alone, nothing in real time', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ batchMs: 1000 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 150);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(args(input, out, '2h'), { env: { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: '0.5' } });
    expect(r.code).toBe(0);
    expect(countById(readResults(out)).size).toBe(150);
    expect(fx.sim.counters().requests).toBe(0);
    expect(fx.sim.counters().batchesCreated).toBe(1);
  });

  it('--dry-run shows the cut-over time; a deadline even real time cannot meet is said before anything is sent (exit 2)', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = writeItems(dir, 150);
    const out = join(dir, 'out.jsonl');
    const dry = await runCli([...args(input, out, '90m'), '--dry-run', '--json'], { env: fx.env() });
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stderr.trim()) as { mode: string; cut_over_at: string; deadline: string };
    expect(plan.mode).toBe('batch');
    expect(Date.parse(plan.cut_over_at)).toBeLessThan(Date.parse(plan.deadline));

    const tight = await runCli(args(input, out, '3s'), { env: fx.env() });
    expect(tight.code).toBe(2);
    expect(tight.stderr).toMatch(/even real time cannot meet it; nothing was sent/);
    expect(fx.sim.counters().requests + fx.sim.counters().batchCreateCalls).toBe(0);
  });

  it('refuses a deadline that is not a duration or a time, naming it', async () => {
    const dir = fx.newDir();
    const r = await runCli(args(writeItems(dir, 3), join(dir, 'out.jsonl'), 'tomorrow'), { env: fx.env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid value for --deadline: expected a duration such as 90m, 6h or 45s, or an RFC 3339 time/);
  });

  it('refuses a deadline with the Batches API alone (it could not keep it), also in a dry run and from CLAW_BATCH_MODE', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    for (const [extra, env, names] of [
      [['--batch-api'], {}, '--batch-api or --mode batch'],
      [['--batch-api', '--dry-run'], {}, '--batch-api or --mode batch'],
      [[], { CLAW_BATCH_MODE: 'batch' }, 'CLAW_BATCH_MODE'],
    ] as const) {
      const r = await runCli([...args(input, join(dir, 'out.jsonl'), '1h'), ...extra], { env: { ...fx.env(), ...env } });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`claw-batch: --deadline needs auto mode (the default) or --realtime: the mode here is the Batches API alone (${names}), which could not keep it; drop one of them\n`);
    }
  });
});

describe('resume accounting', () => {
  it('after a stopped run, the plan counts only what is still pending, and the summary says how many are left', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ billingRefusal: 'credit-balance', billingRefusalAfter: 40 });
    const input = writeItems(dir, 100);
    const out = join(dir, 'out.jsonl');
    const first = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--json'], { env: fx.env() });
    expect(first.code).toBe(3);
    const done = readResults(out).length;
    const summary = JSON.parse(first.stderr.trim().split('\n').find((l) => l.startsWith('{'))!) as { pending: number; succeeded: number };
    expect(summary.pending).toBe(100 - done);
    fx.sim.setOptions({ billingRefusalAfter: undefined });
    const dry = await runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--dry-run', '--json'], { env: fx.env() });
    expect((JSON.parse(dry.stderr.trim()) as { pending: number }).pending).toBe(100 - done);
  });
});
