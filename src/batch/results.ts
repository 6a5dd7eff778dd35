/**
 * Streams ended batches' results (the SDK's JSONL decoder) into the results writer, in the shared
 * result shape. Each custom_id is written exactly once: ids already in the output are skipped (so
 * polling again adds nothing), and a download cut off midway starts over skipping what it already
 * wrote. An id the job sent that the API never reports gets an errored line, so no item is lost;
 * an id it did not send (an adopted batch that turned out not to be ours) is not written.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ResultLine, ResultError } from '../types.js';
import type { ResultType } from '../output/index.js';
import { withRetry, type RetryOptions } from './transient.js';
import { checkAnswer } from '../structured/answer.js';
import type { JsonSchema } from '../structured/schema.js';

export interface ResultSink {
  write(line: ResultLine): void;
}

export interface BatchToRead {
  id: string;
  /** The custom_ids the batch was created with (from the manifest), when known. */
  expectedIds?: string[];
  /** Items whose answers follow a schema of their own, not the job's (null: none to check). */
  ownSchemas?: Map<string, JsonSchema | null>;
}

export interface ResultTally {
  succeeded: number;
  errored: number;
  expired: number;
  canceled: number;
  /** Lines written by this call (the others were already in the output). */
  written: number;
  /** Ids the job sent that the API did not report; written as errored. */
  missing: number;
  /** Results for ids the job did not send (an adopted batch that was not ours); not written. */
  foreign: number;
}

function emptyTally(): ResultTally {
  return { succeeded: 0, errored: 0, expired: 0, canceled: 0, written: 0, missing: 0, foreign: 0 };
}

/**
 * A batch result in the shared shape. With the job's schema, a succeeded answer gains `parsed`, or,
 * when it is not JSON the schema accepts, becomes an errored `schema_error` line: failed like any
 * errored item, so `submit --retry-failed` (or a deadline's real-time finish) asks it again.
 */
export function toResultLine(r: Anthropic.Messages.MessageBatchIndividualResponse, schema?: JsonSchema): ResultLine {
  switch (r.result.type) {
    case 'succeeded': {
      const message = r.result.message;
      if (!schema) return { custom_id: r.custom_id, result: { type: 'succeeded', message } };
      const check = checkAnswer(schema, message);
      if (check.ok) return { custom_id: r.custom_id, result: { type: 'succeeded', message }, parsed: check.parsed };
      return { custom_id: r.custom_id, result: { type: 'errored', error: { type: 'error', error: { type: 'schema_error', message: check.problem } } } };
    }
    case 'errored':
      return { custom_id: r.custom_id, result: { type: 'errored', error: r.result.error as ResultError } };
    default:
      return { custom_id: r.custom_id, result: { type: r.result.type } };
  }
}

export interface WriteResultsOptions {
  client: Anthropic;
  batches: BatchToRead[];
  sink: ResultSink;
  /** How each id already in the output ended; those are counted, not written again. */
  existing?: Map<string, ResultType>;
  retry?: RetryOptions;
  /** Told about every result of the batches as the API returns it, written now or already in the output. */
  onResult?: (result: Anthropic.Messages.MessageBatchIndividualResponse) => void;
  /** Told about every line written, with the API's result it came from (an answer that failed its schema is still paid for). */
  onWritten?: (line: ResultLine, result: Anthropic.Messages.MessageBatchIndividualResponse) => void;
  /** The job's JSON Schema (--schema): answers are checked against it (toResultLine), those of an item with its own against that. */
  schema?: JsonSchema;
}

/** Writes the results of every batch (all must have ended); returns how every item of them ended. */
export async function writeResults(options: WriteResultsOptions): Promise<ResultTally> {
  const tally = emptyTally();
  const existing = options.existing ?? new Map<string, ResultType>();
  for (const batch of options.batches) {
    const seen = new Set<string>();
    const expected = batch.expectedIds ? new Set(batch.expectedIds) : undefined;
    const count = (type: ResultType) => {
      tally[type]++;
    };
    await withRetry(async () => {
      const decoder = await options.client.messages.batches.results(batch.id);
      for await (const r of decoder) {
        if (seen.has(r.custom_id)) continue;
        seen.add(r.custom_id);
        if (expected && !expected.has(r.custom_id)) {
          tally.foreign++;
          continue;
        }
        options.onResult?.(r);
        const before = existing.get(r.custom_id);
        if (before) {
          count(before);
          continue;
        }
        const own = batch.ownSchemas?.get(r.custom_id);
        const line = toResultLine(r, own === undefined ? options.schema : (own ?? undefined));
        options.sink.write(line);
        options.onWritten?.(line, r);
        tally.written++;
        count(line.result.type);
      }
    }, { maxAttempts: 8, ...options.retry });

    for (const id of batch.expectedIds ?? []) {
      if (seen.has(id)) continue;
      const before = existing.get(id);
      if (before) {
        count(before);
        continue;
      }
      options.sink.write({
        custom_id: id,
        result: {
          type: 'errored',
          error: { type: 'error', error: { type: 'api_error', message: `the Batches API reported no result for this item in ${batch.id}` } },
        },
      });
      tally.written++;
      tally.missing++;
      count('errored');
    }
  }
  return tally;
}
