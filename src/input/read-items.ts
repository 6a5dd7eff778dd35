/**
 * One streaming pass over an input file that yields Items: JSONL lines or CSV rows, each turned
 * into Messages params and given its custom_id. Every problem becomes an `InputError` naming the
 * file and line. `prepareInput` runs this once to validate (with a registry for duplicate ids),
 * and `items()` runs it again to send.
 */
import { InputError } from '../errors.js';
import type { Item } from '../types.js';
import { CustomIdRegistry, customIdProblem, positionalId } from './custom-id.js';
import { CsvSyntaxError, INVALID_UTF8, readCsvRows } from './csv-reader.js';
import { readLines } from './line-reader.js';
import { completeParams, jsonRecordToParams, RecordProblem, type ConvertedRecord, type ItemDefaults } from './record-to-item.js';
import { quoted, shortened } from '../quote.js';
import { promptChars } from './prompt-size.js';
import { requestSizeProblem } from './request-size.js';
import { compileTemplate } from './template.js';
import { utf8Problem } from './utf8.js';

export interface ItemSourceSpec {
  file: string;
  displayName: string;
  format: 'jsonl' | 'csv';
  /** CSV field delimiter: `,` or a tab for .tsv. */
  delimiter: string;
  template?: string;
  idField?: string;
  defaults: ItemDefaults;
}

export interface ReadOptions {
  /** Set on the validating pass: catches duplicate ids. */
  registry?: CustomIdRegistry;
  /** Sees every byte of the file, in order. */
  onChunk?: (chunk: Buffer) => void;
}

export async function* readItems(spec: ItemSourceSpec, opts: ReadOptions = {}): AsyncGenerator<Item> {
  const records = spec.format === 'csv' ? csvRecords(spec, opts) : jsonlRecords(spec, opts);
  let index = 0;
  const systemChars = spec.defaults.system?.length ?? 0;
  for await (const { line, chars, convert } of records) {
    index += 1;
    let converted: ConvertedRecord;
    try {
      converted = convert();
    } catch (err) {
      if (err instanceof RecordProblem) throw new InputError(spec.displayName, line, err.message);
      throw err;
    }
    // A CSV row's params are its message and the system prompt, both of which promptChars counts.
    const tooBig =
      chars === undefined
        ? requestSizeProblem(converted.params, promptChars(converted.params), 0)
        : requestSizeProblem(converted.params, chars, systemChars);
    if (tooBig) throw new InputError(spec.displayName, line, tooBig);
    let customId = converted.customId;
    let problem: string | undefined;
    if (customId === undefined) {
      customId = positionalId(index);
      problem = opts.registry?.claimPositional(index, line);
    } else {
      problem = customIdProblem(customId) ?? opts.registry?.claimExplicit(customId, line);
    }
    if (problem) throw new InputError(spec.displayName, line, problem);
    yield { custom_id: customId, params: converted.params, source: { file: spec.displayName, line } };
  }
}

/** A record located in the file, converted lazily so its problem is reported with its line. */
interface LocatedRecord {
  line: number;
  /** Length of the record's JSON text; undefined for a CSV row (its message is measured instead). */
  chars?: number;
  convert: () => ConvertedRecord;
}

async function* jsonlRecords(spec: ItemSourceSpec, opts: ReadOptions): AsyncGenerator<LocatedRecord> {
  for await (const { line, text, invalidUtf8 } of readLines(spec.file, opts.onChunk)) {
    if (invalidUtf8) {
      yield { line, convert: () => { throw new RecordProblem(utf8Problem(invalidUtf8)); } };
      continue;
    }
    if (text.trim() === '') continue;
    yield {
      line,
      chars: text.length,
      convert: () => jsonRecordToParams(parseJson(text), spec.idField, spec.defaults),
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const said = (err as Error).message;
    throw new RecordProblem(`malformed JSON: ${said.length > 120 ? `${said.slice(0, 117)}...` : said}`);
  }
}

async function* csvRecords(spec: ItemSourceSpec, opts: ReadOptions): AsyncGenerator<LocatedRecord> {
  const rows = readCsvRows(spec.file, { delimiter: spec.delimiter, onChunk: opts.onChunk });
  let layout: CsvLayout | undefined;
  try {
    for await (const row of rows) {
      if (!layout) {
        layout = csvLayout(row.fields.map((h) => h.trim()), spec, row.line);
        continue;
      }
      const { fields } = row;
      const current = layout;
      yield {
        line: row.line,
        convert: () => ({
          customId: current.idColumn === undefined ? undefined : fields[current.idColumn],
          params: completeParams({ messages: [{ role: 'user', content: current.message(fields) }] }, spec.defaults, 'csv'),
        }),
      };
    }
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new InputError(spec.displayName, err.line, csvProblem(err));
    throw err;
  }
}

interface CsvLayout {
  idColumn: number | undefined;
  message: (fields: string[]) => string;
}

function csvLayout(header: string[], spec: ItemSourceSpec, line: number): CsvLayout {
  const fail = (problem: string): never => {
    throw new InputError(spec.displayName, line, problem);
  };
  const listed = listColumns(header);
  // A column that is used must be there once: with two, which one is meant would be a guess.
  const column = (name: string) => {
    const first = header.indexOf(name);
    const last = header.lastIndexOf(name);
    if (first !== last) fail(`the header has the column ${quoted(name, 40)} twice (fields ${first + 1} and ${last + 1}); rename one`);
    return first;
  };

  let idColumn: number | undefined;
  if (spec.idField !== undefined) {
    idColumn = column(spec.idField);
    if (idColumn < 0) fail(`--id-field ${quoted(spec.idField)} names no column; the header has ${listed}`);
  } else if (column('custom_id') >= 0) {
    idColumn = column('custom_id');
  }

  let message: (fields: string[]) => string;
  if (spec.template !== undefined) {
    const template = compileTemplate(spec.template);
    const missing = template.columns.filter((c) => column(c) < 0);
    if (missing.length > 0) {
      fail(`--template uses {{${shortened(missing[0]!)}}}, but the header has no such column; it has ${listed}`);
    }
    const at = new Map(template.columns.map((c) => [c, column(c)]));
    message = (fields) => template.fill((c) => fields[at.get(c)!] ?? '');
  } else {
    const prompt = column('prompt');
    if (prompt < 0) fail(`no --template and no "prompt" column: give --template "...{{column}}..." (the header has ${listed})`);
    message = (fields) => fields[prompt] ?? '';
  }
  return {
    idColumn,
    message: (fields) => {
      const text = message(fields);
      if (text.trim() === '') throw new RecordProblem('the user message is empty (its columns are blank)');
      return text;
    },
  };
}

/** The header's columns for a message: each quoted (long ones shortened), at most the first 20. */
function listColumns(header: string[]): string {
  const shown = header.slice(0, 20).map((h) => quoted(h, 40)).join(', ');
  return header.length > 20 ? `${shown} and ${header.length - 20} more` : shown;
}

function csvProblem(err: CsvSyntaxError): string {
  switch (err.code) {
    case INVALID_UTF8:
      return err.message;
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field starting in this row is never closed (unterminated ")';
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const m = /expect (\d+), got (\d+)/.exec(err.message);
      return m ? `expected ${m[1]} fields like the header, got ${m[2]}` : 'the row has a different number of fields than the header';
    }
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quote in the middle of a field: quote the whole field and double any quote inside it ("")';
    default:
      return `CSV syntax error: ${err.message}`;
  }
}
