/**
 * Limits belong to the organization, not to one key: real `claw-batch run` processes with keys of
 * one organization, told nothing, find out from the first answer (`anthropic-organization-id`)
 * that they share one budget and keep to it together; keys of two organizations never share; a
 * workspace with a lower limit holds its keys to it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorCounters, type SimulatorOptions } from '../../src/simulator/index.js';
import { removeDir, runCli, tempDir } from '../helpers/cli.js';
import { expectEachOnce, startRun } from '../helpers/run-process.js';

const RPM = 2400;
const ANSWERS = { latencyMs: 150, jitterMs: 50 };

let sim: Simulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  if (dir) removeDir(dir);
  dir = undefined;
});

async function setUp(options: SimulatorOptions): Promise<{ sim: Simulator; dir: string; env: (key: string) => Record<string, string> }> {
  sim = await startSimulator({ ...ANSWERS, ...options });
  dir = tempDir();
  const s = sim;
  const d = dir;
  // One state dir: the processes share the machine's local store, as runs on one machine do.
  return { sim: s, dir: d, env: (key) => ({ ANTHROPIC_BASE_URL: s.url, ANTHROPIC_API_KEY: key, CLAW_BATCH_STATE_DIR: join(d, 'state') }) };
}

/** Requests per minute at the simulator, after the opening burst its full bucket lets through. */
function arrivalRate(c: Pick<SimulatorCounters, 'requests' | 'firstRequestAt' | 'lastRequestAt'>, bucket: number): number {
  return (c.requests - bucket) / ((c.lastRequestAt! - c.firstRequestAt!) / 60_000);
}

describe('keys of one organization', () => {
  it('two runs with two keys of one organization, no flags: together <=1% 429s, at the limit and not over it', async () => {
    const { sim, dir, env } = await setUp({ rpm: RPM, organizations: [{ id: 'org-shared', keys: ['key-one', 'key-two'] }] });
    const procs = [startRun(dir, 'one', 120, undefined, env('key-one')), startRun(dir, 'two', 120, undefined, env('key-two'))];
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    procs.forEach(expectEachOnce);
    const c = sim.counters();
    // Each believing it owned the limit, they drew 3.8% 429s (and a storm through the proxy).
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
    // The pace after the opening burst: the API's full bucket bounds what may arrive at once (the upper
    // bound); claw-batch's own burst is half a second's worth (its bucket's capacity: the lower bound).
    expect(arrivalRate(c, RPM / 60)).toBeLessThanOrEqual(RPM * 1.05);
    expect(arrivalRate(c, RPM / 120)).toBeGreaterThanOrEqual(RPM * 0.8);

    // `limits` names the organization, both keys, and keeps the link for the next run.
    const limits = await runCli(['limits', '--json'], { env: env('key-one') });
    expect(limits.code, limits.stderr).toBe(0);
    const shown = JSON.parse(limits.stdout) as { organization?: string; keys?: unknown[] };
    expect(shown.organization).toBe('org-shared');
    expect(shown.keys).toHaveLength(2);
    expect(readFileSync(join(dir, 'state', 'key-links.json'), 'utf8')).toContain('org-shared');
    expect(limits.stdout + limits.stderr).not.toContain('key-one');
  });

  it('keys of two organizations on one machine do not share: each runs at its own full limit', async () => {
    const { sim, dir, env } = await setUp({
      rpm: RPM,
      organizations: [
        { id: 'org-a', keys: ['key-a'] },
        { id: 'org-b', keys: ['key-b'] },
      ],
    });
    const procs = [startRun(dir, 'a', 120, undefined, env('key-a')), startRun(dir, 'b', 120, undefined, env('key-b'))];
    for (const r of await Promise.all(procs.map((p) => p.done))) expect(r.code, r.stderr).toBe(0);
    procs.forEach(expectEachOnce);
    const c = sim.counters();
    for (const org of ['org-a', 'org-b']) {
      const o = c.byOrganization[org]!;
      expect(o.succeeded).toBe(120);
      expect(o.rateLimited / o.requests).toBeLessThanOrEqual(0.05);
      // Sharing one budget, each would have run at half its limit.
      expect(arrivalRate(o, RPM / 120)).toBeGreaterThanOrEqual(RPM * 0.8);
    }
  });

  it('a workspace with a lower limit holds its key to it, while a key of the organization runs beside it', async () => {
    const low = 600;
    const { sim, dir, env } = await setUp({
      rpm: RPM,
      organizations: [{ id: 'org-w', keys: ['key-org'], workspaces: [{ id: 'wrkspc_low', keys: ['key-low'], rpm: low }] }],
    });
    const started = Date.now();
    const workspace = startRun(dir, 'low', 50, undefined, env('key-low'));
    const org = startRun(dir, 'org', 120, undefined, env('key-org'));
    for (const r of await Promise.all([workspace.done, org.done])) expect(r.code, r.stderr).toBe(0);
    [workspace, org].forEach(expectEachOnce);
    const c = sim.counters();
    const inWorkspace = c.byOrganization['org-w/wrkspc_low']!;
    expect(inWorkspace.succeeded).toBe(50);
    // Known gap: until the workspace key's first answer, it is paced by no limit it knows, and its
    // opening burst draws a few 429s from the workspace's small bucket (up to 6 of 56 seen). After
    // that it holds: no storm.
    expect(inWorkspace.rateLimited).toBeLessThanOrEqual(10);
    expect(c.byOrganization['org-w']!.rateLimited / c.byOrganization['org-w']!.requests).toBeLessThanOrEqual(0.05);
    // 50 items at 600 RPM after a 10-request burst take at least 4 s: the workspace's limit held.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((50 - low / 60) / low) * 60_000);
  });
});
