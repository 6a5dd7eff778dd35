/**
 * The Messages API refuses a request body over 32 MB (413 `request_too_large`). An item that big
 * is found while the input is checked, so it fails before the first request rather than after
 * hours of others.
 *
 * Serializing every item to measure it would slow the check of a large input for nothing: almost
 * every item is far below the limit. A JSON string of n UTF-16 units takes at most 6n bytes (a
 * control character becomes `\u00XX`), so only an item whose text could reach the limit by that
 * bound is serialized and measured.
 */
import type { MessageParams } from '../types.js';

/** 32 MB, as the API counts it (and as the simulator enforces it). */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

const WORST_BYTES_PER_CHAR = 6;
/** Room for what a record's text does not show: model, max_tokens, the JSON around the prompt. */
const OVERHEAD_CHARS = 1024;

/**
 * Why the request body of `params` is too big, or undefined. `sizeChars` bounds the item's text:
 * the JSONL line's length (a re-serialized value is never longer than the JSON it was parsed from),
 * or the CSV message plus system prompt; `addedChars` what defaults add to it (a `--system`).
 */
export function requestSizeProblem(params: MessageParams, sizeChars: number, addedChars: number): string | undefined {
  if ((sizeChars + addedChars + OVERHEAD_CHARS) * WORST_BYTES_PER_CHAR <= MAX_REQUEST_BYTES) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(params));
  if (bytes <= MAX_REQUEST_BYTES) return undefined;
  return `the request would be ${megabytes(bytes)} (${bytes.toLocaleString('en-US')} bytes), over the API's 32 MB limit for one request (${MAX_REQUEST_BYTES.toLocaleString('en-US')} bytes): shorten the item or split it`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
