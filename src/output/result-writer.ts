/**
 * Appends result lines. Each line goes out in one synchronous write of the whole line plus '\n',
 * so a crash or SIGKILL can tear at most the line being written — which the next open repairs.
 */
import { closeSync, fstatSync, fsync, ftruncateSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { diskProblem } from '../disk-error.js';
import { StoppedError } from '../errors.js';
import type { ResultLine } from '../types.js';

export interface ResultWriter {
  /** Appends one whole line synchronously (one write call: the line + '\n'). */
  write(line: ResultLine): void;
  /** Flushes to disk (file) or waits for the stream to drain (stdout); idempotent. */
  close(): Promise<void>;
  /** The results file, or undefined when writing to stdout. */
  readonly path: string | undefined;
  /**
   * True once the reader of stdout went away (e.g. `| head` exited, EPIPE): later lines are
   * discarded instead of crashing. Always false for a file.
   */
  readonly readerGone: boolean;
}

const fsyncAsync = promisify(fsync);

/**
 * A writer appending to an already-open file descriptor, which it owns and closes. A write the disk
 * refuses (full, over quota, failing) is cut back off the file, so it holds whole lines only, and
 * ends the command with exit 3 (StoppedError 'output'); the lines written before stay as they are.
 */
export function fileResultWriter(path: string, fd: number): ResultWriter {
  let closed = false;
  let size = fstatSync(fd).size;
  return {
    path,
    readerGone: false,
    write(line) {
      if (closed) throw new Error(`results file ${path} is already closed`);
      const data = Buffer.from(`${JSON.stringify(line)}\n`);
      try {
        // A regular file takes the whole buffer in one call; the loop only matters on a short write.
        for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      } catch (err) {
        try {
          ftruncateSync(fd, size);
        } catch {
          // The next open repairs a torn last line anyway.
        }
        throw writeFailure(path, err);
      }
      size += data.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await fsyncAsync(fd);
      } catch (err) {
        throw writeFailure(path, err);
      } finally {
        closeSync(fd);
      }
    },
  };
}

function writeFailure(path: string, err: unknown): unknown {
  const why = diskProblem(err);
  if (!why) return err;
  return new StoppedError('output', `cannot append to ${path}: ${why}; the result lines already in it are intact — free some space`, {
    cause: err,
  });
}

/** A writer to a stream (stdout). The stream is not ended: it belongs to the process. */
export function streamResultWriter(stream: NodeJS.WritableStream): ResultWriter {
  let readerGone = false;
  let failure: Error | undefined;
  let closed = false;
  // Without a listener, EPIPE from `claw-batch run x | head` would crash with a stack trace.
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') readerGone = true;
    else failure ??= err;
  };
  stream.on('error', onError);
  const writable = stream as NodeJS.WritableStream & { writableNeedDrain?: boolean; destroyed?: boolean };
  return {
    path: undefined,
    get readerGone() {
      return readerGone;
    },
    write(line) {
      if (closed) throw new Error('results stream is already closed');
      if (failure) throw failure;
      if (readerGone || writable.destroyed) {
        readerGone = true;
        return;
      }
      stream.write(`${JSON.stringify(line)}\n`);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!readerGone && !writable.destroyed && writable.writableNeedDrain) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done);
            stream.off('close', done);
            stream.off('error', done);
            resolve();
          };
          stream.on('drain', done);
          stream.on('close', done);
          stream.on('error', done);
        });
      }
      // The listener stays: an EPIPE can still arrive for bytes already handed to the stream.
      if (failure) throw failure;
    },
  };
}
