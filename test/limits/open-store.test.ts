import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { startHeartbeat, thisProcess } from '../../src/limits/heartbeat.js';
import type { LimitStore } from '../../src/limits/limit-store.js';
import { MemoryStore } from '../../src/limits/memory-store.js';
import { openLimitStore, sharedLimitsSource } from '../../src/limits/open-store.js';
import { freePort, useRedisServer } from '../helpers/redis-server.js';
import { removeDir, tempDir } from '../helpers/cli.js';

const redis = useRedisServer({ password: 'hunter2-pw' });
const dirs: string[] = [];
const stores: LimitStore[] = [];
const newDir = () => {
  const d = tempDir('claw-batch-open-');
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

async function usageError(p: Promise<unknown>): Promise<UsageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(ExitCode.usage);
  return err as UsageError;
}

describe('openLimitStore', () => {
  it('opens off, local and redis', async () => {
    const stateDir = newDir();
    const off = await openLimitStore({ sharedLimits: 'off', stateDir });
    const local = await openLimitStore({ sharedLimits: 'local', stateDir });
    const viaRedis = await openLimitStore({ sharedLimits: redis.server.url, stateDir });
    stores.push(off, local, viaRedis);
    expect([off.kind, local.kind, viaRedis.kind]).toEqual(['off', 'local', 'redis']);
    expect(local.where).toBe(join(stateDir, 'limits.sqlite'));
    expect(viaRedis.where).toBe(`redis://:***@127.0.0.1:${redis.server.port}/0`);
    const key = { account: 'a', modelClass: 'c' };
    const spec = { requests: { perMinute: 60, capacitySeconds: 1, fullSeconds: 1 } };
    for (const s of [off, local, viaRedis]) expect((await s.take(key, { requests: 1, inputTokens: 0, outputTokens: 0 }, spec)).ok).toBe(true);
  });

  it('refuses a Redis it cannot reach at the start: exit 2, naming it with the password masked', async () => {
    const port = await freePort();
    const err = await usageError(openLimitStore({ sharedLimits: `redis://:s3cret@127.0.0.1:${port}/0`, stateDir: newDir() }));
    expect(err.message).toBe(`cannot reach the shared limit store at redis://:***@127.0.0.1:${port}/0: connection refused (--shared-limits)`);
  });

  it('refuses a wrong Redis password at the start', async () => {
    const url = `redis://:wrong-one@127.0.0.1:${redis.server.port}/0`;
    const err = await usageError(openLimitStore({ sharedLimits: url, stateDir: newDir(), source: 'CLAW_BATCH_SHARED_LIMITS' }));
    expect(err.message).toMatch(new RegExp(`^cannot reach the shared limit store at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.server.port}/0: authentication failed .*\\(CLAW_BATCH_SHARED_LIMITS\\)$`));
    expect(err.message).not.toContain('wrong-one');
  });

  it('refuses a bad value, naming where it came from, with any password masked', async () => {
    const bad = await usageError(openLimitStore({ sharedLimits: 'memcached://x', stateDir: newDir() }));
    expect(bad.message).toBe('Invalid value for --shared-limits: expected local, off, or a redis:// or rediss:// URL, got `memcached://x`');
    const db = await usageError(openLimitStore({ sharedLimits: 'redis://:pw@host:1/x', stateDir: newDir() }));
    expect(db.message).toBe('Invalid value for --shared-limits: redis://:***@host:1/x: the database must be a number, got "x"');
  });

  it('refuses a local file that is not a SQLite database at the start', async () => {
    const stateDir = newDir();
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'limits.sqlite'), 'garbage '.repeat(1000));
    const err = await usageError(openLimitStore({ sharedLimits: 'local', stateDir }));
    expect(err.message).toBe(
      `cannot use the shared limit store at ${join(stateDir, 'limits.sqlite')}: file is not a database (--shared-limits local); it holds only pacing state, so it may be deleted, or use --shared-limits off`,
    );
  });
});

describe('the shared_limits setting', () => {
  const config = (dir: string, shared: string) => writeFileSync(join(dir, 'claw-batch.config.yaml'), `providers:\n  anthropic:\n    rate_limit:\n      shared: "${shared}"\n`);

  it('takes the flag over the env over the config over the default (local)', async () => {
    const cwd = newDir();
    expect((await loadSettings({}, { env: {}, cwd })).sharedLimits).toBe('local');
    config(cwd, 'redis://cfg:6379/0');
    expect((await loadSettings({}, { env: {}, cwd })).sharedLimits).toBe('redis://cfg:6379/0');
    expect((await loadSettings({}, { env: { CLAW_BATCH_SHARED_LIMITS: 'off' }, cwd })).sharedLimits).toBe('off');
    expect((await loadSettings({ sharedLimits: 'local' }, { env: { CLAW_BATCH_SHARED_LIMITS: 'off' }, cwd })).sharedLimits).toBe('local');
  });

  it('names a bad config or env value, with the password masked', async () => {
    const cwd = newDir();
    config(cwd, 'mysql://:pw@x');
    await expect(loadSettings({}, { env: {}, cwd })).rejects.toThrow(
      'claw-batch.config.yaml: providers.anthropic.rate_limit.shared: expected local, off, or a redis:// or rediss:// URL, got "mysql://:***@x"',
    );
    await expect(loadSettings({}, { env: { CLAW_BATCH_SHARED_LIMITS: 'redis:/nohost' }, cwd: newDir() })).rejects.toThrow(
      'Invalid value for CLAW_BATCH_SHARED_LIMITS: expected local, off, or a redis:// or rediss:// URL, got `redis:/nohost`',
    );
  });

  it('says where a value came from: the flag, the variable, or the config file and key — also when it is the default value', async () => {
    const dir = newDir();
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'providers:\n  anthropic:\n    rate_limit:\n      shared: local\n');
    const source = async (flags: { sharedLimits?: string }, env: NodeJS.ProcessEnv, configPath?: string) =>
      sharedLimitsSource(await loadSettings(flags, { env, cwd: dir, configPath }));
    expect(await source({ sharedLimits: 'off' }, { CLAW_BATCH_SHARED_LIMITS: 'off' }, config)).toBe('--shared-limits');
    expect(await source({}, { CLAW_BATCH_SHARED_LIMITS: 'off' }, config)).toBe('CLAW_BATCH_SHARED_LIMITS');
    expect(await source({}, {}, config)).toBe(`${config}: providers.anthropic.rate_limit.shared`);
    expect(await source({}, {})).toBe('--shared-limits');
  });
});

describe('startHeartbeat', () => {
  it('registers this process at once and every interval, and leaves on stop', async () => {
    const store = new MemoryStore();
    const other = { id: 'other:1:x', host: 'other', pid: 1, command: 'proxy', modelClasses: [] };
    await store.heartbeat('acct', other, 60_000);
    const me = thisProcess('run', ['claude-haiku-4-5']);
    expect(me.id).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{6}$`));
    const hb = startHeartbeat(store, 'acct', me, 20);
    expect(await hb.first).toBe(2);
    expect(hb.processes).toBe(2);
    await store.leave('acct', other.id);
    await new Promise((r) => setTimeout(r, 60));
    expect(hb.processes).toBe(1);
    await hb.stop();
    expect(await store.peers('acct', 60_000)).toEqual([]);
  });
});
