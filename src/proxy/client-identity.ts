/**
 * Who a request is from, for the fair queue and the status page, and whose budget it draws from.
 * A client names itself with `x-claw-client`; otherwise it is known by a fingerprint of its
 * credential (never the credential). The budget is the account's: a fingerprint of the credential
 * sent upstream and the upstream's address, the same one `claw-batch run` uses for that key.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Header a client may send to name itself (agent-1, ci-nightly …). Never forwarded upstream. */
export const CLIENT_HEADER = 'x-claw-client';

/** Longest client name kept; longer ones are cut. */
const MAX_NAME = 64;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
};

/** The credential a request carries: its `x-api-key`, else the token of `Authorization: Bearer`. */
export function credentialOf(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = header(headers, 'x-api-key');
  if (apiKey) return apiKey;
  const authorization = header(headers, 'authorization');
  if (!authorization) return undefined;
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? authorization;
}

/** `key-` and 12 hex digits of SHA-256 of the credential: tells keys apart, reveals nothing. */
export function credentialFingerprint(credential: string): string {
  return `key-${createHash('sha256').update(credential).digest('hex').slice(0, 12)}`;
}

/** The client's name for the fair queue: `x-claw-client`, else its credential's fingerprint, else `anonymous`. */
export function clientIdOf(headers: IncomingHttpHeaders, credential: string | undefined): string {
  const named = header(headers, CLIENT_HEADER);
  // Printable ASCII only: the name shows up in logs and the status page.
  if (named) return named.replace(/[^\x21-\x7e]/g, '_').slice(0, MAX_NAME);
  return credential ? credentialFingerprint(credential) : 'anonymous';
}
