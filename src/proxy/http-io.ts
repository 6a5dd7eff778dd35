/** Reading bounded request bodies, and the answers the proxy makes itself (in the API's error shape). */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** The API's own limit on a Messages request body. */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** The client went away (or was cut off by a timeout) before its whole request arrived: nobody to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client went away while sending its request');
    this.name = 'ClientGoneError';
  }
}

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`Request exceeds the maximum allowed number of bytes (${maxBytes}).`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads the whole body, or rejects with BodyTooLargeError as soon as it is (or is declared) over
 * `maxBytes`, without reading the rest.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) return reject(new BodyTooLargeError(maxBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        return reject(new BodyTooLargeError(maxBytes));
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', () => reject(new ClientGoneError()));
    req.once('aborted', () => reject(new ClientGoneError()));
  });
}

/** Prefix of every message the proxy writes itself, so a client can tell it from the API's. */
export const SELF = 'claw-batch proxy';

/** An answer the proxy makes itself, in the API's error shape so every SDK reads it. */
export function sendApiError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ type: 'error', error: { type, message: `${SELF}: ${message}` } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
