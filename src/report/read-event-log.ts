/**
 * Reads a run's event log back (src/report/event-log.ts writes it). A run still going, or one that
 * was killed, has no end line and may have a torn last line: both are read as far as they go.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import type { EventLogHeader, EventRow } from './event-log.js';

export interface ErrorExample {
  t: number;
  type: string;
  custom_id: string;
  message: string;
  final: boolean;
}

export interface EventLogContents {
  path: string;
  header: EventLogHeader;
  rows: EventRow[];
  examples: ErrorExample[];
  marks: Array<{ t: number; text: string }>;
  /** The run's summary (summaryObject), when it ended. */
  summary?: Record<string, unknown>;
  /** Seconds since the start of the last line written. */
  endT: number;
}

export async function readEventLog(path: string): Promise<EventLogContents> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let header: EventLogHeader | undefined;
  const rows: EventRow[] = [];
  const examples: ErrorExample[] = [];
  const marks: EventLogContents['marks'] = [];
  let summary: Record<string, unknown> | undefined;
  let endT = 0;
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo += 1;
      if (line.trim() === '') continue;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // A line torn by a kill is the last one; anything else is not our file.
        if (lineNo === 1) throw new UsageError(`${path}:1: not a claw-batch event log (the line is not JSON)`);
        continue;
      }
      if (lineNo === 1) {
        if (rec.kind !== 'header') throw new UsageError(`${path}:1: not a claw-batch event log (no header line)`);
        header = rec as unknown as EventLogHeader;
        continue;
      }
      if (typeof rec.t === 'number') endT = Math.max(endT, rec.t + (typeof rec.s === 'number' ? rec.s : 0));
      switch (rec.kind) {
        case undefined:
          rows.push(rec as unknown as EventRow);
          break;
        case 'error':
          examples.push(rec as unknown as ErrorExample);
          break;
        case 'mark':
          marks.push(rec as unknown as { t: number; text: string });
          break;
        case 'end':
          summary = rec.summary as Record<string, unknown>;
          break;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read the event log ${path}${code ? ` (${code})` : ''}`);
  }
  if (!header) throw new UsageError(`${path}: empty, not a claw-batch event log`);
  return { path, header, rows, examples, marks, summary, endT };
}
