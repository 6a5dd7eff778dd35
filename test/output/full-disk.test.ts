/**
 * A full disk while a resume rewrites the results file, or while results are appended: exit 3 with
 * one line, the file intact (whole lines only, nothing that was there lost), and a rerun with room
 * again finishes every item exactly once.
 *
 * How the disk fills: test/helpers/full-disk-preload.cjs, loaded into the CLI process with
 * `NODE_OPTIONS=--require …`, makes writes to the named file fail with ENOSPC after a number of
 * bytes (a short write first, as a real full disk does). A real small filesystem would need root
 * and a mount; the preload works anywhere and fails at an exact, repeatable point.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countById, readResults, runCli, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator();
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '16'];
const PRELOAD = fileURLToPath(new URL('../helpers/full-disk-preload.cjs', import.meta.url));

function fullDisk(pathPattern: string, afterBytes = 0): Record<string, string> {
  return {
    NODE_OPTIONS: `--require ${PRELOAD}`,
    CLAW_TEST_FULL_DISK_PATH: pathPattern,
    CLAW_TEST_FULL_DISK_AFTER_BYTES: String(afterBytes),
  };
}

/** Every line of the file is a whole result line. */
function expectWholeLines(path: string): void {
  const text = readFileSync(path, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n').filter((l) => l !== '')) expect(() => JSON.parse(line)).not.toThrow();
}

const succeeded = (id: string) =>
  JSON.stringify({ custom_id: id, result: { type: 'succeeded', message: { id: `msg_${id}`, type: 'message', role: 'assistant', content: [], usage: { input_tokens: 1, output_tokens: 1 } } } });
const errored = (id: string) =>
  JSON.stringify({ custom_id: id, result: { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'x' } } } });

describe('a full disk', () => {
  it('while a resume rewrites the output: exit 3, one line, the file byte-identical, no temp file left, nothing sent', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 4);
    const out = join(dir, 'out.jsonl');
    // t-2 errored: the resume drops its line (a rewrite through a temp copy) so it is retried.
    writeFileSync(out, `${succeeded('t-1')}\n${errored('t-2')}\n${succeeded('t-3')}\n`);
    const before = readFileSync(out);
    fx.sim.resetCounters();
    const r = await runCli(['run', input, '-o', out, ...MODEL, '--realtime', '--quiet'], { env: { ...fx.env(), ...fullDisk('\\.tmp$', 100) } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      `claw-batch: cannot rewrite ${out} to resume: no space left on the device (ENOSPC); ${out} is unchanged — free some space, then rerun the same command`,
    ]);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(fx.sim.counters().requests).toBe(0);
  });

  it('while results are appended (real-time): exit 3, one line, whole lines only; a rerun finishes each item once', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 20);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, ...MODEL, '--realtime', '--quiet'], { env: { ...fx.env(), ...fullDisk('out\\.jsonl$', 2500) } });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot append to .*out\.jsonl: no space left on the device \(ENOSPC\); the result lines already in it are intact/);
    expect(lines[0]).toMatch(/item\(s\) not done — rerun the same command to resume$/);
    expect(lines[0]).not.toMatch(/internal error/);
    expectWholeLines(out);
    const partial = readResults(out);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(20);

    const again = await runCli(['run', input, '-o', out, ...MODEL, '--realtime', '--quiet'], { env: fx.env() });
    expect(again.code).toBe(0);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(20);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('while batch results are written (run --batch-api): exit 3 naming the job; a rerun re-attaches and writes the rest', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 12);
    const out = join(dir, 'out.jsonl');
    fx.sim.setOptions({ batchMs: 100 });
    const env = { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: '0.2' };
    const r = await runCli(['run', input, '-o', out, ...MODEL, '--batch-api', '--quiet'], { env: { ...env, ...fullDisk('out\\.jsonl$', 1500) } });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no space left on the device \(ENOSPC\).*then rerun the same command: it re-attaches to job job_\w+ and writes the rest/);
    expectWholeLines(out);
    const created = fx.sim.counters().batchesCreated;

    const again = await runCli(['run', input, '-o', out, ...MODEL, '--batch-api', '--quiet'], { env });
    expect(again.code).toBe(0);
    expect(fx.sim.counters().batchesCreated).toBe(created); // not paid for twice
    const counts = countById(readResults(out));
    expect(counts.size).toBe(12);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(existsSync(out)).toBe(true);
  }, 30_000);
});
