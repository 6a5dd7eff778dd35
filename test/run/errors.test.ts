/**
 * Bad input fails before anything is sent; a rejected key or a spend cap stops the run cleanly;
 * a bad item errors alone; the key never shows up anywhere.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useSimulator } from '../helpers/simulator.js';
import { readResults, runCli, writeItems } from '../helpers/cli.js';

const fx = useSimulator({}, { rejectKeys: [], spendLimitAfter: undefined, rpm: undefined });

const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '32', '--realtime'];

function allFilesUnder(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) out.push(...allFilesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('bad input: exit 2 naming the line, nothing sent', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['malformed JSON', 'items.jsonl', '{"custom_id":"a","prompt":"x"}\n{"custom_id":"b","prompt":\n', /items\.jsonl:2:.*JSON/i],
    ['a line that is not an object', 'items.jsonl', '{"custom_id":"a","prompt":"x"}\n\n[1,2]\n', /items\.jsonl:3:.*object/i],
    ['an invalid custom_id', 'items.jsonl', '{"custom_id":"a","prompt":"x"}\n{"custom_id":"has space","prompt":"y"}\n', /items\.jsonl:2:.*custom_id/i],
    ['a duplicate custom_id', 'items.jsonl', '{"custom_id":"a","prompt":"x"}\n{"custom_id":"b","prompt":"y"}\n{"custom_id":"a","prompt":"z"}\n', /items\.jsonl:3:.*duplicate.*line 1/i],
    ['a CSV with an unterminated quote', 'items.csv', 'id,text\n1,"fine"\n2,"never closed\n3,ok\n', /items\.csv:3:.*quote/i],
    ['a ragged CSV row', 'items.csv', 'id,text\n1,hello\n2,hello,extra\n', /items\.csv:3:/i],
  ];
  for (const [what, name, content, message] of cases) {
    it(`rejects ${what}`, async () => {
      const dir = fx.newDir();
      fx.sim.resetCounters();
      const input = join(dir, name);
      writeFileSync(input, content);
      const extra = name.endsWith('.csv') ? ['--template', 'Summarize: {{text}}', '--id-field', 'id'] : [];
      const r = await runCli(['run', input, ...extra, ...MODEL], { env: fx.env() });
      expect(r.code).toBe(2);
      const errLines = r.stderr.trim().split('\n');
      expect(errLines).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(fx.sim.counters().requests).toBe(0);
    });
  }

  it('fails on bad line 90,000 before sending the first request', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = writeItems(dir, 90_000);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(input, '{"custom_id": "broken"\n');
    const r = await runCli(['run', input, ...MODEL], { env: fx.env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/items\.jsonl:90001:/);
    expect(fx.sim.counters().requests).toBe(0);
  });

  it('says so when no API key is set, before sending anything', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = writeItems(dir, 3);
    const r = await runCli(['run', input, ...MODEL], { env: { ANTHROPIC_BASE_URL: fx.sim.url, CLAW_BATCH_STATE_DIR: join(dir, 'state') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ANTHROPIC_API_KEY/);
    expect(fx.sim.counters().requests).toBe(0);
  });
});

describe('the API refuses to go on', () => {
  it('a rejected API key: exit 3 after at most a few requests, and the key appears in no output, log or file', async () => {
    const dir = fx.newDir();
    const key = 'sk-ant-api03-SECRETSECRETSECRET-do-not-print';
    fx.sim.setOptions({ rejectKeys: [key] });
    fx.sim.resetCounters();
    const input = writeItems(dir, 50);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, '--concurrency', '8', ...MODEL], { env: { ...fx.env(key), CLAW_BATCH_DEBUG: '1' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/API key/i);
    expect(fx.sim.counters().requests).toBeLessThanOrEqual(3);
    expect(r.stdout + r.stderr).not.toContain('SECRETSECRET');
    for (const f of allFilesUnder(dir)) expect(readFileSync(f, 'utf8')).not.toContain('SECRETSECRET');
  });

  it('a spend limit: exit 3, what finished is kept, rerun resumes', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ spendLimitAfter: 10 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 30);
    const out = join(dir, 'out.jsonl');
    const args = ['run', input, '-o', out, '--concurrency', '2', ...MODEL];
    const r = await runCli(args, { env: fx.env() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/spend limit/i);
    const done = readResults(out);
    expect(done.length).toBe(10);
    expect(done.every((l) => l.result.type === 'succeeded')).toBe(true);

    fx.sim.setOptions({ spendLimitAfter: undefined });
    const again = await runCli(args, { env: fx.env() });
    expect(again.code).toBe(0);
    expect(readResults(out)).toHaveLength(30);
  });
});

describe('a bad item among good ones', () => {
  it('an unknown model on one item: that item errors without a retry, the rest succeed, exit 1', async () => {
    const dir = fx.newDir();
    fx.sim.resetCounters();
    const input = join(dir, 'items.jsonl');
    const lines = [];
    for (let i = 1; i <= 10; i++) lines.push(JSON.stringify({ custom_id: `t-${i}`, prompt: `hello ${i}`, ...(i === 4 ? { model: 'gpt-unknown' } : {}) }));
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'out.jsonl');
    const r = await runCli(['run', input, '-o', out, ...MODEL], { env: fx.env() });
    expect(r.code).toBe(1);
    const results = readResults(out);
    expect(results).toHaveLength(10);
    const bad = results.find((l) => l.custom_id === 't-4')!;
    expect(bad.result.type).toBe('errored');
    expect(bad.result.error?.error.type).toBe('not_found_error');
    expect(results.filter((l) => l.result.type === 'succeeded')).toHaveLength(9);
    expect(fx.sim.counters().status404).toBe(1);
  });
});

describe('queue_overflow: fail', () => {
  it('stops cleanly (exit 3) when a wait for capacity would exceed queue_timeout_ms; what finished is kept', async () => {
    const dir = fx.newDir();
    fx.sim.setOptions({ rpm: 6 });
    fx.sim.resetCounters();
    const input = writeItems(dir, 5);
    const out = join(dir, 'out.jsonl');
    const config = join(dir, 'claw-batch.config.yaml');
    writeFileSync(config, 'providers:\n  anthropic:\n    rate_limit:\n      queue_overflow: fail\n      queue_timeout_ms: 2000\n');
    const r = await runCli(['run', input, '-o', out, '--config', config, ...MODEL], { env: fx.env() });
    fx.sim.setOptions({ rpm: undefined });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/queue_timeout_ms/);
    const done = readResults(out);
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length).toBeLessThan(5);
    expect(fx.sim.counters().rateLimited).toBe(0);
  });
});
