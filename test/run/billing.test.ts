/**
 * Billing refusals stop the run as the spend cap does: exit 3, the rest pending, no errored lines, one line saying what to do.
 * Each test asserts what users rely on (every item exactly once, the 429 count, the exit code)
 * and the behaviour that shows the rule is followed, not wall-clock times.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { readResults, runCli } from '../helpers/cli.js';
import { expectEachOnce, ticket, writeJsonl } from '../helpers/jsonl.js';

const fx = useSimulator({ latencyMs: 200, jitterMs: 50 }, {});


describe('billing refusals stop the run', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a spend limit set for the workspace (400)', 'workspace-limit', /spend limit set for this workspace is reached/],
    ['a credit balance too low (400)', 'credit-balance', /credit balance is too low/],
    ['a billing error (402)', 'billing-error', /billing/],
  ];
  for (const [what, kind, says] of cases) {
    it(`${what} after 30 items: exit 3, no errored lines, one line saying why; the rerun finishes every item once`, async () => {
      const dir = fx.newDir();
      fx.sim.setOptions({ rpm: 3000, itpm: undefined, otpm: undefined, classLimits: undefined, billingRefusal: kind as never, billingRefusalAfter: 30 });
      fx.sim.resetCounters();
      const input = writeJsonl(dir, Array.from({ length: 60 }, (_, i) => ({ custom_id: `t-${i + 1}`, prompt: ticket(i + 1) })));
      const out = join(dir, 'out.jsonl');
      const args = ['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--quiet'];
      const r = await runCli(args, { env: fx.env() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      const lines = readResults(out);
      expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
      expect(lines.length).toBeGreaterThanOrEqual(30);
      expect(lines.length).toBeLessThan(60);

      fx.sim.setOptions({ billingRefusalAfter: undefined });
      const again = await runCli(args, { env: fx.env() });
      expect(again.code).toBe(0);
      expectEachOnce(out, 60);
    });
  }
});
