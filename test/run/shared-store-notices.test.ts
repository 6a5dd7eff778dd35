/**
 * Around the shared limit store, what a user sees: a store that goes away and comes back is said
 * once each way; a second run on the same -o is refused while the first lives, and a lock left by
 * a dead one is taken over. (The pace of processes sharing a key: shared-limits.test.ts.)
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, runCli } from '../helpers/cli.js';
import { expectEachOnce, startRun, waitFor } from '../helpers/run-process.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({ latencyMs: 150, jitterMs: 50 }, {});
const redis = useRedisServer();
const RPM = 1200;



describe('the shared store and the -o lock, as a user sees them', () => {
  it('says once that the store is gone and once that it is back', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: RPM });
    const p = startRun(dir, 'a', 150, RPM, { ...fx.env(), CLAW_BATCH_SHARED_LIMITS: redis.server.url, CLAW_BATCH_PROGRESS_INTERVAL_MS: '60000' }, []);
    await waitFor(() => readResults(p.out).length >= 20);
    await redis.server.kill();
    await waitFor(() => readResults(p.out).length >= 40);
    await redis.server.restart();
    const r = await p.done;
    expect(r.code).toBe(0);
    expectEachOnce(p);
    expect(r.stderr.match(/is unreachable \(.*\); pacing alone at the full limit/g)).toHaveLength(1);
    expect(r.stderr.match(/answers again/g)).toHaveLength(1);
  });

  it('a second run on the same -o while the first is alive is refused with exit 2 naming its PID', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 120 });
    const first = startRun(dir, 'a', 40, RPM, fx.env());
    await waitFor(() => readResults(first.out).length >= 1);
    const input = join(dir, 'a.jsonl');
    const second = await runCli(['run', input, '-o', first.out, '--model', 'claude-haiku-4-5', '--realtime'], { env: fx.env() });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`PID ${first.child.pid}`);
    first.child.kill('SIGKILL');
    await first.done;
    // A lock left by a dead process is taken over: the rerun resumes.
    fx.sim.setOptions({ rpm: RPM });
    const third = await runCli(['run', input, '-o', first.out, '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', '--quiet'], { env: fx.env() });
    expect(third.code).toBe(0);
    expectEachOnce({ ...first, n: 40 });
  });
});
