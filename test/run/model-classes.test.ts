/**
 * Limits per model class: an item never waits behind another class's limit.
 * Each test asserts what users rely on (every item exactly once, the 429 count, the exit code)
 * and the behaviour that shows the rule is followed, not wall-clock times.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { runCli } from '../helpers/cli.js';
import { expectEachOnce, ticket, writeJsonl } from '../helpers/jsonl.js';

const fx = useSimulator({ latencyMs: 200, jitterMs: 50 }, {});


describe('limits per model class', () => {
  it('Haiku and Sonnet interleaved run each at its own limit: Haiku is not held to Sonnet’s pace', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 3000, itpm: undefined, otpm: undefined, classLimits: { 'claude-sonnet-4': { rpm: 300 } }, replyTokens: undefined });
    fx.sim.resetCounters();
    const n = 80;
    const input = writeJsonl(
      dir,
      Array.from({ length: n }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1), model: i % 2 === 0 ? 'claude-sonnet-4-6' : 'claude-haiku-4-5' })),
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


describe('the SDK’s own warnings', () => {
  it('a deprecated model is warned about once, not on every request, and not at all under --json', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 3000, classLimits: undefined });
    const input = writeJsonl(dir, Array.from({ length: 12 }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1), model: 'claude-sonnet-4-5' })));
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--max-tokens', '64', '--realtime'], { env: fx.env() });
    expect(r.code).toBe(0);
    expect(r.stderr.match(/claw-batch: warning \(from the Anthropic SDK\): The model 'claude-sonnet-4-5' is deprecated/g)).toHaveLength(1);
    const json = await runCli(['run', input, '-o', out, '--fresh', '--max-tokens', '64', '--realtime', '--json'], { env: fx.env() });
    expect(json.code).toBe(0);
    expect(() => JSON.parse(json.stderr.trim())).not.toThrow();
  });
});
