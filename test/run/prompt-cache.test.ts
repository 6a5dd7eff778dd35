/**
 * Input tokens, cache-aware: ITPM counts input_tokens + cache_creation_input_tokens, not cache reads; a shared prefix is written once before fanning out.
 * Each test asserts what users rely on (every item exactly once, the 429 count, the exit code)
 * and the behaviour that shows the rule is followed, not wall-clock times.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { readResults, runCli } from '../helpers/cli.js';
import { expectEachOnce, ticket, writeJsonl, type Rec } from '../helpers/jsonl.js';

const fx = useSimulator({ latencyMs: 200, jitterMs: 50 }, {});


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

