/**
 * The shapes every layer shares: an input item, and a result line (the Message Batches result
 * shape, whichever mode produced it).
 */
import type Anthropic from '@anthropic-ai/sdk';

/** Messages API parameters for one request (non-streaming). */
export type MessageParams = Anthropic.MessageCreateParamsNonStreaming;

/** Where an item came from, for error messages: file name as the user gave it, 1-based line. */
export interface ItemSource {
  file: string;
  line: number;
}

/** One request to make: its custom_id, the full Messages params, and where it came from. */
export interface Item {
  custom_id: string;
  params: MessageParams;
  source: ItemSource;
}

/** The error object of an `errored` result, as the Batches API reports it. */
export interface ResultError {
  type: 'error';
  error: { type: string; message: string };
}

export type ItemResult =
  | { type: 'succeeded'; message: Anthropic.Message }
  | { type: 'errored'; error: ResultError }
  | { type: 'expired' }
  | { type: 'canceled' };

/** One line of output: `{"custom_id": ..., "result": {...}}`. */
export interface ResultLine {
  custom_id: string;
  result: ItemResult;
  /** With a schema (--schema): the succeeded answer's JSON, valid under the schema. */
  parsed?: unknown;
}

/** Builds an `errored` result line. */
export function erroredResult(customId: string, errorType: string, message: string): ResultLine {
  return { custom_id: customId, result: { type: 'errored', error: { type: 'error', error: { type: errorType, message } } } };
}
