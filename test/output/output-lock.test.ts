/**
 * The `-o` lock against real processes: a live holder (another node process) refuses, a dead
 * one's lock is taken over, a clean exit or a stop by SIGTERM releases it. The children run the
 * built module (dist/, built by `npm test`'s pretest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { lockOutput, type LockHolder } from '../../src/output/output-lock.js';
import { removeDir, tempDir } from '../helpers/cli.js';

const LOCK_MODULE = fileURLToPath(new URL('../../dist/output/output-lock.js', import.meta.url));

/** A node process that runs `then` (JS), takes the lock and prints "locked". */
function childHolding(output: string, then: string): Promise<ChildProcess> {
  const code = `import(${JSON.stringify(LOCK_MODULE)}).then(({ lockOutput }) => { ${then}; lockOutput(${JSON.stringify(output)}); console.log('locked'); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve(child));
    child.on('exit', (c) => reject(new Error(`child exited ${c} before locking`)));
  });
}

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

function refusal(output: string): UsageError {
  try {
    lockOutput(output);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(ExitCode.usage);
    return err as UsageError;
  }
  throw new Error('expected the lock to be refused');
}

describe('lockOutput', () => {
  let dir: string;
  let out: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = tempDir('claw-batch-lock-');
    out = join(dir, 'out.jsonl');
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGKILL');
      await exited(c);
    }
    removeDir(dir);
  });

  it('creates <output>.lock holding the PID, host and start time, and release removes it', () => {
    const lock = lockOutput(out);
    expect(lock.path).toBe(`${out}.lock`);
    const holder = JSON.parse(readFileSync(lock.path, 'utf8')) as LockHolder;
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Date.parse(holder.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lockOutput(out).release();
  });

  it('refuses a second lock while the holder is alive, naming its PID', async () => {
    const child = await childHolding(out, 'setInterval(() => {}, 1000);');
    children.push(child);
    const err = refusal(out);
    expect(err.message).toMatch(new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is in use by another claw-batch run \\(PID ${child.pid}, started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\); wait for it or stop it$`));
  });

  it('is the same lock through a symlink to the file, a symlinked folder, a dangling link or `..`', async () => {
    const child = await childHolding(out, 'setInterval(() => {}, 1000);');
    children.push(child);
    symlinkSync(out, join(dir, 'link.jsonl')); // the file does not exist yet: a dangling link
    symlinkSync(dir, join(dir, 'folder-link'));
    mkdirSync(join(dir, 'sub'));
    for (const other of [join(dir, 'link.jsonl'), join(dir, 'folder-link', 'out.jsonl'), join(dir, 'sub', '..', 'out.jsonl')]) {
      expect(refusal(other).message).toMatch(new RegExp(`in use by another claw-batch run \\(PID ${child.pid},`));
    }
    writeFileSync(out, '');
    expect(refusal(join(dir, 'link.jsonl')).message).toMatch(/in use by another claw-batch run/);
    // A different file in the same folder is not.
    lockOutput(join(dir, 'other.jsonl')).release();
  });

  it('is the same lock through a hard link to the file, and both locks go on release', async () => {
    writeFileSync(out, '');
    mkdirSync(join(dir, 'elsewhere'));
    const hard = join(dir, 'elsewhere', 'hard.jsonl');
    linkSync(out, hard);
    const child = await childHolding(out, 'setInterval(() => {}, 1000);');
    children.push(child);
    expect(refusal(hard).message).toMatch(new RegExp(`in use by another claw-batch run \\(PID ${child.pid},`));
    child.kill('SIGKILL');
    await exited(child);
    // The holder is gone: both of its locks are stale and taken over; released, both go.
    const lock = lockOutput(hard);
    lock.release();
    expect(existsSync(`${hard}.lock`)).toBe(false);
    lockOutput(out).release();
  });

  it('takes over a lock left by a process that was killed', async () => {
    const child = await childHolding(out, 'setInterval(() => {}, 1000);');
    child.kill('SIGKILL');
    await exited(child);
    expect(existsSync(`${out}.lock`)).toBe(true); // SIGKILL: no chance to release
    const lock = lockOutput(out);
    expect((JSON.parse(readFileSync(lock.path, 'utf8')) as LockHolder).pid).toBe(process.pid);
    lock.release();
  });

  it('is released when the holder exits, and when it stops on SIGTERM', async () => {
    const clean = await childHolding(out, 'setTimeout(() => process.exit(0), 50);');
    await exited(clean);
    expect(existsSync(`${out}.lock`)).toBe(false);
    const stopped = await childHolding(out, "process.on('SIGTERM', () => process.exit(3)); setInterval(() => {}, 1000);");
    stopped.kill('SIGTERM');
    await exited(stopped);
    expect(stopped.exitCode).toBe(3);
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('takes over a lock from a previous boot, or whose PID now belongs to another program', () => {
    const stale = (h: Partial<LockHolder>) => writeFileSync(`${out}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 't', ...h }));
    stale({ bootId: 'an-earlier-boot' });
    lockOutput(out).release();
    stale({ procStart: '1' }); // this PID, but started at another time: reused
    lockOutput(out).release();
    stale({ pid: 999_999_999 });
    lockOutput(out).release();
  });

  it("respects another host's lock, saying how to clear it", () => {
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: 4321, host: 'build-7', startedAt: '2026-11-28T08:00:00.000Z', token: 't' }));
    expect(refusal(out).message).toBe(
      `${out} is in use by another claw-batch run (PID 4321 on build-7, started 2026-11-28 08:00:00Z); wait for it or stop it, or delete ${out}.lock if that run is gone`,
    );
  });

  it('does not remove a lock that another run has taken over since', () => {
    const lock = lockOutput(out);
    const theirs = JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: '', token: 'theirs' });
    writeFileSync(lock.path, theirs);
    lock.release();
    expect(readFileSync(lock.path, 'utf8')).toBe(theirs);
  });
});
