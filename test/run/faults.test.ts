/**
 * Faults at run time lose nothing: every item ends as exactly one result line, or is picked up by
 * rerunning the same command.
 */
import { describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { countById, readResults, runCli, writeItems } from '../helpers/cli.js';

const fx = useSimulator({}, { rate500: 0, rate529: 0, dropRate: 0, rpm: undefined, latencyMs: 0, jitterMs: 0 });

const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '32', '--realtime'];

describe('run under injected faults', () => {
  it('retries 5% 500s, 5% 529s and 2% dropped connections: every item succeeds, exactly once', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rate500: 0.05, rate529: 0.05, dropRate: 0.02, seed: 7 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 300);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--concurrency', '16', ...MODEL, '--json'], { env: fx.env() });
    expect(r.code).toBe(0);
    const lines = readResults(out);
    const counts = countById(lines);
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(lines.every((l) => l.result.type === 'succeeded')).toBe(true);
    const c = fx.sim.counters();
    // The faults really happened, and were retried.
    expect(c.status500 + c.status529 + c.dropped).toBeGreaterThan(10);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!) as { retried: number; succeeded: number };
    expect(summary.succeeded).toBe(300);
    expect(summary.retried).toBeGreaterThanOrEqual(c.status500 + c.status529);
  });

  it('gives up on an item after --max-attempts and writes it as errored (exit 1)', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rate529: 1 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 2);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--max-attempts', '2', ...MODEL], { env: fx.env() });
    expect(r.code).toBe(1);
    const lines = readResults(out);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.result.type === 'errored' && l.result.error?.error.type === 'overloaded_error')).toBe(true);
    expect(fx.sim.counters().status529).toBe(4);
  });
});

describe('run when another client shares the limit', () => {
  it('takes the 429 storm another client causes: every worker pauses, every item still succeeds exactly once', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 1200 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 80);
    const out = join(dir, 'out.jsonl');
    // A second client on the same account, draining the bucket for the first seconds of the run.
    const other = new Anthropic({ apiKey: 'test-key', baseURL: fx.sim.url, maxRetries: 0 });
    let competing = true;
    const until = Date.now() + 3000;
    const hog = (async () => {
      while (competing && Date.now() < until) {
        await Promise.allSettled(
          Array.from({ length: 20 }, () =>
            other.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'other job' }] }),
          ),
        );
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const r = await runCli(['run', input, '-o', out, '--concurrency', '8', ...MODEL, '--json'], { env: fx.env() }).finally(() => {
      competing = false;
    });
    await hog;
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!) as { rate_limited: number; succeeded: number };
    expect(summary.rate_limited).toBeGreaterThan(0);
    expect(summary.succeeded).toBe(80);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(80);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });
});

describe('run after a crash', () => {
  it('SIGKILL mid-run, then the same command: every item exactly once, at most 2 x concurrency sent twice', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 1200 });
    fx.sim.resetCounters();
    const N = 100;
    const concurrency = 4;
    const input = writeItems(dir, N);
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--concurrency', String(concurrency), '--rpm', '1200', ...MODEL];
    const first = await runCli(args, {
      env: fx.env(),
      onSpawn: (child) => setTimeout(() => child.kill('SIGKILL'), 3000),
    });
    expect(first.signal).toBe('SIGKILL');
    const partial = readResults(out).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(N);

    const second = await runCli(args, { env: fx.env() });
    expect(second.code).toBe(0);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(N);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    const twice = Object.values(fx.sim.counters().successesByPrompt).filter((n) => n > 1).length;
    expect(twice).toBeLessThanOrEqual(2 * concurrency);
  });

  it('repairs a torn last line and resumes', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = writeItems(dir, 20);
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, ...MODEL];
    expect((await runCli(args, { env: fx.env() })).code).toBe(0);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const text = readFileSync(out, 'utf8');
    const kept = text.split('\n').slice(0, 10).join('\n');
    writeFileSync(out, `${kept}\n{"custom_id":"t-99","res`);
    const r = await runCli(args, { env: fx.env() });
    expect(r.code).toBe(0);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(20);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('Ctrl-C takes no new items, lets in-flight ones finish, exits 3; rerunning resumes', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 600, latencyMs: 50 });
    fx.sim.resetCounters();
    const N = 60;
    const input = writeItems(dir, N);
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--concurrency', '4', ...MODEL];
    const first = await runCli(args, { env: fx.env(), onSpawn: (child) => setTimeout(() => child.kill('SIGINT'), 2500) });
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(/rerun/i);
    const partial = readResults(out);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(N);
    // Nothing that was answered is missing from the file.
    expect(fx.sim.counters().succeeded).toBe(partial.length);

    const second = await runCli(args, { env: fx.env() });
    expect(second.code).toBe(0);
    const counts = countById(readResults(out));
    expect(counts.size).toBe(N);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(fx.sim.counters().succeeded).toBe(N);
  });
});
