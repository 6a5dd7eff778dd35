import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveLearnedLimits } from '../../src/limits/learned-limits.js';
import { keyIdOf } from '../../src/plan/plan-input.js';
import { stateDir } from '../../src/state-dir.js';
import { sandbox, writeItems, type Sandbox } from '../batch/helpers.js';

describe('run --mode auto prints its choice', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({});
    writeItems(sb.file('small.jsonl'), 20);
    writeItems(sb.file('big.jsonl'), 3000);
  });
  afterAll(() => sb.close());

  it('20 items: real-time', async () => {
    const r = await sb.cli(['run', 'small.jsonl', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/plan: real-time requests/);
    expect(r.stderr).toMatch(/small job/);
  });

  it('3,000 items at --rpm 50: the Batches API, with time and cost each way', async () => {
    const r = await sb.cli(['run', 'big.jsonl', '--rpm', '50', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/plan: Message Batches API/);
    expect(r.stderr).toMatch(/real-time ≈ 1 h; Batches API typically ≤ 1 h/);
    expect(r.stderr).toMatch(/real-time ≈ \$[\d.]+ \(at most \$[\d.]+\), Batches API ≈ \$[\d.]+ \(at most \$[\d.]+\) \(50% off\)/);
  });

  it('the same 3,000 with --urgent --dry-run: real-time, and nothing is sent', async () => {
    const r = await sb.cli(['run', 'big.jsonl', '--rpm', '50', '--urgent', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/plan: real-time requests/);
    expect(r.stdout).toBe('');
    const c = sb.sim.counters();
    expect(c.requests + c.batchCreateCalls).toBe(0);
  });

  it('submit --dry-run paces by the limits an earlier run learned, as run --dry-run does', async () => {
    await saveLearnedLimits(stateDir(sb.env), keyIdOf(sb.env)!, sb.env.ANTHROPIC_BASE_URL!, new Map([['claude-haiku-4-5', { rpm: 6000, itpm: 10_000_000, otpm: 2_000_000 }]]));
    for (const command of ['submit', 'run']) {
      const r = await sb.inProcess([command, sb.file('big.jsonl'), '--dry-run']);
      expect(r.stderr).not.toMatch(/claw-batch:/);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(/limits not known/);
      expect(r.stderr).toMatch(/real-time would take about 30 s at 6,000 requests\/min/);
    }
  });
});
