/**
 * Where an input's bytes come from. An input is read twice (once to validate all of it before
 * anything is sent, once to send it), so anything that can be read only once is first copied to a
 * temp file: stdin, a named FIFO, process substitution (`run <(cat items.jsonl)` is `/dev/fd/63`,
 * a pipe), a socket, a character device. Only a regular file is read in place.
 *
 * A FIFO or pipe is opened non-blocking and read through the event loop (as Node reads stdin), not
 * with a blocking open() and read() on a libuv worker thread: a FIFO nobody writes to yet would
 * hold that thread, and a process with a worker thread stuck in a syscall cannot exit — Ctrl-C and
 * SIGTERM would be ignored until SIGKILL.
 */
import { closeSync, constants, createReadStream, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { isatty, ReadStream as TtyReadStream } from 'node:tty';
import { diskProblem } from '../disk-error.js';
import { InputError, StoppedError } from '../errors.js';
import { spoolToTempFile, type Spool } from './stdin-spool.js';

/** The file an input is, to tell whether an output path is the same file (device and inode). */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export interface InputSource {
  /** The file to read (the input itself, or the temp copy of a read-once input). */
  file: string;
  /** True when `file` is a temp copy: the input itself could be read only once. */
  readOnce: boolean;
  /** The regular file the input is (stdin included, when it is redirected from one). */
  identity: FileIdentity | undefined;
  /** Removes the temp copy, if any; safe to call twice. */
  dispose(): Promise<void>;
}

/** `path` is `-` for stdin; `displayName` is what errors call the input. */
export async function openInputSource(path: string, displayName: string, stdin: NodeJS.ReadableStream): Promise<InputSource> {
  if (path === '-') return spooled(stdin, displayName, identityOfStream(stdin));
  const info = statInput(path, displayName);
  if (info.isDirectory()) throw new InputError(displayName, undefined, 'is a directory, not an input file');
  if (info.isFile()) return { file: path, readOnce: false, identity: { dev: info.dev, ino: info.ino }, dispose: async () => {} };
  return spooled(readOnceStream(path, displayName, info), displayName, undefined);
}

async function spooled(stream: NodeJS.ReadableStream, displayName: string, identity: FileIdentity | undefined): Promise<InputSource> {
  let spool: Spool;
  try {
    spool = await spoolToTempFile(stream);
  } catch (err) {
    // A full temp dir is not the input's fault: a stop (exit 3), not an input error.
    const disk = diskProblem(err);
    if (disk) throw new StoppedError('output', `cannot copy ${displayName} to a temp file in ${tmpdir()}: ${disk} — free some space there or set TMPDIR, then rerun`);
    throw new InputError(displayName, undefined, `cannot read it into a temp copy: ${(err as Error).message}`);
  }
  return { file: spool.file, readOnce: true, identity, dispose: spool.dispose };
}

function statInput(path: string, displayName: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    throw readProblem(displayName, err);
  }
}

/** A stream over an input that is not a regular file, reading it through the event loop where it can. */
function readOnceStream(path: string, displayName: string, info: Stats): NodeJS.ReadableStream {
  if (!info.isFIFO() && !info.isSocket() && !info.isCharacterDevice()) return createReadStream(path);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading returns at once even before a writer has opened it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw readProblem(displayName, err);
  }
  if (isatty(fd)) return new TtyReadStream(fd);
  const kind = fstatSync(fd);
  if (kind.isFIFO() || kind.isSocket()) return new Socket({ fd, readable: true, writable: false });
  // Another character device (`/dev/null`, a serial line): plain reads.
  closeSync(fd);
  return createReadStream(path);
}

/** stdin redirected from a regular file (`run - < items.jsonl`) is that file. */
function identityOfStream(stream: NodeJS.ReadableStream): FileIdentity | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  try {
    const info = fstatSync(fd);
    return info.isFile() ? { dev: info.dev, ino: info.ino } : undefined;
  } catch {
    return undefined;
  }
}

function readProblem(name: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError(name, undefined, 'no such file');
  if (code === 'EACCES') return new InputError(name, undefined, 'cannot read it: permission denied');
  return new InputError(name, undefined, `cannot read it: ${(err as Error).message}`);
}
