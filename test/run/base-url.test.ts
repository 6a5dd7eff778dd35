/**
 * A malformed ANTHROPIC_BASE_URL is a configuration error found before anything is sent (exit 2,
 * naming the variable), not every item written as errored "Invalid URL"; the key is never printed.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, runCli, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator();
const KEY = 'sk-ant-api03-never-print-this-key-0123456789';
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '16'];

describe('a malformed ANTHROPIC_BASE_URL', () => {
  for (const [what, value, said] of [
    ['no scheme (host:port)', '127.0.0.1:4010', /ANTHROPIC_BASE_URL must start with http:\/\/ or https:\/\/, got "127\.0\.0\.1:4010" \(did you mean "http:\/\/127\.0\.0\.1:4010"\?\)/],
    ['no scheme (a name that parses as one)', 'localhost:4010', /ANTHROPIC_BASE_URL must start with http:\/\/ or https:\/\/, got "localhost:4010"/],
    ['another scheme', 'ftp://example.com', /ANTHROPIC_BASE_URL must start with http:\/\/ or https:\/\//],
    ['no host', 'http://', /ANTHROPIC_BASE_URL is not a valid URL: "http:\/\/"/],
  ] as const) {
    it(`${what}: run exits 2 naming the variable, nothing sent, no output written`, async () => {
      const dir = fx.newDir();
      const input = writeItems(dir, 3);
      const out = join(dir, 'out.jsonl');
      fx.sim.resetCounters();
      const r = await runCli(['run', input, '-o', out, ...MODEL, '--realtime'], { env: { ...fx.env(KEY), ANTHROPIC_BASE_URL: value } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(said);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr + r.stdout).not.toContain(KEY);
      expect(fx.sim.counters().requests).toBe(0);
      expect(readResults(out)).toHaveLength(0);
    });
  }

  it('submit, poll and list refuse it too (exit 2)', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    const env = { ...fx.env(KEY), ANTHROPIC_BASE_URL: '127.0.0.1:4010' };
    for (const args of [['submit', input, ...MODEL], ['poll', 'msgbatch_abc'], ['list']]) {
      const r = await runCli(args, { env });
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toMatch(/ANTHROPIC_BASE_URL must start with http/);
      expect(r.stderr).not.toContain(KEY);
    }
    expect(fx.sim.counters().batchesCreated).toBe(0);
  });
});

describe('a bad CLAW_BATCH_POLL_INTERVAL_S', () => {
  it('is exit 2 naming the variable before anything is submitted, for run and poll', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = writeItems(dir, 3);
    for (const value of ['abc', '0', '-1']) {
      const env = { ...fx.env(), CLAW_BATCH_POLL_INTERVAL_S: value };
      const r = await runCli(['run', input, '-o', join(dir, 'out.jsonl'), ...MODEL, '--batch-api'], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`claw-batch: Invalid value for CLAW_BATCH_POLL_INTERVAL_S: expected a number of seconds > 0, got "${value}"\n`);
      const poll = await runCli(['poll', 'cb_job_none', '--wait'], { env });
      expect(poll.code).toBe(2);
      expect(poll.stderr).toMatch(/Invalid value for CLAW_BATCH_POLL_INTERVAL_S/);
    }
    expect(fx.sim.counters().batchCreateCalls).toBe(0);
  });
});
