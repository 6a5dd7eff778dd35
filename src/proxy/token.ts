/**
 * The shared secret a proxy on a non-loopback address requires (`--token`): every client sends it
 * as `x-claw-token: T`, or as `Proxy-Authorization: Bearer T`. Neither header is forwarded. Compared
 * in constant time; never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_HEADER = 'x-claw-token';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The token a request carries, if any. */
export function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const direct = headers[TOKEN_HEADER];
  if (typeof direct === 'string' && direct.trim() !== '') return direct.trim();
  const proxyAuth = headers['proxy-authorization'];
  return typeof proxyAuth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(proxyAuth)?.[1] : undefined;
}

/** Whether `headers` carry `token` (always true when no token is required). */
export function hasToken(headers: IncomingHttpHeaders, token: string | undefined): boolean {
  if (token === undefined) return true;
  const sent = tokenOf(headers);
  // Hashing first makes the comparison the same length, so its time says nothing about the token.
  return sent !== undefined && timingSafeEqual(digest(sent), digest(token));
}
