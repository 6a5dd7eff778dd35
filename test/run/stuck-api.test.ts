/**
 * An API that accepts the connection and never answers, or stops mid-answer: the run says so on
 * stderr (well within a minute), gives the request up after the first-byte or idle timeout and
 * retries it, and the first SIGTERM ends the run within seconds with exit 3, the stuck items left
 * pending for a rerun. Timeouts are shortened through the environment so the tests stay short.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, countById, readResults, runCli, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({}, { hangRate: 0, stallRate: 0 });
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime'];

describe('an API that never answers', () => {
  it('warns within seconds that requests have no answer, and a SIGTERM ends the run within seconds: exit 3, nothing lost', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600, hangRate: 1 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 20);
    const out = join(dir, 'out.jsonl');
    const child = spawn(process.execPath, [BIN, 'run', input, '-o', out, ...MODEL], {
      env: cliEnv({ ...fx.env(), CLAW_BATCH_FIRST_BYTE_TIMEOUT_MS: '6000', CLAW_BATCH_PROGRESS_INTERVAL_MS: '1000' }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 30_000;
    while (!/had no answer from the API for \d+s/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toMatch(/1 request has had no answer from the API for 2s; each is given up and retried after 6s without one/);
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const code = await closed;
    expect(code).toBe(3);
    expect(Date.now() - sentAt).toBeLessThan(5000);
    expect(stderr).toMatch(/20 item\(s\) not done — rerun the same command to resume/);
    expect(readResults(out)).toHaveLength(0);

    // The API answers again: the rerun does every item, once.
    fx.sim.setOptions({ hangRate: 0 });
    const again = await runCli(['run', input, '-o', out, ...MODEL, '--quiet'], { env: fx.env() });
    expect(again.code).toBe(0);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(20);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('gives a silent request up after the first-byte timeout and retries it: with every answer hung, the items end as errored after --max-attempts', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600, hangRate: 1 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 2);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, ...MODEL, '--max-attempts', '2', '--quiet'], {
      env: { ...fx.env(), CLAW_BATCH_FIRST_BYTE_TIMEOUT_MS: '1000' },
    });
    expect(r.code).toBe(1);
    const lines = readResults(out);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l.result.type).toBe('errored');
      expect(l.result.error?.error.message).toMatch(/no answer from the API within 1 s .*gave up after 2 attempts/);
    }
    expect(fx.sim.counters().hung).toBe(4);
  });
});

describe('an answer that stops mid-stream', () => {
  it('is given up after the idle timeout and retried; the retry that answers is the one written', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600, stallRate: 1, replyTokens: 40, latencyMs: 100 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 3);
    const out = join(dir, 'out.jsonl');
    // Let the first attempts (all three) stall, then heal the API while the run waits them out and
    // backs off. Healed on the count, not after a fixed time: a slow start on a busy machine must
    // not heal it before any stream has stalled.
    const heal = setInterval(() => {
      if (fx.sim.counters().stalled >= 3) fx.sim.setOptions({ stallRate: 0 });
    }, 20);
    const r = await runCli(['run', input, '-o', out, ...MODEL, '--quiet'], { env: { ...fx.env(), CLAW_BATCH_IDLE_TIMEOUT_MS: '1000' } }).finally(() =>
      clearInterval(heal),
    );
    expect(r.code).toBe(0);
    const lines = readResults(out);
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
    expect(fx.sim.counters().stalled).toBeGreaterThanOrEqual(3);
  });
});

describe('transport: json (a plain, non-streamed call)', () => {
  it('does every item once with the usage the API returned, and a silent answer is still given up and retried', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600, hangRate: 0, stallRate: 0, replyTokens: 30, latencyMs: 50 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 12);
    const out = join(dir, 'out.jsonl');
    const ok = await runCli(['run', input, '-o', out, ...MODEL, '--quiet'], { env: { ...fx.env(), CLAW_BATCH_TRANSPORT: 'json' } });
    expect(ok.code).toBe(0);
    const lines = readResults(out);
    const counts = countById(lines);
    expect(counts.size).toBe(12);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(lines.every((l) => l.result.type === 'succeeded' && (l.result.message as { usage?: { output_tokens: number } } | undefined)?.usage?.output_tokens === 30)).toBe(true);

    // A hung answer: with max_tokens 1 the call is allowed the first-byte timeout plus ~50 ms.
    fx.sim.setOptions({ hangRate: 1 });
    fx.sim.resetCounters();
    const hungOut = join(dir, 'hung.jsonl');
    const two = writeItems(fx.newDir(), 2);
    const hung = await runCli(['run', two, '-o', hungOut, '--model', 'claude-haiku-4-5', '--max-tokens', '1', '--realtime', '--max-attempts', '2', '--quiet'], {
      env: { ...fx.env(), CLAW_BATCH_TRANSPORT: 'json', CLAW_BATCH_FIRST_BYTE_TIMEOUT_MS: '1000' },
    });
    expect(hung.code, hung.stderr).toBe(1);
    const errored = readResults(hungOut);
    expect(errored).toHaveLength(2);
    expect(errored.every((l) => l.result.type === 'errored' && /no answer from the API within 1 s/.test(l.result.error?.error.message ?? ''))).toBe(true);
    expect(fx.sim.counters().hung).toBe(4);
  });
});
