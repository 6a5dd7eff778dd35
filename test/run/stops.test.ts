/**
 * Runs that cannot usefully go on stop cleanly with exit 3 and keep what they have, instead of
 * paying for answers nobody reads or writing every item as errored.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { BIN, cliEnv, readResults, runCli, waitForOpenFile, writeItems } from '../helpers/cli.js';
import { expectEachOnce, startRun, waitFor } from '../helpers/run-process.js';

const fx = useSimulator({}, { rpm: undefined });
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '32', '--realtime'];

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('stopping early', () => {
  it('stops sending when the program reading stdout has exited (`| head -1`): exit 3', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 200);
    const child = spawn(process.execPath, [BIN, 'run', input, ...MODEL], { env: cliEnv(fx.env()), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.once('data', () => child.stdout.destroy());
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(3);
    expect(stderr).toMatch(/reading the results has exited/);
    expect(stderr).toMatch(/use -o FILE/);
    expect(fx.sim.counters().requests).toBeLessThan(100);
  });

  it('stops when the API cannot be reached at all, instead of writing every item as errored', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 100);
    const out = join(dir, 'out.jsonl');
    const port = await closedPort();
    const r = await runCli(['run', input, '-o', out, ...MODEL], {
      env: { ...fx.env(), ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach the API/);
    expect(readResults(out)).toHaveLength(0);
  });

  it('Ctrl-C while the input is still being read: exit 3 at once, nothing sent', async () => {
    fx.newDir();
    fx.sim.resetCounters();
    const child = spawn(process.execPath, [BIN, 'run', '-', ...MODEL], { env: cliEnv(fx.env()), stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write('{"custom_id":"a","prompt":"x"}\n'); // and the input never ends
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitForOpenFile(child.pid!, 'claw-batch-stdin-');
    child.kill('SIGINT');
    const code = await closed;
    expect(code).toBe(3);
    expect(stderr).toMatch(/before anything was sent/);
    expect(fx.sim.counters().requests).toBe(0);
  });

  it('SIGTERM under a low --rpm stops within seconds, however many items are queued; the rerun does the rest once', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const env = { ...fx.env(), CLAW_BATCH_SHARED_LIMITS: 'off' };
    const run = startRun(dir, 'slow', 200, 60, env, ['--quiet', '--concurrency', '4']);
    await waitFor(() => fx.sim.counters().requests >= 2);
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.done;
    expect(code, stderr).toBe(3);
    // Before: the queued items drained through the 1-per-second backstop, ~100 s here.
    expect(Date.now() - sentAt).toBeLessThan(8000);
    const written = readResults(run.out).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(200);
    const again = startRun(dir, 'slow', 200, 6000, env);
    expect((await again.done).code).toBe(0);
    expectEachOnce(run);
  });
});
