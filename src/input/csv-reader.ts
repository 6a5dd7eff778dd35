/**
 * Streams a CSV (or TSV) file as rows of fields, each with the line the row starts on, using
 * csv-parse. Quoted fields may hold delimiters, newlines and doubled quotes; a BOM and CRLF line
 * ends are handled; empty lines are skipped.
 *
 * How rows are taken from csv-parse, and why:
 * - Rows are taken as the parser pushes them (its `push` is replaced on this one instance), not by
 *   iterating the stream: a failing row destroys the stream, which drops rows already parsed but
 *   not yet read, so a bad row 5 would be reported after a ragged row 9. (`on_record` would also
 *   keep the order, but it builds an info object per row and halves throughput.) Backpressure is
 *   applied by not writing the next chunk until the consumer has caught up.
 * - Line numbers come from each row's `raw` text (its line breaks, and the empty lines skipped
 *   before it), because csv-parse's own `lines` counter counts a CRLF inside quotes as two lines.
 */
import { createReadStream } from 'node:fs';
import type { CsvError } from 'csv-parse';
import { Utf8StreamCheck, utf8Problem } from './utf8.js';

/** The code of a CsvSyntaxError for bytes that are not UTF-8 (checked here: csv-parse would decode them into U+FFFD). */
export const INVALID_UTF8 = 'CLAW_INVALID_UTF8';

export interface CsvRow {
  /** 1-based line where the row starts. */
  line: number;
  fields: string[];
}

/** A csv-parse failure, with the line where the failing row starts. */
export class CsvSyntaxError extends Error {
  readonly line: number;
  readonly code: string;
  constructor(line: number, code: string, message: string) {
    super(message);
    this.line = line;
    this.code = code;
  }
}

const HIGH_WATER_ROWS = 2000;

export async function* readCsvRows(
  file: string,
  opts: { delimiter: string; onChunk?: (chunk: Buffer) => void },
): AsyncGenerator<CsvRow> {
  const queue: CsvRow[] = [];
  let failure: unknown;
  let ended = false;
  let consumed = 0; // lines taken up by the rows so far, including skipped empty lines
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sleep = () => new Promise<void>((resolve) => (wake = resolve));

  // Loaded only for CSV input: JSONL runs do not pay for it.
  const { parse } = await import('csv-parse');
  const parser = parse({ bom: true, delimiter: opts.delimiter, skip_empty_lines: true, raw: true });
  const endOfRows = parser.push.bind(parser);
  parser.push = (chunk: { record: string[]; raw: string } | null) => {
    if (chunk === null) return endOfRows(null);
    queue.push({ line: consumed + 1 + leadingBlankLines(chunk.raw), fields: chunk.record });
    consumed += countLineBreaks(chunk.raw);
    return true;
  };
  parser.resume();
  parser.on('error', (err: CsvError) => {
    failure ??= new CsvSyntaxError(consumed + 1 + leadingBlankLines(err.raw), err.code, err.message);
    signal();
  });
  parser.on('end', () => {
    ended = true;
    signal();
  });

  let wakePump: (() => void) | undefined;
  const sleepPump = () => new Promise<void>((resolve) => (wakePump = resolve));
  const resumePump = () => {
    const w = wakePump;
    wakePump = undefined;
    w?.();
  };

  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  let stopped = false;
  const utf8 = new Utf8StreamCheck();
  const pump = (async () => {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      opts.onChunk?.(chunk);
      while (queue.length > HIGH_WATER_ROWS && !stopped && failure === undefined) await sleepPump();
      if (stopped || failure !== undefined) return;
      const bad = utf8.push(chunk);
      if (bad) {
        // The rows before the bad line are handed on first (all but the last, which csv-parse holds
        // until it sees what follows), so a problem in one of them is reported first.
        parser.write(chunk.subarray(0, bad.validPrefix));
        await new Promise((resolve) => setImmediate(resolve)); // csv-parse emits its errors a tick later
        failure ??= new CsvSyntaxError(bad.line, INVALID_UTF8, utf8Problem(bad));
        signal();
        return;
      }
      parser.write(chunk);
      signal();
    }
    const cutOff = utf8.end();
    if (cutOff) {
      failure ??= new CsvSyntaxError(cutOff.line, INVALID_UTF8, utf8Problem(cutOff));
      signal();
      return;
    }
    parser.end();
  })().catch((err: unknown) => {
    if (!stopped) failure ??= err;
    signal();
  });

  try {
    for (;;) {
      if (queue.length > 0) {
        // Hand over what is queued, then let the pump refill.
        const rows = queue.splice(0, queue.length);
        resumePump();
        for (const row of rows) yield row;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      resumePump();
      await sleep();
    }
  } finally {
    stopped = true;
    resumePump();
    source.destroy();
    parser.destroy();
    await pump;
  }
}

/** Line breaks in `text`: CRLF, LF or a lone CR each count once. */
function countLineBreaks(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n += 1;
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) n += 1;
  }
  return n;
}

/** csv-parse's `raw` of a failing row starts with the empty lines skipped before it. */
function leadingBlankLines(raw: unknown): number {
  if (typeof raw !== 'string') return 0;
  const m = /^[\r\n]+/.exec(raw);
  return m ? countLineBreaks(m[0]) : 0;
}
