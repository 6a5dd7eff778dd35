/**
 * Reads an existing results file into the resume index: which custom_ids already have a final line,
 * which lines compaction must drop, and whether the last line was torn by a crash mid-write.
 */
import { InputError } from '../errors.js';
import { scanLines } from './line-scanner.js';
import { RESULT_TYPES, type ResultType } from './result-types.js';

/** 'succeeded': only succeeded lines count as done (run retries the rest); 'all': every line is final (poll). */
export type KeepMode = 'succeeded' | 'all';

export interface ResultFileScan {
  byId: Map<string, ResultType>;
  /** 1-based numbers of the complete lines compaction must remove, ascending. */
  dropLines: number[];
  /** Byte offset where the torn last line starts, if there is one. */
  tornAt: number | undefined;
  /** The last line is a whole result line but the '\n' after it is missing. */
  missingFinalNewline: boolean;
}

const NOT_A_RESULT = 'not a claw-batch result line; use --fresh to start over or another -o';

/**
 * Scans `path` (which must exist). Throws InputError naming the line for a line that is not a result
 * line, unless it is the last line and not valid JSON: that is a torn write, reported in `tornAt`.
 */
export async function scanResultFile(path: string, keep: KeepMode): Promise<ResultFileScan> {
  const byId = new Map<string, ResultType>();
  const dropLines: number[] = [];
  // Line numbers of kept non-succeeded lines ('all' mode), so a later succeeded line for the same id
  // can replace them. Few in practice, so this stays small where byId does not.
  const keptNonSucceeded = new Map<string, number>();
  // An unparseable line is only torn if nothing follows it; otherwise it is damage we must not hide.
  let unparsed: { number: number; start: number } | undefined;
  let missingFinalNewline = false;

  await scanLines(path, (line) => {
    if (unparsed) throw new InputError(path, unparsed.number, NOT_A_RESULT);
    let parsed = line.terminated ? quickRead(line.bytes) : undefined;
    if (!parsed) {
      const text = line.bytes.toString('utf8');
      if (text.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        unparsed = { number: line.number, start: line.start };
        return;
      }
      parsed = asResult(value);
      if (!parsed) throw new InputError(path, line.number, NOT_A_RESULT);
      if (!line.terminated) missingFinalNewline = true;
    }

    const { id, type } = parsed;
    const had = byId.get(id);
    if (keep === 'succeeded' && type !== 'succeeded') {
      dropLines.push(line.number);
    } else if (had === undefined) {
      byId.set(id, type);
      if (type !== 'succeeded') keptNonSucceeded.set(id, line.number);
    } else if (had !== 'succeeded' && type === 'succeeded') {
      // A success outranks an earlier errored/expired/canceled line for the same id.
      dropLines.push(keptNonSucceeded.get(id)!);
      keptNonSucceeded.delete(id);
      byId.set(id, type);
    } else {
      dropLines.push(line.number);
    }
  });

  dropLines.sort((a, b) => a - b);
  return { byId, dropLines, tornAt: unparsed?.start, missingFinalNewline };
}

/**
 * Lines our own writer produced start `{"custom_id":"…","result":{"type":"…"` (JSON.stringify keeps
 * key order) and end `}}`. Reading just that prefix skips a full JSON.parse of the message, which is
 * most of the cost of opening a file of millions of lines. Only used for lines followed by '\n': a
 * torn write never is, so the last line always gets the full check. Anything else takes the slow path.
 */
const ID_START = Buffer.from('{"custom_id":"');
const TYPE_START = Buffer.from('","result":{"type":"');
const ID_CHAR = /^[A-Za-z0-9_-]{1,64}$/;
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;

function quickRead(bytes: Buffer): { id: string; type: ResultType } | undefined {
  const n = bytes.length;
  if (bytes[n - 1] !== CLOSE_BRACE || bytes[n - 2] !== CLOSE_BRACE) return undefined;
  if (bytes.compare(ID_START, 0, ID_START.length, 0, ID_START.length) !== 0) return undefined;
  const idEnd = bytes.indexOf(QUOTE, ID_START.length);
  if (idEnd < 0 || idEnd > ID_START.length + 64) return undefined;
  const typeStart = idEnd + TYPE_START.length;
  if (bytes.compare(TYPE_START, 0, TYPE_START.length, idEnd, typeStart) !== 0) return undefined;
  const typeEnd = bytes.indexOf(QUOTE, typeStart);
  if (typeEnd < 0 || typeEnd > typeStart + 9) return undefined;
  const after = bytes[typeEnd + 1];
  if (after !== 0x2c && after !== CLOSE_BRACE) return undefined;
  // A fresh string per id (not a slice of a longer one), so the Map holds only the id's bytes.
  const id = bytes.toString('latin1', ID_START.length, idEnd);
  const type = bytes.toString('latin1', typeStart, typeEnd) as ResultType;
  if (!ID_CHAR.test(id) || !RESULT_TYPES.includes(type)) return undefined;
  return { id, type };
}

function asResult(value: unknown): { id: string; type: ResultType } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { custom_id: id, result } = value as { custom_id?: unknown; result?: unknown };
  if (typeof id !== 'string' || id === '' || typeof result !== 'object' || result === null) return undefined;
  const type = (result as { type?: unknown }).type;
  if (!RESULT_TYPES.includes(type as ResultType)) return undefined;
  return { id, type: type as ResultType };
}
