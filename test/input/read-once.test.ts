/**
 * Inputs that can be read only once — process substitution, a named FIFO — are copied once and
 * then validated and sent from the copy: every item is done exactly once, and a FIFO nobody writes
 * to does not make the process deaf to Ctrl-C / SIGTERM.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, countById, readResults, runShell, waitForOpenFile, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator();
const N = 5;
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '16'];

function expectEachOnce(out: string): void {
  const lines = readResults(out);
  expect(lines).toHaveLength(N);
  const counts = countById(lines);
  for (let i = 1; i <= N; i++) expect(counts.get(`t-${i}`)).toBe(1);
  expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
}

function mkfifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

describe('an input that can be read only once', () => {
  it('run <(cat items.jsonl) does every item exactly once and exits 0', async () => {
    const dir = fx.newDir();
    writeItems(dir, N);
    fx.sim.resetCounters();
    const r = await runShell(`claw run <(cat items.jsonl) ${MODEL.join(' ')} --realtime -o out.jsonl`, { cwd: dir, env: fx.env() });
    expect(r.stderr).not.toMatch(/pending/);
    expect(r.code).toBe(0);
    expectEachOnce(join(dir, 'out.jsonl'));
    expect(fx.sim.counters().requests).toBe(N);
  });

  it('run on a named FIFO reads it once (no second open to hang on), does every item once, exits 0', async () => {
    const dir = fx.newDir();
    writeItems(dir, N);
    mkfifo(join(dir, 'items.fifo'));
    // One writer, writing once: a second open of the FIFO would wait for a writer that never comes.
    const r = await runShell(`cat items.jsonl > items.fifo & claw run items.fifo ${MODEL.join(' ')} --realtime -o out.jsonl; code=$?; wait; exit $code`, {
      cwd: dir,
      env: fx.env(),
    });
    expect(r.code).toBe(0);
    expectEachOnce(join(dir, 'out.jsonl'));
  }, 20_000);

  it('run --batch-api on process substitution submits every item once and writes each result once', async () => {
    const dir = fx.newDir();
    writeItems(dir, N);
    fx.sim.setOptions({ batchMs: 200 });
    const r = await runShell(`claw run <(cat items.jsonl) ${MODEL.join(' ')} --batch-api -o out.jsonl`, {
      cwd: dir,
      env: { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: '0.2' },
    });
    expect(r.code).toBe(0);
    expectEachOnce(join(dir, 'out.jsonl'));
  }, 20_000);

  it('submit <(cat items.jsonl) makes a job of every item, recorded as an input that cannot be read again', async () => {
    const dir = fx.newDir();
    writeItems(dir, N);
    const r = await runShell(`claw submit <(cat items.jsonl) ${MODEL.join(' ')}`, { cwd: dir, env: fx.env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/5 items in 1 batch/);
    const id = r.stdout.trim();
    const manifest = JSON.parse(readFileSync(join(dir, 'state', 'jobs', `${id}.json`), 'utf8')) as { items: number; input: { path: string } };
    expect(manifest.items).toBe(N);
    expect(manifest.input.path).toBe('-');
  });

  it('a FIFO nobody writes to yet: SIGTERM still stops it at once, exit 3, nothing sent', async () => {
    const dir = fx.newDir();
    const fifo = mkfifo(join(dir, 'items.fifo'));
    fx.sim.resetCounters();
    const child = spawn(process.execPath, [BIN, 'run', fifo, ...MODEL, '-o', join(dir, 'out.jsonl')], {
      env: cliEnv(fx.env()),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitForOpenFile(child.pid!, 'items.fifo');
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.on('close', (c) => {
        clearTimeout(killer);
        resolve(c);
      });
    });
    expect(code).toBe(3);
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(stderr).toMatch(/SIGTERM: stopped before anything was sent/);
    expect(fx.sim.counters().requests).toBe(0);
  }, 15_000);

  it('a FIFO whose writer stalls mid-input: SIGTERM stops it at once, exit 3, nothing sent', async () => {
    const dir = fx.newDir();
    writeItems(dir, N);
    const fifo = mkfifo(join(dir, 'items.fifo'));
    fx.sim.resetCounters();
    const writer = spawn('bash', ['-c', 'head -2 items.jsonl; sleep 30'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    const child = spawn(process.execPath, [BIN, 'run', fifo, ...MODEL, '-o', join(dir, 'out.jsonl')], {
      env: cliEnv(fx.env()),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The writer holds the FIFO open, having written two lines and no end.
    const fifoWriter = spawn('bash', ['-c', `cat > ${JSON.stringify(fifo)}`], { stdio: [writer.stdout, 'ignore', 'ignore'] });
    try {
      await waitForOpenFile(child.pid!, 'items.fifo');
      await new Promise((resolve) => setTimeout(resolve, 200));
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => {
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('close', (c) => {
          clearTimeout(killer);
          resolve(c);
        });
      });
      expect(code).toBe(3);
      expect(fx.sim.counters().requests).toBe(0);
    } finally {
      writer.kill('SIGKILL');
      fifoWriter.kill('SIGKILL');
    }
  }, 15_000);
});
