/**
 * `claw-batch export RESULTS.jsonl --csv|--jsonl [--fields a,b.c] [-o FILE] [--input FILE]`: the
 * results as a table, one row per custom_id: custom_id, status, the parsed answer's fields, the
 * error's type and message. Rows come in the results file's order (the order items finished), or,
 * with `--input`, in the input's order, with a `missing` row for an item the file has no line for.
 *
 * Memory stays flat at any size: rows stream through csv-stringify to the output. For the input's
 * order the results are indexed by custom_id in a temporary SQLite file (offset and length of each
 * line), not in memory, and each line is read back from the results file when its turn comes.
 */
import { once } from 'node:events';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify';
import { InputError, UsageError } from '../errors.js';
import { streamItems } from '../input/index.js';
import { scanLines } from '../output/line-scanner.js';
import { ERROR_COLUMNS, LEAD_COLUMNS, leafPaths, missingRow, rowOf, type Row } from '../output/export-rows.js';
import type { ResultLine } from '../types.js';
import type { CommandContext } from './context.js';
import { inputPath } from './prepare-input.js';

export interface ExportOptions {
  /** The results file (JSONL) that `run` or `poll` wrote. */
  results: string;
  format: 'csv' | 'jsonl';
  /** Dotted paths into `parsed`. Default: the leaves of the first parsed answer. */
  fields?: string[];
  /** Default: stdout. */
  output?: string;
  /** The job's input, to put rows in its order; read as `run` reads it. */
  input?: string;
  inputFormat?: 'jsonl' | 'csv';
  idField?: string;
  template?: string;
}

export async function exportResults(options: ExportOptions, ctx: CommandContext): Promise<number> {
  const file = inputPath(options.results, ctx);
  const fields = options.fields ?? (await firstParsedFields(file, options.results));
  const columns = [...LEAD_COLUMNS, ...fields, ...ERROR_COLUMNS];
  const rows = options.input === undefined ? inFileOrder(file, options.results, fields) : await inInputOrder(file, options, fields, ctx);
  const out = options.output === undefined ? ctx.stdout : createWriteStream(inputPath(options.output, ctx));
  const formatter: Transform =
    options.format === 'csv'
      ? stringify({ header: true, columns: [...columns], cast: { boolean: (b) => String(b) } })
      : new Transform({ writableObjectMode: true, transform: (row: Row, _enc, cb) => cb(null, `${JSON.stringify(row)}\n`) });
  await pipeline(Readable.from(rows), formatter, async function* (source: AsyncIterable<Buffer | string>) {
    for await (const chunk of source) if (!out.write(chunk)) await once(out, 'drain');
  });
  if (out !== ctx.stdout) {
    (out as NodeJS.WritableStream).end();
    await once(out, 'finish');
  }
  return 0;
}

function parseLine(text: string, name: string, lineNo: number): ResultLine {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    throw new InputError(name, lineNo, 'not a JSON result line');
  }
  const l = line as Partial<ResultLine>;
  if (typeof l?.custom_id !== 'string' || typeof l.result?.type !== 'string') {
    throw new InputError(name, lineNo, 'not a result line: expected {"custom_id": ..., "result": {"type": ...}}');
  }
  return l as ResultLine;
}

async function* resultLines(file: string, name: string): AsyncGenerator<ResultLine> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === '') continue;
      yield parseLine(text, name, n);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${name}: no such results file`);
    throw err;
  } finally {
    lines.close();
  }
}

/** The columns when --fields is not given: the leaves of the first answer that has `parsed`. */
async function firstParsedFields(file: string, name: string): Promise<string[]> {
  for await (const line of resultLines(file, name)) if (line.parsed !== undefined) return leafPaths(line.parsed);
  return [];
}

async function* inFileOrder(file: string, name: string, fields: string[]): AsyncGenerator<Row> {
  for await (const line of resultLines(file, name)) yield rowOf(line, fields);
}

async function inInputOrder(file: string, options: ExportOptions, fields: string[], ctx: CommandContext): Promise<AsyncGenerator<Row>> {
  if (options.input === '-') throw new UsageError('export --input needs the input file itself, not stdin');
  try {
    if (!statSync(inputPath(options.input!, ctx)).isFile()) throw new UsageError(`${options.input}: not a file`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${options.input}: no such input file (given by --input)`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'claw-batch-export-'));
  const db = new Database(join(tmp, 'index.db'));
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  // A bounded page cache and no memory map: the index lives on disk, so memory stays flat.
  db.pragma('cache_size = -4096');
  db.pragma('mmap_size = 0');
  db.exec('CREATE TABLE line (id TEXT PRIMARY KEY, start INTEGER, length INTEGER) WITHOUT ROWID');
  // A later line for the same id wins: it is the newer result (a retry polled into the same file).
  const insert = db.prepare('INSERT OR REPLACE INTO line VALUES (?, ?, ?)');
  const find = db.prepare<[string], { start: number; length: number }>('SELECT start, length FROM line WHERE id = ?');
  const cleanup = () => {
    db.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const insertAll = db.transaction((rows: [string, number, number][]) => {
      for (const r of rows) insert.run(...r);
    });
    const pending: [string, number, number][] = [];
    const flush = () => {
      insertAll(pending);
      pending.length = 0;
    };
    await scanLines(file, (l) => {
      const text = l.bytes.toString('utf8');
      if (text.trim() === '') return;
      pending.push([parseLine(text, options.results, l.number).custom_id, l.start, l.bytes.length]);
      if (pending.length >= 10_000) flush();
    }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new UsageError(`${options.results}: no such results file`) : err;
    });
    flush();
  } catch (err) {
    cleanup();
    throw err;
  }
  const items = streamItems({
    path: inputPath(options.input!, ctx),
    format: options.inputFormat,
    idField: options.idField,
    template: options.template,
    // Only the custom_ids are read; these fill what a record may lack so it reads as `run` read it.
    defaults: { model: 'claude-export', max_tokens: 1 },
  });
  return (async function* () {
    const fd = openSync(file, 'r');
    let buf = Buffer.alloc(1 << 16);
    try {
      for await (const item of items) {
        const at = find.get(item.custom_id);
        if (!at) {
          yield missingRow(item.custom_id, fields);
          continue;
        }
        if (at.length > buf.length) buf = Buffer.alloc(at.length);
        readSync(fd, buf, 0, at.length, at.start);
        yield rowOf(JSON.parse(buf.toString('utf8', 0, at.length)) as ResultLine, fields);
      }
    } finally {
      closeSync(fd);
      cleanup();
    }
  })();
}
