/**
 * Whose budget a request draws from. The API's limits belong to the organization (and, where it
 * sets lower ones, its workspace), not to the key: every answer names the organization in
 * `anthropic-organization-id`, and from then on the key draws from `organizationAccount(...)`,
 * shared by every key of that organization. Before the first answer (and for an API that names no
 * organization) the budget is the key's own: a fingerprint of the key and the base URL. The same
 * organization behind two APIs (the real one and a simulator) never shares. Only a SHA-256 prefix
 * of a key is ever stored or shown; the key itself never leaves the process.
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

/**
 * The budgets' account of an organization behind an API: `org-` and 16 hex digits over the base URL
 * and the organization id; a workspace with limits of its own gets its own account under it
 * (`org-….ws-…`), whose requests count against the organization's account too.
 */
export function organizationAccount(baseURL: string | undefined, organization: string, workspace?: string): string {
  const org = `org-${createHash('sha256').update(`${normalizeBaseUrl(baseURL)}\norganization\n${organization}`).digest('hex').slice(0, 16)}`;
  if (!workspace) return org;
  return `${org}.ws-${createHash('sha256').update(`${org}\nworkspace\n${workspace}`).digest('hex').slice(0, 12)}`;
}
