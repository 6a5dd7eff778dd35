/**
 * Streams a CSV (or TSV) file as rows of fields, each with the line the row starts on, using
 * csv-parse. Quoted fields may hold delimiters, newlines and doubled quotes; a BOM and CRLF line
 * ends are handled; empty lines are skipped.
 *
 * Two csv-parse quirks shape this file:
 * - Its `lines` counter counts a CRLF inside a quoted field as two lines, so the true line of a row
 *   is its count minus the CRLFs seen inside fields so far.
 * - An async iterator over the parser drops rows it had already parsed when a later row fails, so
 *   the error would be reported before an earlier bad row. Rows are taken in `on_record` instead,
 *   which runs synchronously before the error, and backpressure is applied by not writing the next
 *   chunk until the consumer has caught up.
 */
import { createReadStream } from 'node:fs';
import { parse, type CsvError, type InfoRecord, type Options } from 'csv-parse';

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
  let lastEnd = 0; // true line on which the previous row ended
  let crlfInFields = 0;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sleep = () => new Promise<void>((resolve) => (wake = resolve));

  const options = {
    bom: true,
    delimiter: opts.delimiter,
    skip_empty_lines: true,
    raw: true,
    on_record: (rec: { record: string[]; raw: string }, ctx: InfoRecord) => {
      let inside = 0;
      for (const field of rec.record) {
        if (field.length > 0 && (field.includes('\n') || field.includes('\r'))) {
          inside += countLineBreaks(field);
          crlfInFields += field.split('\r\n').length - 1;
        }
      }
      const end = ctx.lines - crlfInFields;
      queue.push({ line: end - inside, fields: rec.record });
      lastEnd = end;
      return null;
    },
  };
  const parser = parse(options as unknown as Options);
  parser.resume();
  parser.on('error', (err: CsvError) => {
    failure ??= new CsvSyntaxError(lastEnd + 1 + leadingBlankLines(err.raw), err.code, err.message);
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
  const pump = (async () => {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      opts.onChunk?.(chunk);
      while (queue.length > HIGH_WATER_ROWS && !stopped && failure === undefined) await sleepPump();
      if (stopped || failure !== undefined) return;
      parser.write(chunk);
      signal();
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

function countLineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

/** csv-parse's `raw` of a failing row starts with the empty lines skipped before it. */
function leadingBlankLines(raw: unknown): number {
  if (typeof raw !== 'string') return 0;
  const m = /^[\r\n]+/.exec(raw);
  return m ? countLineBreaks(m[0]) : 0;
}
