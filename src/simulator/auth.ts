/**
 * Credentials as the real API takes them: `x-api-key`, or `Authorization: Bearer` (which SDK 1.x
 * sends). The key is compared, never echoed: messages and logs must not carry it.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';

/** The request's API key, from either header; undefined when it carries none. */
export function keyOf(req: IncomingMessage): string | undefined {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  const authorization = req.headers.authorization;
  const bearer = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return bearer?.[1];
}

/** Throws 401 `authentication_error` unless the request carries an acceptable key; returns the key. */
export function authenticate(req: IncomingMessage, rejectKeys: readonly string[]): string {
  const key = keyOf(req);
  if (key === undefined) {
    throw new ApiError(401, 'authentication_error', 'x-api-key header is required (or Authorization: Bearer)');
  }
  if (rejectKeys.includes(key)) throw new ApiError(401, 'authentication_error', 'invalid x-api-key');
  return key;
}
