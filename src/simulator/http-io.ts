/** Reading request bodies (bounded) and writing JSON answers, for the simulator's routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { ApiError, badRequest } from './api-error.js';

const requestIdPrefix = randomBytes(6).toString('hex');
let requestSeq = 0;

/** A unique `req_...` id for the `request-id` header and error bodies. */
export function nextRequestId(): string {
  requestSeq += 1;
  return `req_sim${requestIdPrefix}${requestSeq.toString(36).padStart(8, '0')}`;
}

/**
 * Reads the whole body, keeping at most `maxBytes`. A bigger body is drained (not buffered) and
 * answered 413 `request_too_large`, as the real API does, rather than cutting the connection, so
 * the client reads a proper error instead of a reset.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => {
      if (tooLarge) {
        reject(new ApiError(413, 'request_too_large', `Request exceeds the maximum allowed number of bytes (${maxBytes}).`));
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** Parses a JSON body; malformed JSON is a 400 like the real API's. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const body = await readBody(req, maxBytes);
  if (body.length === 0) throw badRequest('body: a JSON object is required');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('body: the request body is not valid JSON');
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': requestId,
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError, requestId: string): void {
  sendJson(res, err.status, err.body(requestId), requestId, { 'x-should-retry': String(err.shouldRetry), ...err.headers });
}
