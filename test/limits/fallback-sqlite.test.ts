/**
 * A locked or corrupt SQLite file mid-run, for real: the fallback paces alone, says so once, and
 * rejoins when the file answers again.
 */
import Database from 'better-sqlite3';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FallbackStore } from '../../src/limits/fallback-store.js';
import { LimitStoreError } from '../../src/limits/limit-store.js';
import { SqliteStore } from '../../src/limits/sqlite-store.js';
import type { BudgetKey, Cost } from '../../src/limits/types.js';
import { removeDir, tempDir } from '../helpers/cli.js';
import { fakeClock } from './fake-clock.js';
import { SPEC } from './store-contract.js';

const key: BudgetKey = { account: 'acct', modelClass: 'claude-haiku-4-5' };
const one: Cost = { requests: 1, inputTokens: 0, outputTokens: 0 };
const peer = (n: number) => ({ id: `h:${n}:x`, host: 'h', pid: n, command: 'run', modelClasses: [] });

describe('FallbackStore over SQLite', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tempDir('claw-batch-fallback-');
    file = join(dir, 'limits.sqlite');
  });
  afterEach(() => removeDir(dir));

  it('paces alone while another connection holds the file locked, then rejoins', async () => {
    const clock = fakeClock();
    const notices: string[] = [];
    const store = new FallbackStore(new SqliteStore({ file, busyTimeoutMs: 30, now: clock.now }), {
      onNotice: (m) => notices.push(m),
      retryEveryMs: 3000,
      now: clock.now,
    });
    await store.heartbeat(key.account, peer(1), 10_000);
    expect(await store.heartbeat(key.account, peer(2), 10_000)).toBe(2);

    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    // Alone at half the limit: half of 5 requests.
    expect((await store.take(key, { ...one, requests: 2 }, SPEC)).ok).toBe(true);
    expect((await store.take(key, one, SPEC)).ok).toBe(false);
    expect(store.fairShare).toBe(0.5);
    expect(notices).toEqual([
      `the shared limit store at ${file} is unreachable (locked by another process for over 30 ms); pacing alone at 1/2 of the limit (2 processes were sharing it) until it is back`,
    ]);
    await clock.advance(3000);
    await store.take(key, one, SPEC); // the retry finds it still locked: no new notice
    expect(notices).toHaveLength(1);

    holder.exec('ROLLBACK');
    holder.close();
    await clock.advance(3000);
    // The shared state simply continues: its bucket was not touched while alone.
    expect((await store.take(key, { ...one, requests: 5 }, SPEC)).ok).toBe(true);
    expect(store.sharing).toBe(true);
    expect(notices[1]).toBe(`the shared limit store at ${file} answers again; sharing the limit with the other processes again`);
    await store.close();
  });

  it('paces alone when the file is overwritten with garbage, and rejoins once it is replaced', async () => {
    const clock = fakeClock();
    const notices: string[] = [];
    const store = new FallbackStore(new SqliteStore({ file, now: clock.now }), { onNotice: (m) => notices.push(m), retryEveryMs: 1000, now: clock.now });
    expect((await store.take(key, one, SPEC)).ok).toBe(true);

    for (const f of [file, `${file}-wal`, `${file}-shm`]) writeFileSync(f, Buffer.alloc(65_536, 'garbage!'));
    expect((await store.take(key, one, SPEC)).ok).toBe(true);
    expect(store.sharing).toBe(false);
    expect(notices).toEqual([
      `the shared limit store at ${file} is unreachable (file is not a database); pacing alone at the full limit (no other process was using it) until it is back`,
    ]);
    await clock.advance(1000);
    await store.take(key, one, SPEC); // reopened, still garbage
    expect(notices).toHaveLength(1);

    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    await clock.advance(1000);
    expect((await store.take(key, one, SPEC)).ok).toBe(true);
    expect(store.sharing).toBe(true);
    expect(notices).toHaveLength(2);
    await store.close();
  });

  it('a bare SqliteStore names the file in its LimitStoreError', async () => {
    writeFileSync(file, Buffer.alloc(8192, 'not sqlite'));
    let error: unknown;
    try {
      new SqliteStore({ file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LimitStoreError);
    expect(error).toMatchObject({ where: file, message: `${file}: file is not a database` });
  });
});
