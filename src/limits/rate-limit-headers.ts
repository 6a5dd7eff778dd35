/**
 * Reads the API's rate-limit headers: `anthropic-ratelimit-{requests,input-tokens,output-tokens}-
 * {limit,remaining,reset}`, and `anthropic-ratelimit-tokens-*` (the most restrictive token limit in
 * effect) as a fallback. (`retry-after` is read in src/api-failure.ts.)
 *
 * The API rounds token `-remaining` values to the nearest thousand and gives `-reset` to the
 * second, so a reading is a range, not a point: `remainingAtMost` and `resetNotBefore` are the
 * edges that can only make our view stricter when they disagree with it by more than the rounding.
 */
export interface LimitReading {
  limit: number;
  /** As the header says it. */
  remaining?: number;
  /** The most that can truly remain given the header's rounding (remaining + 500 for rounded token counts). */
  remainingAtMost?: number;
  /** ms since epoch when the bucket is full again, as the header says it. */
  resetAt?: number;
  /** The earliest the bucket can truly be full again given second precision (resetAt - 1 s when it is whole seconds). */
  resetNotBefore?: number;
}

export interface RateLimitHeaders {
  requests?: LimitReading;
  inputTokens?: LimitReading;
  outputTokens?: LimitReading;
  /**
   * Whose limits these are: `anthropic-organization-id` (on every answer of the API) and
   * `anthropic-workspace-id` (when the key's workspace has limits of its own).
   */
  tenancy?: Tenancy;
}

/** The organization (and workspace) an answer names. */
export interface Tenancy {
  organization: string;
  workspace?: string;
}

/** Ids are short and printable; anything else is not an id (a gateway's garbage) and is ignored. */
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The organization and workspace an answer's headers name, when they name one. */
export function readTenancy(headers: HeaderSource): Tenancy | undefined {
  const organization = headers?.get('anthropic-organization-id')?.trim();
  if (!organization || !ID.test(organization)) return undefined;
  const workspace = headers?.get('anthropic-workspace-id')?.trim();
  return workspace && ID.test(workspace) ? { organization, workspace } : { organization };
}

export type HeaderSource = { get(name: string): string | null } | undefined | null;

/** Token counts the API rounds: a multiple of 1,000 under a limit of at least 1,000 may be up to 500 low. */
const TOKEN_ROUNDING = 1000;

function reading(headers: NonNullable<HeaderSource>, name: string, rounded: boolean): LimitReading | undefined {
  const limit = Number(headers.get(`anthropic-ratelimit-${name}-limit`));
  if (!Number.isFinite(limit) || limit <= 0) return undefined;
  const remainingRaw = headers.get(`anthropic-ratelimit-${name}-remaining`);
  const resetRaw = headers.get(`anthropic-ratelimit-${name}-reset`);
  const remaining = remainingRaw === null || remainingRaw.trim() === '' ? undefined : Number(remainingRaw);
  const resetAt = resetRaw === null ? undefined : Date.parse(resetRaw);
  const out: LimitReading = { limit };
  if (remaining !== undefined && Number.isFinite(remaining)) {
    out.remaining = remaining;
    const isRounded = rounded && limit >= TOKEN_ROUNDING && remaining % TOKEN_ROUNDING === 0;
    out.remainingAtMost = isRounded ? remaining + TOKEN_ROUNDING / 2 : remaining;
  }
  if (resetAt !== undefined && Number.isFinite(resetAt)) {
    out.resetAt = resetAt;
    out.resetNotBefore = resetAt % 1000 === 0 ? resetAt - 1000 : resetAt;
  }
  return out;
}

export function parseRateLimitHeaders(headers: HeaderSource): RateLimitHeaders {
  if (!headers) return {};
  const out: RateLimitHeaders = {
    requests: reading(headers, 'requests', false),
    inputTokens: reading(headers, 'input-tokens', true),
    outputTokens: reading(headers, 'output-tokens', true),
  };
  // Only the combined token headers: they show the most restrictive token limit, which for a
  // model class with separate input and output limits is not always the same one. Use them only
  // as the input limit when nothing more precise came (older API versions, some gateways).
  if (!out.inputTokens && !out.outputTokens) out.inputTokens = reading(headers, 'tokens', true);
  const tenancy = readTenancy(headers);
  if (tenancy) out.tenancy = tenancy;
  return out;
}

/** True when any limit is reported at all (a gateway may strip them all). */
export function hasReadings(h: RateLimitHeaders): boolean {
  return Boolean(h.requests || h.inputTokens || h.outputTokens);
}
