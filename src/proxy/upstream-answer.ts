/**
 * An error answer from upstream, read whole (they are small) so it can be classified the way the
 * scheduler classifies a failed call (src/api-failure.ts: a retryable 429, a spend or billing
 * refusal, a transient 5xx/529, the request's own fault) and then passed back byte for byte.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { APIError } from '@anthropic-ai/sdk/core/error';
import { classifyFailure, type FailureAction } from '../api-failure.js';
import type { HeaderSource } from '../limits/rate-limit-headers.js';
import { endToEndHeaders } from './upstream.js';

/** An error body longer than this is not an API error: it is passed back unread. */
const MAX_ERROR_BYTES = 1024 * 1024;

export interface ErrorAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  action: FailureAction;
  /** `error.type` and `error.message` from the body, when it has them (for the log). */
  type?: string;
  message?: string;
}

/** `get(name)` over Node's lower-cased header object, as the rate-limit and retry-after readers expect. */
export function headerSource(headers: IncomingHttpHeaders): NonNullable<HeaderSource> {
  return {
    get(name: string) {
      const v = headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

export async function readErrorAnswer(res: IncomingMessage): Promise<ErrorAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_ERROR_BYTES) chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const status = res.statusCode ?? 502;
  let json: { error?: { type?: unknown; message?: unknown } } | undefined;
  try {
    json = size <= MAX_ERROR_BYTES ? (JSON.parse(body.toString('utf8')) as typeof json) : undefined;
  } catch {
    json = undefined;
  }
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
  const action = classifyFailure(APIError.generate(status, json, undefined, h));
  const type = typeof json?.error?.type === 'string' ? json.error.type : undefined;
  const message = typeof json?.error?.message === 'string' ? json.error.message : undefined;
  return { status, headers: res.headers, body, action, type, message };
}

/** Passes an error answer back as it came (its length recomputed: the body is the same bytes, whole). */
export function sendErrorAnswer(res: ServerResponse, answer: ErrorAnswer, extra: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  const headers = endToEndHeaders(answer.headers, new Set(['content-length']));
  res.writeHead(answer.status, { ...headers, ...extra, 'content-length': answer.body.length });
  res.end(answer.body);
}
