/**
 * What a user on the Start tier meets, as the API is: the real CLI, answers that take 1.5-3 s,
 * max_tokens 1024, two keys of one organization running at once and told nothing, and another
 * tool of the organization spending 200 of its 1,000 RPM where claw-batch cannot see it. Together
 * the two runs keep to what is left, with few 429s, and near it. (The other pacing tests use short
 * answers to measure one rule at a time; bench/limiters.js and bench/organization.js measure these
 * conditions on bigger jobs.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { removeDir, runCli, tempDir, writeItems } from '../helpers/cli.js';
import { arrivalRate } from '../helpers/pacing.js';
import { expectEachOnce } from '../helpers/run-process.js';

const RPM = 1000; // the Start tier's, per model class
const UNSEEN_RPM = 200;
const LEFT = RPM - UNSEEN_RPM;
const ITEMS = 100; // per key

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({
    tier: 'start',
    latencyMs: 1500,
    jitterMs: 500,
    replyTokens: { min: 100, max: 200 },
    outputTokensPerSecond: 200,
    organizations: [{ id: 'org-start', keys: ['key-a', 'key-b'] }],
    unseenTraffic: { rpm: UNSEEN_RPM, organization: 'org-start' },
  });
  dir = tempDir();
});
afterAll(async () => {
  await sim.close();
  removeDir(dir);
});

describe('the Start tier with real answers, two keys and traffic it cannot see', () => {
  it(`two runs of ${ITEMS} items on two keys of one organization, no flags: every item once, <=2% 429s, together near what the other tool leaves`, async () => {
    // The other tool has been running for a while: the buckets are at its steady state.
    await new Promise((r) => setTimeout(r, 2000));
    sim.resetCounters();
    const runs = ['a', 'b'].map((k) => {
      const input = writeItems(dir, ITEMS, (i) => `key ${k}: classify ticket ${i}: my order has not arrived`, `${k}.jsonl`);
      const out = join(dir, `${k}.out.jsonl`);
      const env = { ANTHROPIC_BASE_URL: sim.url, ANTHROPIC_API_KEY: `key-${k}`, CLAW_BATCH_STATE_DIR: join(dir, 'state') };
      const done = runCli(['run', input, '-o', out, '--model', 'claude-haiku-4-5', '--max-tokens', '1024', '--realtime', '--quiet'], { env });
      return { out, n: ITEMS, done };
    });
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    runs.forEach(expectEachOnce);

    const c = sim.counters();
    expect(c.succeeded).toBe(2 * ITEMS);
    expect(c.unseen.sent).toBeGreaterThan(0);
    // Requests a minute at the API after the opening burst (a second's worth of the full limit).
    const rate = arrivalRate(c, RPM / 60);
    console.log(`start tier, 2 keys + ${UNSEEN_RPM} RPM unseen: ${c.requests} requests, ${c.rateLimited} 429s, ${Math.round(rate)} rpm (${(rate / LEFT).toFixed(2)} of the ${LEFT} left); the other tool refused ${c.unseen.refused} of ${c.unseen.sent}`);
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.02);
    expect(rate).toBeGreaterThanOrEqual(LEFT * 0.75);
    // Not over what is left by more than the other tool's own 429s let it be: claw-batch sees that
    // traffic only in the headers, so where the two arrive at an empty bucket together, either may be
    // the one refused (measured: 0.94-1.04 of what is left, the other tool refused 0-22%).
    expect(rate).toBeLessThanOrEqual(LEFT * 1.1);
    expect(c.unseen.refused / c.unseen.sent).toBeLessThanOrEqual(0.35);
  });
});
