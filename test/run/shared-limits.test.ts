/**
 * One account, many processes: real `claw-batch run` processes, one key, each told the account's
 * full limit, sharing the budget through the local SQLite store or one real `redis-server` —
 * together they keep to the limit. The store failing mid-run, or a process dying, loses nothing
 * and leaves nothing stuck; two keys never share; a second run on the same -o is refused.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorCounters } from '../../src/simulator/index.js';
import { readResults, runCli } from '../helpers/cli.js';
import { expectEachOnce, startRun, waitFor } from '../helpers/run-process.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({ latencyMs: 150, jitterMs: 50 }, {});
const redis = useRedisServer();
const RPM = 2400;


/** Requests per minute at the simulator, after the opening burst its full bucket lets through. */
function arrivalRate(c: SimulatorCounters, bucket = RPM / 60): number {
  return (c.requests - bucket) / ((c.lastRequestAt! - c.firstRequestAt!) / 60_000);
}

/** Every run exits 0 with each of its items once; together <= 1% 429s, at the limit and not over it. */
async function expectTogetherAtTheLimit(procs: ReturnType<typeof startRun>[]): Promise<void> {
  const results = await Promise.all(procs.map((p) => p.done));
  for (const r of results) expect(r.code).toBe(0);
  procs.forEach(expectEachOnce);
  const c = fx.sim.counters();
  expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.01);
  // The pace after the opening burst: the API's full bucket bounds what may arrive at once (the upper
  // bound); claw-batch's own burst is half a second's worth (its bucket's capacity: the lower bound).
  expect(arrivalRate(c)).toBeLessThanOrEqual(RPM * 1.05);
  expect(arrivalRate(c, RPM / 120)).toBeGreaterThanOrEqual(RPM * 0.8);
}

describe('processes sharing one key', () => {
  it('4 processes on one machine (local store), each told the full limit: together <=1% 429s and at the limit', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: RPM });
    fx.sim.resetCounters();
    const env = fx.env(); // one state dir: one limits.sqlite
    const procs = ['a', 'b', 'c', 'd'].map((name) => startRun(dir, name, 50, RPM, env));
    await expectTogetherAtTheLimit(procs);
  });

  it('3 processes with separate state dirs (as on three machines) over one Redis: the same', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: RPM });
    fx.sim.resetCounters();
    const procs = ['a', 'b', 'c'].map((name) =>
      startRun(dir, name, 60, RPM, { ...fx.env(), CLAW_BATCH_STATE_DIR: join(dir, `state-${name}`), CLAW_BATCH_SHARED_LIMITS: redis.server.url }),
    );
    await expectTogetherAtTheLimit(procs);
  });

  it('Redis killed mid-run: the runs go on alone at a fair share, say so once, rejoin when it is back, and every item ends once', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: RPM });
    fx.sim.resetCounters();
    const procs = ['a', 'b'].map((name) =>
      startRun(dir, name, 90, RPM, { ...fx.env(), CLAW_BATCH_STATE_DIR: join(dir, `state-${name}`), CLAW_BATCH_SHARED_LIMITS: redis.server.url }, ['--quiet', '--json']),
    );
    await waitFor(() => fx.sim.counters().succeeded >= 30);
    await redis.server.kill();
    await waitFor(() => fx.sim.counters().succeeded >= 90);
    await redis.server.restart();
    const results = await Promise.all(procs.map((p) => p.done));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(r.stderr.match(/unreachable/g) ?? []).toHaveLength(0); // --json: stderr is the summary alone
    }
    procs.forEach(expectEachOnce);
    const c = fx.sim.counters();
    // Alone, each paces at half the limit (two processes were sharing), and for a while after
    // rejoining too, until the other has rejoined: no storm. Two buckets at half the limit are not
    // quite one, and a store that comes back empty is not quite the one that went: a few 429s are
    // the price of going on without it.
    expect(c.rateLimited / c.requests).toBeLessThanOrEqual(0.08);
  });

  it('SIGKILL of one process mid-run: the others go on at the limit, nothing stuck', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: RPM });
    fx.sim.resetCounters();
    const env = fx.env();
    const victim = startRun(dir, 'victim', 400, RPM, env);
    const others = ['a', 'b'].map((name) => startRun(dir, name, 80, RPM, env));
    await waitFor(() => fx.sim.counters().succeeded >= 40);
    victim.child.kill('SIGKILL');
    await victim.done;
    const afterKill = fx.sim.counters();
    const results = await Promise.all(others.map((p) => p.done));
    for (const r of results) expect(r.code).toBe(0);
    others.forEach(expectEachOnce);
    const end = fx.sim.counters();
    // What the survivors sent after the kill went at the full limit: the dead process's share
    // was not left held (there are no leases), only what it had taken is spent and refills.
    const n = end.requests - afterKill.requests;
    const minutes = (end.lastRequestAt! - afterKill.lastRequestAt!) / 60_000;
    expect(n / minutes).toBeGreaterThanOrEqual(RPM * 0.75);
    expect(end.rateLimited / end.requests).toBeLessThanOrEqual(0.01);
  });
});

describe('whose budget', () => {
  it('two keys on one machine do not share: each runs at its own full limit', async () => {
    const dir = fx.newDir();
    // One simulator per key: each account has its own limit at the API.
    const other = await startSimulator({ latencyMs: 150, jitterMs: 50, rpm: RPM });
    try {
      fx.sim.setOptions({ rpm: RPM });
      fx.sim.resetCounters();
      const state = join(dir, 'state');
      const a = startRun(dir, 'a', 120, RPM, { ...fx.env('key-one'), CLAW_BATCH_STATE_DIR: state });
      const b = startRun(dir, 'b', 120, RPM, { ...fx.env('key-two'), CLAW_BATCH_STATE_DIR: state, ANTHROPIC_BASE_URL: other.url });
      const results = await Promise.all([a.done, b.done]);
      for (const r of results) expect(r.code).toBe(0);
      // Had they shared one budget, each would have run at half its limit.
      for (const c of [fx.sim.counters(), other.counters()]) {
        expect(c.rateLimited).toBeLessThanOrEqual(1);
        expect(arrivalRate(c, RPM / 120)).toBeGreaterThanOrEqual(RPM * 0.8);
      }
    } finally {
      await other.close();
    }
  });

});
