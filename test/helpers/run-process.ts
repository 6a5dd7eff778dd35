/**
 * `claw-batch run` as a background process of a test: several at once sharing one key, one killed
 * mid-run, one whose lock another must respect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BIN, cliEnv, countById, readResults, writeItems } from './cli.js';

export interface RunProcess {
  child: ChildProcess;
  /** Its results file. */
  out: string;
  /** Its items. */
  n: number;
  done: Promise<{ code: number | null; stderr: string }>;
}

/** Starts `run` on `n` items of its own (`<name>.jsonl` in `dir`), told `--rpm rpm` (nothing when undefined). */
export function startRun(dir: string, name: string, n: number, rpm: number | undefined, env: Record<string, string>, extra: string[] = ['--quiet']): RunProcess {
  const input = writeItems(dir, n, (i) => `${name}: label document ${i}`, `${name}.jsonl`);
  const out = join(dir, `${name}.out.jsonl`);
  const args = [BIN, 'run', input, '-o', out, ...(rpm === undefined ? [] : ['--rpm', String(rpm)]), '--model', 'claude-haiku-4-5', '--max-tokens', '64', '--realtime', ...extra];
  const child = spawn(process.execPath, args, { env: cliEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, out, n, done };
}

/** Every item of the process is in its output exactly once. */
export function expectEachOnce(p: Pick<RunProcess, 'out' | 'n'>): void {
  const counts = countById(readResults(p.out));
  expect(counts.size).toBe(p.n);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
}

/** Polls `condition` every 25 ms; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
