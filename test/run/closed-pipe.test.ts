/**
 * Output to a reader that has gone (`| head`, a pipe closed at once) ends quietly, as other Unix
 * tools do: no EPIPE, no stack trace. Help and `list` exit as they would have; results that did
 * not reach anyone (`poll`, like `run`) are exit 3 with one line saying how to get them.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, runShell, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator({ batchMs: 100 });

/** Runs the CLI with its stdout a pipe whose reading end is closed before anything is written. */
function withClosedStdout(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

function expectNoCrash(stderr: string): void {
  expect(stderr).not.toMatch(/EPIPE/);
  expect(stderr).not.toMatch(/\n\s+at /); // a stack frame
  expect(stderr).not.toMatch(/Unhandled|internal error/);
}

describe('a reader that has gone', () => {
  it('`claw-batch run --help | head -2` prints two lines and exits 0 quietly', async () => {
    const r = await runShell('claw run --help | head -2; exit ${PIPESTATUS[0]}');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 1)).toEqual(['Usage: claw-batch run [options] <input>']);
    expectNoCrash(r.stderr);
    expect(r.stderr).toBe('');
  });

  it('help into a pipe closed before anything is written: exit 0, nothing on stderr', async () => {
    for (const args of [['--help'], ['run', '--help'], ['submit', '--help']]) {
      const r = await withClosedStdout(args, {});
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr).toBe('');
    }
  });

  it('`list` (and `list --json`) into a closed pipe: exit 0 quietly', async () => {
    fx.newDir();
    for (const args of [['list'], ['list', '--json']]) {
      const r = await withClosedStdout(args, fx.env());
      expectNoCrash(r.stderr);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr).toBe('');
    }
  });

  it('`poll` results into a closed pipe: exit 3, one line saying how to get them, the job not marked written', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 30);
    const submitted = await runCli(['submit', input, '--model', 'claude-haiku-4-5'], { env: fx.env() });
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    const waited = await runCli(['poll', id, '--wait', '--interval', '0.2', '-o', `${dir}/first.jsonl`, '--quiet'], { env: fx.env() });
    expect(waited.code).toBe(0);

    const r = await withClosedStdout(['poll', id, '--quiet'], fx.env());
    expectNoCrash(r.stderr);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      `claw-batch: the program reading the results has exited; poll ${id} again for them (with -o FILE to keep them)`,
    ]);
  });
});
