/**
 * Whose budget a request draws from: a fingerprint of the API key and the base URL. Two keys never
 * share a budget, the same key against two APIs (the real one and a simulator) neither. Only a
 * SHA-256 prefix is ever stored or shown; the key itself never leaves the process.
 */
import { createHash } from 'node:crypto';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** The API address budgets and learned limits are keyed by: without trailing slashes. */
export function normalizeBaseUrl(baseURL: string | undefined): string {
  return (baseURL || DEFAULT_BASE_URL).replace(/\/+$/, '');
}

/** 16 hex digits of SHA-256 over the base URL and the credential. */
export function accountFingerprint(credential: string, baseURL: string | undefined): string {
  return createHash('sha256').update(`${normalizeBaseUrl(baseURL)}\n${credential}`).digest('hex').slice(0, 16);
}
