/**
 * The library's must-show: twenty agents' loops in one process through one wrapped client, and a
 * real `claw-batch run` on the same key and state dir (the local store), against the simulator's
 * limit — together at the limit, with almost no 429s. Only the public entry is imported.
 */
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, wrapClient, type Simulator, type SimulatorCounters } from 'claw-batch';
import { removeDir, tempDir } from '../helpers/cli.js';
import { expectEachOnce, startRun } from '../helpers/run-process.js';

const RPM = 2400;
const KEY = 'shared-library-key';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 150, jitterMs: 50, rpm: RPM });
});
afterAll(() => sim.close());

/** Requests per minute at the simulator, after the opening burst its full bucket lets through. */
function arrivalRate(c: SimulatorCounters, bucket = RPM / 60): number {
  return (c.requests - bucket) / ((c.lastRequestAt! - c.firstRequestAt!) / 60_000);
}

describe('a wrapped client and a run sharing one key', () => {
  it('20 concurrent callers in one process plus a claw-batch run on the same key (local store): <=1% 429s, together >=0.9 of the limit', async () => {
    const dir = tempDir();
    try {
      sim.resetCounters();
      const state = join(dir, 'state');
      const run = startRun(dir, 'cli', 160, RPM, { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: KEY, CLAW_BATCH_STATE_DIR: state });
      // No ceiling given: the wrapper learns the limit from the API's headers, and the run's share from the store.
      const paced = wrapClient(new Anthropic({ apiKey: KEY, baseURL: sim.url }), { stateDir: state, sharedLimits: 'local' });
      const agent = async (a: number) => {
        for (let turn = 0; turn < 8; turn++) {
          const m = await paced.messages.create({
            model: 'claude-haiku-4-5',
            max_tokens: 64,
            messages: [{ role: 'user', content: `agent ${a}, turn ${turn}: label document` }],
          });
          expect(m.type).toBe('message');
        }
      };
      try {
        await Promise.all(Array.from({ length: 20 }, (_, a) => agent(a)));
      } finally {
        await paced.close();
      }
      const { code, stderr } = await run.done;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expectEachOnce(run);

      const c = sim.counters();
      expect(c.succeeded).toBe(160 + 160);
      expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
      const rate = arrivalRate(c, RPM / 120);
      console.log(`library + run: ${c.requests} requests, ${c.rateLimited} 429s, ${Math.round(rate)} rpm at the simulator (${(rate / RPM).toFixed(2)} of ${RPM})`);
      // The pace after the opening burst: the API's full bucket bounds what may arrive at once (the upper
      // bound); claw-batch's own burst is half a second's worth (its bucket's capacity: the lower bound).
      expect(arrivalRate(c)).toBeLessThanOrEqual(RPM * 1.05);
      expect(rate).toBeGreaterThanOrEqual(RPM * 0.9);
    } finally {
      removeDir(dir);
    }
  });
});
