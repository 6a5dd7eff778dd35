/**
 * Rewrites a results file without the lines the resume index dropped. Atomic: the new content goes
 * to a temp file in the same directory, is fsynced, and is renamed over the original, so a crash
 * leaves either the old file or the new one — never a half-written mix.
 */
import { closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { scanLines } from './line-scanner.js';

const FLUSH_BYTES = 1 << 20;
const NEWLINE = Buffer.from('\n');

/**
 * Copies every non-blank line of `path` up to byte `end`, except the 1-based line numbers in
 * `dropLines` (ascending), byte for byte, each ending in '\n'. Streams: memory is about 1 MB.
 */
export async function compactResultFile(path: string, dropLines: readonly number[], end: number): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', statSync(path).mode);
  let closed = false;
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // scanLines calls back synchronously, so the temp file is written with sync writes of ~1 MB.
    const flush = () => {
      const data = Buffer.concat(pending, pendingBytes);
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      pending = [];
      pendingBytes = 0;
    };
    let nextDrop = 0;
    await scanLines(
      path,
      (line) => {
        while (nextDrop < dropLines.length && dropLines[nextDrop]! < line.number) nextDrop++;
        if (dropLines[nextDrop] === line.number || isBlank(line.bytes)) return;
        // The scanner's buffer is only valid during the callback: copy what we keep.
        pending.push(Buffer.from(line.bytes), NEWLINE);
        pendingBytes += line.bytes.length + 1;
        if (pendingBytes >= FLUSH_BYTES) flush();
      },
      end,
    );
    if (pendingBytes > 0) flush();
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
  } catch (err) {
    if (!closed) closeSync(fd);
    await rm(temp, { force: true });
    throw err;
  }
  await rename(temp, path);
  await syncDirectory(dir);
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** Makes the rename itself durable. Not every platform can open a directory; that is not fatal. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the data itself is already fsynced.
  }
}
