/**
 * One run per results file: `run -o out.jsonl` holds `out.jsonl.lock` while it works, so a cron
 * job that starts while the last one is still going exits 2 instead of writing the same ids twice.
 *
 * The lock file is created atomically (O_EXCL) and holds the holder's PID, host, start time, boot
 * id and the kernel's start time of that PID. It is in use while that process is alive on this
 * host; one left by a process that is gone (no such PID, a PID since reused by another program,
 * or a previous boot) is taken over. A lock from another host (a shared folder) cannot be checked
 * and is respected; the message says how to clear it. Released on exit, including the exit that
 * follows Ctrl-C or SIGTERM (src/stop-signal.ts); after a SIGKILL it is simply stale.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** What the lock file holds (JSON). */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Linux: /proc/sys/kernel/random/boot_id when the lock was taken. */
  bootId?: string;
  /** Linux: the process's start time since boot (/proc/<pid>/stat), telling a reused PID apart. */
  procStart?: string;
  /** Unique per lock: release removes the file only while it is still this one. */
  token: string;
}

export interface OutputLock {
  /** The lock file: `<output>.lock`. */
  readonly path: string;
  /** Removes the lock (once; also done on process exit). */
  release(): void;
}

/** A lock file this young that cannot be read is being written by its taker: not stale yet. */
const UNREADABLE_GRACE_MS = 5000;

export function lockOutput(output: string): OutputLock {
  // The file itself, not the name it was given: `-o link.jsonl` and `-o ./dir/../out.jsonl` take
  // the same lock as `-o out.jsonl`.
  const byPath = takeLock(output, `${realFile(output)}.lock`);
  // A file with hard links has other names anywhere on its file system: also lock it by inode, in
  // a folder every run on this machine sees.
  let byInode: OutputLock | undefined;
  try {
    const st = statSync(output);
    if (st.nlink > 1) byInode = takeLock(output, join(tmpdir(), 'claw-batch-locks', `${st.dev}-${st.ino}.lock`));
  } catch (err) {
    if (err instanceof UsageError) {
      byPath.release();
      throw err;
    }
    // Not there yet (no other names then), or the shared folder is not ours to write: the path lock stands.
  }
  return {
    path: byPath.path,
    release: () => {
      byInode?.release();
      byPath.release();
    },
  };
}

function takeLock(output: string, path: string): OutputLock {
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    bootId: bootId(),
    procStart: procStart(process.pid),
    token: randomBytes(8).toString('hex'),
  };
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const holder = readHolder(path);
    if (holder === 'missing') continue;
    if (holder === 'unreadable' || holderIsAlive(holder)) throw inUse(output, path, holder);
    // Left by a process that is gone: take it over.
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const holder = readHolder(path);
    if (typeof holder === 'object' && holder.token === me.token) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  return { path, release };
}

function readHolder(path: string): LockHolder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && typeof h.host === 'string') return h;
  } catch {
    // not ours, or half written
  }
  try {
    // Half written by a taker that died at that instant: stale after a grace period.
    if (Date.now() - statSync(path).mtimeMs > UNREADABLE_GRACE_MS) return { pid: -1, host: hostname(), startedAt: '', token: '' };
  } catch {
    return 'missing';
  }
  return 'unreadable';
}

/** Whether the holder is still running. Another host's holder cannot be checked: assumed alive. */
export function holderIsAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (h.pid <= 0) return false;
  const boot = bootId();
  if (h.bootId && boot && h.bootId !== boot) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = procStart(h.pid);
  if (h.procStart && start && h.procStart !== start) return false;
  return true;
}

function inUse(output: string, path: string, holder: LockHolder | 'unreadable'): UsageError {
  if (holder === 'unreadable') {
    return new UsageError(`${output} is in use by another claw-batch run (${path} is being written); wait for it or stop it`);
  }
  const started = holder.startedAt ? `, started ${holder.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : '';
  if (holder.host !== hostname()) {
    return new UsageError(
      `${output} is in use by another claw-batch run (PID ${holder.pid} on ${holder.host}${started}); wait for it or stop it, or delete ${path} if that run is gone`,
    );
  }
  return new UsageError(`${output} is in use by another claw-batch run (PID ${holder.pid}${started}); wait for it or stop it`);
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Where `file` really is: symlinks (of the file or of its folders) resolved, also for a file that
 * does not exist yet or a link that points at one that does not.
 */
export function realFile(file: string, depth = 0): string {
  try {
    return realpathSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return file;
  }
  try {
    if (depth < 8 && lstatSync(file).isSymbolicLink()) return realFile(resolve(dirname(file), readlinkSync(file)), depth + 1);
  } catch {
    // not there at all: resolve its folder
  }
  const dir = dirname(file);
  return dir === file ? file : join(depth < 8 ? realFile(dir, depth + 1) : dir, basename(file));
}

