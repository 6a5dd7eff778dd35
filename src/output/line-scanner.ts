/**
 * Streams a file as lines with their byte offsets, so a results file of any size can be checked and
 * repaired without loading it: memory is one read chunk plus the longest line.
 */
import { createReadStream } from 'node:fs';

export interface ScannedLine {
  /** The line's bytes without the '\n'. A view into the read buffer: valid only during the callback. */
  bytes: Buffer;
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** False only for a last line that has no '\n' after it. */
  terminated: boolean;
}

const NEWLINE = 0x0a;
const CHUNK_BYTES = 1 << 20;

/**
 * Calls `onLine` for every line of `path`, in order, up to byte `end` (exclusive; default: the whole
 * file). A file ending in '\n' has no empty unterminated line after it.
 */
export async function scanLines(path: string, onLine: (line: ScannedLine) => void, end?: number): Promise<void> {
  if (end === 0) return;
  const stream = createReadStream(path, {
    highWaterMark: CHUNK_BYTES,
    ...(end === undefined ? {} : { end: end - 1 }),
  });
  let number = 0;
  // Offset in the file of chunk[0], and the bytes of a line that began in an earlier chunk.
  let chunkStart = 0;
  // Kept as pieces so a line spanning many chunks is joined once, not once per chunk.
  let carry: Buffer[] = [];
  let carryStart = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      const piece = chunk.subarray(from, nl);
      if (carry.length > 0) {
        carry.push(piece);
        onLine({ bytes: Buffer.concat(carry), number: ++number, start: carryStart, terminated: true });
        carry = [];
      } else {
        onLine({ bytes: piece, number: ++number, start: chunkStart + from, terminated: true });
      }
      from = nl + 1;
    }
    if (from < chunk.length) {
      // Copy: the stream may reuse the chunk's memory once we return.
      if (carry.length === 0) carryStart = chunkStart + from;
      carry.push(Buffer.from(chunk.subarray(from)));
    }
    chunkStart += chunk.length;
  }
  if (carry.length > 0) onLine({ bytes: Buffer.concat(carry), number: ++number, start: carryStart, terminated: false });
}
