/**
 * Output tokens count as produced and max_tokens does not factor in (the API's 2026 rule): the real CLI against the simulator.
 * Each test asserts what users rely on (every item exactly once, the 429 count, the exit code)
 * and the behaviour that shows the rule is followed, not wall-clock times.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { runCli } from '../helpers/cli.js';
import { expectEachOnce, ticket, writeJsonl } from '../helpers/jsonl.js';

const fx = useSimulator({ latencyMs: 200, jitterMs: 50 }, {});


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

