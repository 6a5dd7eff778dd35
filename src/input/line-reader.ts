/**
 * Splits a file into lines without holding more than one chunk in memory. Splitting on the byte
 * 0x0A is safe for UTF-8 (it never occurs inside a multi-byte character), and is several times
 * faster than readline. A trailing CR is dropped (CRLF files), and a UTF-8 BOM on line 1 is stripped.
 * Bytes that are not UTF-8 are not decoded into U+FFFD silently: the line says where the first is.
 */
import { createReadStream } from 'node:fs';
import { firstInvalidUtf8, type Utf8Problem } from './utf8.js';

export interface TextLine {
  /** 1-based physical line number. */
  line: number;
  text: string;
  /** Set when the line is not valid UTF-8 (`text` then holds U+FFFD where the bad bytes were). */
  invalidUtf8?: Pick<Utf8Problem, 'column' | 'byte'>;
}

/** `onChunk` sees every byte of the file in order (used to hash the input in the same pass). */
export async function* readLines(file: string, onChunk?: (chunk: Buffer) => void): AsyncGenerator<TextLine> {
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  let carry: Buffer | undefined;
  // A line longer than a chunk is gathered as a list and joined once its end arrives: joining at
  // every chunk copied a 32 MB line 128 times over (seconds of copying for one line).
  let pending: Buffer[] = [];
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onChunk?.(chunk);
      if (chunk.indexOf(10) < 0) {
        if (carry) pending.push(carry);
        carry = chunk;
        continue;
      }
      if (pending.length > 0) {
        carry = Buffer.concat([...pending, carry!]);
        pending = [];
      }
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      // One check for all the whole lines in the buffer; only a buffer that fails is checked line by line.
      const whole = buf.lastIndexOf(10);
      const valid = whole < 0 || firstInvalidUtf8(buf, 0, whole) < 0;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        line += 1;
        yield textLine(buf, start, nl, line, valid);
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : undefined;
    }
    if (pending.length > 0) carry = Buffer.concat([...pending, carry!]);
    if (carry) {
      line += 1;
      yield textLine(carry, 0, carry.length, line, false);
    }
  } finally {
    stream.destroy();
  }
}

/** `knownValid`: the bytes were already checked. */
function textLine(buf: Buffer, start: number, end: number, line: number, knownValid: boolean): TextLine {
  if (end > start && buf[end - 1] === 13) end -= 1;
  if (line === 1 && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
    start += 3;
  }
  const text = buf.toString('utf8', start, end);
  if (knownValid) return { line, text };
  const bad = firstInvalidUtf8(buf, start, end);
  return bad < 0 ? { line, text } : { line, text, invalidUtf8: { column: bad - start + 1, byte: buf[bad]! } };
}
