/**
 * `claw-batch limits`: what the store holds for the current key, as lines and as JSON, from the
 * local store and from Redis; the key itself is never printed.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { limits } from '../../src/commands/limits.js';
import { accountFingerprint } from '../../src/limits/account-key.js';
import { describeLimits, formatLimits } from '../../src/limits/describe-limits.js';
import type { LimitStore } from '../../src/limits/limit-store.js';
import { MemoryStore } from '../../src/limits/memory-store.js';
import { RedisStore } from '../../src/limits/redis-store.js';
import { SqliteStore } from '../../src/limits/sqlite-store.js';
import { freePort, useRedisServer } from '../helpers/redis-server.js';
import { removeDir, runCli, tempDir } from '../helpers/cli.js';
import { fakeStream } from '../ui/fake-stream.js';
import { fakeClock } from './fake-clock.js';
import { SPEC } from './store-contract.js';

const redis = useRedisServer();
const KEY = 'sk-ant-api03-limits-test-key-0123456789';
const BASE = 'http://127.0.0.1:4010';
const account = accountFingerprint(KEY, BASE);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

/** Two processes drawing from haiku, one of them also from opus, which is paused. */
async function fill(store: LimitStore): Promise<void> {
  const haiku = { account, modelClass: 'claude-haiku-4-5' };
  const opus = { account, modelClass: 'claude-opus-4' };
  await store.take(haiku, { requests: 2, inputTokens: 30, outputTokens: 0 }, SPEC);
  await store.adjust(haiku, { outputTokens: -130 }, SPEC); // a full 100 (a second's worth), charged 130
  await store.setLearned(haiku, { rpm: 600, itpm: 6000, otpm: 6000 });
  await store.take(opus, { requests: 1, inputTokens: 0, outputTokens: 0 }, { requests: SPEC.requests });
  await store.pause(opus, 30_000);
  await store.heartbeat(account, { id: 'a', host: 'box-a', pid: 101, command: 'run', modelClasses: ['claude-haiku-4-5', 'claude-opus-4'] }, 60_000);
  await store.heartbeat(account, { id: 'b', host: 'box-b', pid: 202, command: 'proxy', modelClasses: ['claude-haiku-4-5'] }, 60_000);
  await store.take({ account: 'someone-else', modelClass: 'claude-sonnet-4' }, { requests: 1, inputTokens: 0, outputTokens: 0 }, SPEC);
}

async function command(args: { sharedLimits?: string; json?: boolean }, env: Record<string, string>) {
  const stdout = fakeStream();
  const stderr = fakeStream();
  const code = await limits(args, { stdout, stderr, stdin: process.stdin, env, cwd: env.CLAW_BATCH_STATE_DIR! });
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('describeLimits', () => {
  it('gives a row per model class: limits, levels, pause and the processes drawing from it', async () => {
    const clock = fakeClock();
    const dir = tempDir('claw-batch-limits-');
    dirs.push(dir);
    const store = new SqliteStore({ file: join(dir, 'limits.sqlite'), now: clock.now });
    await fill(store);
    const report = await describeLimits(store, account, { 'claude-sonnet-4': { rpm: 50 } }, 60_000);
    expect(report.rows.map((r) => r.modelClass)).toEqual(['claude-haiku-4-5', 'claude-opus-4', 'claude-sonnet-4']);
    const [haiku, opus, sonnet] = report.rows;
    expect(haiku).toMatchObject({
      limits: { rpm: 600, itpm: 6000, otpm: 6000 },
      levels: { requests: { level: 3, capacity: 5, perMinute: 600 }, inputTokens: { level: 20, capacity: 50 }, outputTokens: { level: -30, capacity: 50 } },
      pausedForMs: 0,
    });
    expect(haiku!.processes.map((p) => p.pid)).toEqual([101, 202]);
    expect(opus!.pausedForMs).toBeGreaterThan(29_000);
    expect(opus!.processes.map((p) => p.pid)).toEqual([101]);
    expect(sonnet).toMatchObject({ limits: { rpm: 50 }, levels: {}, processes: [] });
    expect(report.processes).toHaveLength(2);
    expect(formatLimits(report).slice(0, 7)).toEqual([
      `Account ${account} (this key's own until an answer names its organization): shared through this machine's ${join(dir, 'limits.sqlite')}`,
      '',
      'claude-haiku-4-5',
      '  limits     600 RPM, 6,000 ITPM, 6,000 OTPM',
      '  now        requests 3 of 5, input tokens 20 of 50, output tokens -30 of 50 (in debt)',
      '  pause      none',
      '  processes  2: run PID 101 on box-a (seen 0.0 s ago); proxy PID 202 on box-b (seen 0.0 s ago)',
    ]);
    await store.close();
    expect(formatLimits(await describeLimits(new MemoryStore(), account))).toEqual([
      `Account ${account} (this key's own until an answer names its organization): not shared (--shared-limits off): each process keeps its own budget, so there is nothing to show here`,
    ]);
  });
});

describe('claw-batch limits', () => {
  it("shows the local store's budgets for the current key, and never the key", async () => {
    const dir = tempDir('claw-batch-limits-');
    dirs.push(dir);
    const store = new SqliteStore({ file: join(dir, 'limits.sqlite') });
    await fill(store);
    await store.close();
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: BASE, CLAW_BATCH_STATE_DIR: dir };
    const { code, out } = await command({}, env);
    expect(code).toBe(0);
    expect(out).toContain(`Account ${account} (this key's own until an answer names its organization): shared through this machine's ${join(dir, 'limits.sqlite')}`);
    expect(out).toContain('claude-opus-4\n  limits     not known yet');
    expect(out).toMatch(/pause {6}\d+\.\d s left \(after a 429\)/);
    expect(out).not.toContain('claude-sonnet-4'); // another account's
    expect(out).not.toContain(KEY);
    const json = JSON.parse((await command({ json: true }, env)).out) as { account: string; modelClasses: Array<{ modelClass: string }>; processes: unknown[] };
    expect(json.account).toBe(account);
    expect(json.modelClasses.map((m) => m.modelClass)).toEqual(['claude-haiku-4-5', 'claude-opus-4']);
    expect(json.processes).toHaveLength(2);
  });

  it('reads Redis with --shared-limits, and another key sees nothing of it', async () => {
    const dir = tempDir('claw-batch-limits-');
    dirs.push(dir);
    const store = await RedisStore.connect({ url: redis.server.url });
    await fill(store);
    await store.close();
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: BASE, CLAW_BATCH_STATE_DIR: dir };
    const mine = await command({ sharedLimits: redis.server.url }, env);
    expect(mine.out).toContain(`shared through ${redis.server.url}`);
    expect(mine.out).toContain('claude-haiku-4-5');
    const theirs = await command({ sharedLimits: redis.server.url }, { ...env, ANTHROPIC_API_KEY: 'sk-ant-api03-another-key-abcdefgh' });
    expect(theirs.out).toContain('no model class used yet');
    // A password the server does not need: the Redis client's warning is said as its own, password masked.
    const withPassword = redis.server.url.replace('redis://', 'redis://:unneeded-pw@');
    const warned = await runCli(['limits', '--shared-limits', withPassword], { env });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/^claw-batch: warning \(from the Redis client\): .*does not require a password/m);
    expect(warned.stdout + warned.stderr).not.toContain('unneeded-pw');
  });

  it('exits 2 naming an unreachable Redis with its password masked (the real CLI)', async () => {
    const dir = tempDir('claw-batch-limits-');
    dirs.push(dir);
    const port = await freePort();
    const r = await runCli(['limits', '--shared-limits', `redis://:pa55word@127.0.0.1:${port}/0`], {
      env: { ANTHROPIC_API_KEY: KEY, CLAW_BATCH_STATE_DIR: dir },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`claw-batch: cannot reach the shared limit store at redis://:***@127.0.0.1:${port}/0: connection refused (--shared-limits)\n`);
    const noKey = await runCli(['limits'], { env: { CLAW_BATCH_STATE_DIR: dir } });
    expect(noKey.code).toBe(2);
  });

  it('exits 2 on a malformed ANTHROPIC_BASE_URL instead of showing another account (the real CLI)', async () => {
    const dir = tempDir('claw-batch-limits-');
    dirs.push(dir);
    const r = await runCli(['limits'], { env: { ANTHROPIC_API_KEY: KEY, CLAW_BATCH_STATE_DIR: dir, ANTHROPIC_BASE_URL: 'http:/127.0.0.1:4010' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('claw-batch: ANTHROPIC_BASE_URL must start with http:// or https://, got "http:/127.0.0.1:4010" (did you mean "http://127.0.0.1:4010"?)\n');
    expect(r.stdout).toBe('');
  });
});

