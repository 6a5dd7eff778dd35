/**
 * `runJob` through the public entry only (`claw-batch`), against the simulator over real HTTP:
 * every item written once, progress as events, an abort mid-run that a second runJob resumes
 * without losing or repeating an item, bad input refused before anything is sent, and a program
 * that runs a job and ends exits by itself.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, InputError, runJob, startSimulator, type JobEvent, type Simulator } from 'claw-batch';
import { removeDir, tempDir } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODEL = 'claude-haiku-4-5';

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 200, jitterMs: 50, rpm: 600, batchMs: 300 });
});
afterAll(() => sim.close());
afterEach(() => {
  if (dir) removeDir(dir);
});

function items(n: number): string {
  dir = tempDir();
  const file = join(dir, 'items.jsonl');
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `item-${i}`, prompt: `Label ticket ${i}`, model: MODEL, max_tokens: 1024 }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function base(input: string) {
  return { input, output: join(dir, 'out.jsonl'), apiKey: 'run-job-key', baseURL: sim.url, stateDir: join(dir, 'state') };
}

function idsIn(file: string): string[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id);
}

function expectEachOnce(file: string, n: number): void {
  const ids = idsIn(file);
  expect(ids).toHaveLength(n);
  expect(new Set(ids).size).toBe(n);
}

describe('runJob', () => {
  it('writes every item of a JSONL input exactly once and reports progress as events', async () => {
    const events: JobEvent[] = [];
    const options = base(items(30));
    const result = await runJob({ ...options, mode: 'realtime', onEvent: (e) => events.push(e) });
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(result.summary).toMatchObject({ mode: 'realtime', items: 30, succeeded: 30, errored: 0, pending: 0 });
    expectEachOnce(options.output, 30);
    expect(events[0]).toMatchObject({ type: 'started', mode: 'realtime', total: 30, pending: 30 });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: 30, pending: 0, failed: 0 });
    expect(events.at(-1)).toMatchObject({ type: 'finished', exitCode: 0 });
  });

  it('aborted mid-run, stops with items pending; the same runJob again does the rest, every item once', async () => {
    const options = base(items(60));
    const controller = new AbortController();
    const first = await runJob({
      ...options,
      mode: 'realtime',
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.done >= 15) controller.abort();
      },
    });
    expect(first.status).toBe('stopped');
    expect(first.exitCode).toBe(3);
    expect(first.stopped?.reason).toBe('interrupted');
    expect(first.summary!.pending).toBeGreaterThan(0);
    const written = idsIn(options.output);
    expect(written.length).toBe(first.summary!.succeeded);
    expect(new Set(written).size).toBe(written.length);

    const second = await runJob({ ...options, mode: 'realtime' });
    expect(second.status).toBe('succeeded');
    expect(second.summary).toMatchObject({ skipped: written.length, succeeded: 60, pending: 0 });
    expectEachOnce(options.output, 60);
  });

  it('runs a job through the Batches API too (mode batch): every item once', async () => {
    const options = base(items(12));
    const events: JobEvent[] = [];
    const env = { ...process.env, CLAW_BATCH_POLL_INTERVAL_S: '1' };
    const result = await runJob({ ...options, env, mode: 'batch', onEvent: (e) => events.push(e) });
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(result.summary).toMatchObject({ mode: 'batch', succeeded: 12 });
    expect(events[0]).toMatchObject({ type: 'started', mode: 'batch' });
    expectEachOnce(options.output, 12);
  });

  it('refuses bad input before anything is sent: an InputError naming the file and line', async () => {
    const input = items(3);
    writeFileSync(input, `${readFileSync(input, 'utf8')}{"custom_id": "bad id!", "prompt": "x"}\n`);
    sim.resetCounters();
    const error = await runJob(base(input)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ file: input, line: 4 });
    expect(sim.counters().requests).toBe(0);
  });

  it('a signal aborted before sending: AbortedError, nothing sent', async () => {
    sim.resetCounters();
    const error = await runJob({ ...base(items(3)), mode: 'realtime', signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(sim.counters().requests).toBe(0);
  });

  it('a program that runs a job exits by itself once it resolves: no signal handler, timer or handle is left', async () => {
    const options = base(items(5));
    const file = join(ROOT, `.library-test-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      file,
      `import { runJob } from 'claw-batch';
       const before = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
       const r = await runJob({ ...${JSON.stringify(options)}, mode: 'realtime', onEvent: (e) => {
         if (e.type === 'started' && process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') !== before) process.exit(6);
       } });
       if (r.exitCode !== 0) process.exit(5);`,
    );
    try {
      const child = spawn(process.execPath, [file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expectEachOnce(options.output, 5);
    } finally {
      removeDir(file);
    }
  });
});
