/**
 * Bounds a hostile input or flag cannot get past: --concurrency (and its config and environment
 * forms) has a documented maximum, an item whose request body is over the API's 32 MB is refused
 * before anything is sent, and an error line quoting a huge value stays short.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES } from '../../src/input/request-size.js';
import { quoted } from '../../src/quote.js';
import { runCli, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator();
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '16', '--realtime'];

async function refused(args: string[], env: Record<string, string> = {}, cwd?: string) {
  fx.sim.resetCounters();
  const r = await runCli(args, { env: { ...fx.env(), ...env }, cwd });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(fx.sim.counters().requests).toBe(0);
  return r.stderr;
}

describe('the concurrency maximum (4096)', () => {
  it('--concurrency 100000: exit 2 naming the value and the maximum, nothing sent', async () => {
    const input = writeItems(fx.newDir(), 3);
    expect(await refused(['run', input, ...MODEL, '--concurrency', '100000'])).toContain(
      'Invalid value for --concurrency: expected a whole number from 1 to 4096 (the maximum), got `100000`',
    );
  });

  it('CLAW_BATCH_CONCURRENCY=5000 and max_concurrent: 5000 in the config are refused the same way', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    expect(await refused(['run', input, ...MODEL], { CLAW_BATCH_CONCURRENCY: '5000' })).toMatch(
      /CLAW_BATCH_CONCURRENCY: expected a whole number from 1 to 4096 \(the maximum\), got `5000`/,
    );
    writeFileSync(join(dir, 'claw-batch.config.yaml'), 'providers:\n  anthropic:\n    rate_limit:\n      max_concurrent: 5000\n');
    expect(await refused(['run', input, ...MODEL], {}, dir)).toMatch(
      /providers\.anthropic\.rate_limit\.max_concurrent: expected a whole number from 1 to 4096 \(the maximum\), got 5000/,
    );
  });

  it('4096 itself is accepted', async () => {
    const input = writeItems(fx.newDir(), 3);
    const r = await runCli(['run', input, ...MODEL, '--concurrency', '4096', '--dry-run'], { env: fx.env() });
    expect(r.code).toBe(0);
  });
});

describe('an item over the API\'s 32 MB request limit', () => {
  it('is exit 2 naming the file and line, before anything is sent', async () => {
    const dir = fx.newDir();
    const input = join(dir, 'big.jsonl');
    const big = 'x'.repeat(MAX_REQUEST_BYTES + 1000);
    writeFileSync(input, `{"custom_id":"small","prompt":"hi"}\n{"custom_id":"big","prompt":"${big}"}\n`);
    const stderr = await refused(['run', input, ...MODEL]);
    expect(stderr).toMatch(/big\.jsonl:2: the request would be 32\.0 MB \([\d,]+ bytes\), over the API's 32 MB limit for one request \(33,554,432 bytes\)/);
  });

  it('counts what JSON escaping adds (control characters become \\u00XX)', async () => {
    const dir = fx.newDir();
    const input = join(dir, 'escaped.jsonl');
    // 6 MB of \u0001 in the line: 36 MB of text, as it will be sent.
    writeFileSync(input, `{"prompt":"${'\\u0001'.repeat(6 * 1024 * 1024)}"}\n`);
    expect(await refused(['run', input, ...MODEL])).toMatch(/escaped\.jsonl:1: the request would be 36\.0 MB/);
  });

  it('an item just under the limit passes the check', async () => {
    const dir = fx.newDir();
    const input = join(dir, 'under.jsonl');
    writeFileSync(input, `{"prompt":"${'x'.repeat(MAX_REQUEST_BYTES - 200)}"}\n`);
    const r = await runCli(['run', input, ...MODEL, '--dry-run'], { env: fx.env() });
    expect(r.code).toBe(0);
  });
});

describe('long values in error lines are shortened', () => {
  it('a 100,000-character custom_id: the error line stays short and shows its ends and its length', async () => {
    const dir = fx.newDir();
    const input = join(dir, 'long-id.jsonl');
    const id = `start-${'x'.repeat(100_000 - 10)}-end`;
    writeFileSync(input, `${JSON.stringify({ custom_id: id, prompt: 'hi' })}\n`);
    const stderr = await refused(['run', input, ...MODEL]);
    expect(stderr.length).toBeLessThan(300);
    expect(stderr).toMatch(/long-id\.jsonl:1: invalid custom_id "start-x+…x+-end" \(100,000 characters\): it must match/);
  });

  it('a long unknown key, a long flag value, a long job id', async () => {
    const dir = fx.newDir();
    const input = join(dir, 'long-key.jsonl');
    writeFileSync(input, `${JSON.stringify({ prompt: 'hi', ['k'.repeat(100_000)]: 1 })}\n`);
    expect((await refused(['run', input, ...MODEL])).length).toBeLessThan(300);
    expect((await refused(['run', input, ...MODEL, '--rpm', '9'.repeat(100_000) + 'x'])).length).toBeLessThan(300);
    expect((await refused(['poll', `job_${'1'.repeat(100_000)}`])).length).toBeLessThan(300);
    expect((await refused(['run', input, `--${'z'.repeat(100_000)}`])).length).toBeLessThan(300);
  });

  it('quoted() keeps short values whole and never splits a surrogate pair', () => {
    expect(quoted('row-1')).toBe('"row-1"');
    const emoji = '😀'.repeat(100);
    expect(quoted(emoji)).not.toContain('\\ud');
    expect(quoted(emoji)).toMatch(/^"(😀)+…(😀)+" \(200 characters\)$/u);
  });
});
