/**
 * Around the shared limit store, what a user sees: a store that goes away and comes back is said
 * once each way; a second run on the same -o is refused while the first lives, and a lock left by
 * a dead one is taken over. (The pace of processes sharing a key: shared-limits.test.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, countById, readResults, runCli, writeItems } from '../helpers/cli.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({ latencyMs: 150, jitterMs: 50 }, {});
const redis = useRedisServer();
const RPM = 1200;

interface Proc {
  child: ChildProcess;
  out: string;
  n: number;
  done: Promise<{ code: number | null; stderr: string }>;
}

/** Starts `run` on `n` items of its own, told the full limit. */
function start(dir: string, name: string, n: number, env: Record<string, string>, extra: string[] = ['--quiet']): Proc {
  const input = writeItems(dir, n, (i) => `${name}: label document ${i}`, `${name}.jsonl`);
  const out = join(dir, `${name}.out.jsonl`);
  const args = [BIN, 'run', input, '-o', out, '--rpm', String(RPM), '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', ...extra];
  const child = spawn(process.execPath, args, { env: cliEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, out, n, done };
}

function expectEachOnce(p: Proc): void {
  const counts = countById(readResults(p.out));
  expect(counts.size).toBe(p.n);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
}


describe('the shared store and the -o lock, as a user sees them', () => {
  it('says once that the store is gone and once that it is back', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: RPM });
    const p = start(dir, 'a', 150, { ...fx.env(), CLAW_BATCH_SHARED_LIMITS: redis.server.url, CLAW_BATCH_PROGRESS_INTERVAL_MS: '60000' }, []);
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
    const first = start(dir, 'a', 40, fx.env());
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
async function waitFor(condition: () => boolean, timeoutMs = 30_000, alt?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(condition() || alt?.())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
