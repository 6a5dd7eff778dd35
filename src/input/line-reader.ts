/**
 * Splits a file into lines without holding more than one chunk in memory. Splitting on the byte
 * 0x0A is safe for UTF-8 (it never occurs inside a multi-byte character), and is several times
 * faster than readline. A trailing CR is dropped (CRLF files), and a UTF-8 BOM on line 1 is stripped.
 */
import { createReadStream } from 'node:fs';

export interface TextLine {
  /** 1-based physical line number. */
  line: number;
  text: string;
}

/** `onChunk` sees every byte of the file in order (used to hash the input in the same pass). */
export async function* readLines(file: string, onChunk?: (chunk: Buffer) => void): AsyncGenerator<TextLine> {
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  let carry: Buffer | undefined;
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onChunk?.(chunk);
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        line += 1;
        yield { line, text: decode(buf, start, nl, line) };
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : undefined;
    }
    if (carry) {
      line += 1;
      yield { line, text: decode(carry, 0, carry.length, line) };
    }
  } finally {
    stream.destroy();
  }
}

function decode(buf: Buffer, start: number, end: number, line: number): string {
  if (end > start && buf[end - 1] === 13) end -= 1;
  if (line === 1 && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
    start += 3;
  }
  return buf.toString('utf8', start, end);
}
