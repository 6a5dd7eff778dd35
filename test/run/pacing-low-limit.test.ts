/**
 * A limit below one request a second, given and learned from the headers: the strict zero-429 check
 * at a pace so slow that a neighbour's load cannot skew it (it runs beside another paced file;
 * test/run/pacing.test.ts, at 2,400 RPM, runs alone).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { runCli, writeItems } from '../helpers/cli.js';
import { expectEveryItemOnceWithItsOwnAnswer } from '../helpers/pacing.js';

const fx = useSimulator({}, { latencyMs: 0, jitterMs: 0 });

describe('a limit below one request a second', () => {
  it('60 RPM, given and learned from the headers, 1-2 s answers, max_tokens 1024: every item once, zero 429s', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 60, itpm: undefined, otpm: undefined, burstSeconds: 1, latencyMs: 1500, jitterMs: 500 });
    fx.sim.resetCounters();
    const prompt = (i: number) => `Classify ticket ${i}: my order has not arrived`;
    const input = writeItems(dir, 5, prompt);
    for (const [name, flags] of [['given', ['--rpm', '60']], ['learned', []]] as const) {
      if (name === 'learned') await new Promise((resolve) => setTimeout(resolve, 1500));
      const out = join(dir, `${name}.jsonl`);
      // Each from a state that knows nothing, against an API idle long enough to be full again.
      const r = await runCli(['run', input, '-o', out, ...flags, '--model', 'claude-haiku-4-5', '--max-tokens', '1024', '--realtime', '--quiet'], {
        env: { ...fx.env(), CLAW_BATCH_STATE_DIR: join(dir, `state-${name}`) },
      });
      expect(r.code).toBe(0);
      expectEveryItemOnceWithItsOwnAnswer(out, 5, prompt, 1024);
      expect(fx.sim.counters().rateLimited).toBe(0);
    }
  });
});
