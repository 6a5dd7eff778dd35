/**
 * Inputs must be UTF-8. Decoding anything else "works" — each bad byte becomes U+FFFD — so a
 * Latin-1 file would be sent with its accents replaced by `�`, paid for, and never noticed. The
 * bytes are checked instead, and the first bad one is reported with its line.
 *
 * `isUtf8` (simdutf) checks a whole chunk at a time; only a chunk that fails is walked byte by
 * byte to find where.
 */
import { isUtf8 } from 'node:buffer';

/** Where the first invalid byte is. */
export interface Utf8Problem {
  /** 1-based line. */
  line: number;
  /** 1-based byte offset within the line. */
  column: number;
  /** The offending byte. */
  byte: number;
}

/** The one-sentence problem, for an input error. */
export function utf8Problem(p: Pick<Utf8Problem, 'column' | 'byte'>): string {
  const hex = p.byte.toString(16).toUpperCase().padStart(2, '0');
  return `not valid UTF-8 (byte ${p.column} of the line is 0x${hex}): the input must be UTF-8 text — convert it first, e.g. \`iconv -f latin1 -t utf-8\``;
}

/** Index of the first byte in `buf[start, end)` that does not begin or continue a valid UTF-8 sequence; -1 when all is valid. */
export function firstInvalidUtf8(buf: Uint8Array, start = 0, end = buf.length): number {
  if (isUtf8(buf.subarray(start, end))) return -1;
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    const n = sequenceLength(b);
    if (n === 0 || i + n > end) return i;
    // Second-byte ranges exclude overlong forms, surrogates and code points above U+10FFFF.
    const b1 = buf[i + 1]!;
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k < n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return -1;
}

/** Bytes in the sequence `lead` starts; 0 when it cannot start one. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Checks a byte stream chunk by chunk, where a character may be split between two chunks, and
 * counts lines so a problem can name its line.
 */
export class Utf8StreamCheck {
  private carry: Buffer | undefined;
  /** Line breaks before the current data. */
  private lines = 0;
  /** Bytes of the current line seen before the current data. */
  private lineBytes = 0;

  /**
   * Checks `chunk`. Returns undefined when it is valid so far, else the problem and how many bytes
   * of `chunk` precede the line it is on (what may still be handed on to a parser).
   */
  push(chunk: Buffer): (Utf8Problem & { validPrefix: number }) | undefined {
    const carried = this.carry?.length ?? 0;
    const data = carried > 0 ? Buffer.concat([this.carry!, chunk]) : chunk;
    const cut = data.length - incompleteTail(data);
    const bad = firstInvalidUtf8(data, 0, cut);
    if (bad >= 0) {
      const lineStart = lastNewline(data, bad) + 1; // 0 when the line began before this data
      const line = this.lines + countNewlines(data, 0, bad) + 1;
      const column = (lineStart === 0 ? this.lineBytes : 0) + bad - lineStart + 1;
      return { line, column, byte: data[bad]!, validPrefix: Math.max(0, lineStart - carried) };
    }
    const lastNl = lastNewline(data, cut);
    this.lines += countNewlines(data, 0, cut);
    this.lineBytes = lastNl >= 0 ? cut - lastNl - 1 : this.lineBytes + cut;
    this.carry = cut < data.length ? Buffer.from(data.subarray(cut)) : undefined;
    return undefined;
  }

  /** At the end of the stream: a character cut off by the end is a problem too. */
  end(): Utf8Problem | undefined {
    if (!this.carry) return undefined;
    return { line: this.lines + 1, column: this.lineBytes + 1, byte: this.carry[0]! };
  }
}

/** Bytes at the end of `data` that start a multi-byte sequence the data ends before finishing (0-3). */
function incompleteTail(data: Buffer): number {
  for (let k = 1; k <= Math.min(3, data.length); k++) {
    const b = data[data.length - k]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const n = sequenceLength(b);
    return n > k ? k : 0;
  }
  return 0;
}

/** Index of the last '\n' before `end`, or -1. (A negative offset would make lastIndexOf search from the end.) */
function lastNewline(buf: Buffer, end: number): number {
  return end > 0 ? buf.lastIndexOf(10, end - 1) : -1;
}

function countNewlines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, start); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) n += 1;
  return n;
}
