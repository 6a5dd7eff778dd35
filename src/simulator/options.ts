/** The simulator's knobs, their defaults, and their validation. All may change while it runs. */
import type { OtpmRule } from './class-budget.js';
import { BILLING_REFUSALS, type BillingRefusal } from './billing.js';
import type { ReplyTokens } from './replies.js';
import { TIER_NAMES, type ClassLimitSet, type Tier } from './tiers.js';
import type { OrganizationSpec } from './organizations.js';
import type { UnseenTraffic } from './unseen-traffic.js';

export interface SimulatorOptions {
  /** Port to listen on. Default 0: a free port (read it back from `Simulator.port`). */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Requests per minute, for every model class (each class has its own bucket). Default: the tier's, else unlimited. */
  rpm?: number;
  /** Input tokens per minute (`input_tokens + cache_creation_input_tokens`), per class. Default: the tier's, else unlimited. */
  itpm?: number;
  /** Output tokens per minute, per class, counted by `otpmRule`. Default: the tier's, else unlimited. */
  otpm?: number;
  /**
   * Limits of particular model classes, over `rpm`/`itpm`/`otpm` and the tier, e.g.
   * `{ 'claude-haiku-4-5': { rpm: 1000, otpm: 90_000 } }`. Class names: see model-classes.ts.
   * Default: none.
   */
  classLimits?: Record<string, ClassLimitSet>;
  /**
   * Organizations and the API keys that belong to them: keys of one organization share its limits
   * (the API's limits are the organization's, not the key's), keys of different organizations never
   * do. Each may set its own `rpm`/`itpm`/`otpm`/`classLimits`/`tier` (else the top-level ones) and
   * list `workspaces` with lower limits of their own and keys of their own. Every key not listed
   * belongs to the default organization (id `DEFAULT_ORGANIZATION_ID`), with the top-level limits.
   * Every answer names the organization in `anthropic-organization-id` (and a workspace with limits
   * of its own in `anthropic-workspace-id`). Default: none (every key in one organization).
   */
  organizations?: OrganizationSpec[];
  /**
   * Another tool of an organization spending its limits, which the client never sees:
   * `{ rpm, model?, organization?, inputTokens?, outputTokens?, outputMs? }`. Default: none.
   */
  unseenTraffic?: UnseenTraffic;
  /** Presets every class's limits to a usage tier (start: 1,000 RPM, 2M ITPM, 400k OTPM; build: 5,000 / 5M / 1M; scale: 10,000 / 10M / 2M). Default: none. */
  tier?: Tier;
  /**
   * How output tokens are charged. `as-produced` (default, the API's rule): a request is admitted
   * while the output bucket is not in debt, and its output drains the bucket as it is produced.
   * `reserve-max-tokens` (the old rule): `max_tokens` is reserved at admission, the unused part
   * refunded at the end.
   */
  otpmRule?: OtpmRule;
  /** Rate-limit headers with unrounded token `-remaining` and millisecond `-reset` (for bucket-math tests). Default false. */
  exactHeaders?: boolean;
  /** Bucket capacity in seconds' worth of each limit. Default 1: 60 RPM admits 1 request a second. */
  burstSeconds?: number;
  /** Shortest prompt prefix that is cached, in tokens; a shorter one counts as plain input. Default 1024. */
  cacheMinTokens?: number;
  /** Multiplies the cache TTLs (5 minutes, 1 hour); 0.01 makes 5 minutes 3 s, for tests. Default 1. */
  cacheTtlScale?: number;
  /**
   * Mean latency of each /v1/messages answer, in ms: the whole answer's time, or with
   * `outputTokensPerSecond` the time to its first token. Default 0.
   */
  latencyMs?: number;
  /** Latency varies uniformly by +/- this many ms. Default 0. */
  jitterMs?: number;
  /**
   * Output tokens of each reply: a number, or `{ min, max }` (a deterministic function of the
   * prompt in that range). The reply starts `Simulated reply <key> to: <echo>` and is padded to
   * the length; longer than `max_tokens` stops there (`stop_reason: "max_tokens"`).
   * Default: that header alone (about 20 tokens).
   */
  replyTokens?: ReplyTokens;
  /** When set, an answer takes latency ± jitter + output_tokens / this many seconds (output streams at this rate). Default: none. */
  outputTokensPerSecond?: number;
  /** Fraction (0..1) of /v1/messages answered 500 `api_error`. Default 0. */
  rate500?: number;
  /** Fraction (0..1) answered 529 `overloaded_error`. Default 0. */
  rate529?: number;
  /** Fraction (0..1) whose connection is destroyed without an answer. Default 0. */
  dropRate?: number;
  /** Fraction (0..1) of /v1/messages accepted and never answered (no headers, no bytes) until the client gives up. Default 0. */
  hangRate?: number;
  /** Fraction (0..1) of streams that start, then stop sending mid-answer without ending. Default 0. */
  stallRate?: number;
  /** Fraction (0..1) of answers delayed by an extra `slowMs`. Default 0. */
  slowRate?: number;
  /** Extra delay of a slow answer, in ms. Default 0. */
  slowMs?: number;
  /** API keys answered 401 `authentication_error`. Default none. */
  rejectKeys?: string[];
  /** After this many messages admitted (since the option was set), every /v1/messages gets the spend-cap 429 (`enforced_spend_limit_reached`, no retry-after). Default: never. */
  spendLimitAfter?: number;
  /** After this many messages admitted (since the option was set), every /v1/messages gets the `billingRefusal`. Default: never. */
  billingRefusalAfter?: number;
  /**
   * Which refusal `billingRefusalAfter` gives: `credit-balance` (400, credit balance too low),
   * `workspace-limit` (400, "You have reached your specified workspace API usage limits…"),
   * `billing-error` (402 `billing_error`). Default `credit-balance`.
   */
  billingRefusal?: BillingRefusal;
  /**
   * Fraction (0..1) of structured answers (requests with `output_config.format` json_schema) that
   * the schema refuses: half not JSON, half JSON of the wrong shape, drawn per request (a retry may
   * be fine). Default 0.
   */
  invalidStructuredRate?: number;
  /** How long a message batch takes from create to ended, in ms. Default 2000. */
  batchMs?: number;
  /** Fraction (0..1) of batch requests that come back `expired`. Default 0. */
  batchExpireRate?: number;
  /** 1-based indexes of batch-create calls answered 500 `api_error`, e.g. `[2]` fails the second create. */
  failBatchCreates?: number[];
  /**
   * Requests per minute to the Message Batches endpoints (every batch call together), per
   * organization, in a bucket of `burstSeconds`; apart from the Messages limits. Default: none.
   */
  batchRpm?: number;
  /** Most requests in one batch. Default 100_000 (the real API's). */
  maxBatchRequests?: number;
  /**
   * Most requests the Message Batches processing queue holds (every batch not yet ended, all
   * models): a create that would pass it is refused with a 429 `rate_limit_error`. Default: the
   * tier's (start 200,000; build 300,000; scale 500,000), else none.
   */
  batchQueueLimit?: number;
  /** Largest batch-create body in bytes; bigger gets 413 `request_too_large`. Default 256 MiB. */
  maxBatchBytes?: number;
  /** Seed for fault draws, expiries and result order; deterministic when given. Default: random. */
  seed?: number;
}

/** Options after defaults: what the routes read on every request. */
type Unset =
  | 'rpm' | 'itpm' | 'otpm' | 'classLimits' | 'tier' | 'spendLimitAfter' | 'billingRefusalAfter' | 'seed'
  | 'replyTokens' | 'outputTokensPerSecond' | 'organizations' | 'unseenTraffic' | 'batchQueueLimit' | 'batchRpm';
export type ResolvedOptions = Required<Omit<SimulatorOptions, Unset>> & Pick<SimulatorOptions, Unset>;

export const DEFAULTS: ResolvedOptions = {
  port: 0,
  host: '127.0.0.1',
  burstSeconds: 1,
  otpmRule: 'as-produced',
  exactHeaders: false,
  cacheMinTokens: 1024,
  cacheTtlScale: 1,
  latencyMs: 0,
  jitterMs: 0,
  rate500: 0,
  rate529: 0,
  dropRate: 0,
  slowRate: 0,
  hangRate: 0,
  stallRate: 0,
  billingRefusal: 'credit-balance',
  slowMs: 0,
  rejectKeys: [],
  invalidStructuredRate: 0,
  batchMs: 2000,
  batchExpireRate: 0,
  failBatchCreates: [],
  maxBatchRequests: 100_000,
  maxBatchBytes: 256 * 1024 * 1024,
};

const describe = (v: unknown) => {
  const text = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return `\`${text}\` (${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v})`;
};

function expect(ok: boolean, name: string, what: string, value: unknown): void {
  if (!ok) throw new TypeError(`Expected \`${name}\` to be ${what}, got ${describe(value)}`);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const LIMIT_KEYS = ['rpm', 'itpm', 'otpm'];

function validateClassLimits(value: unknown): void {
  expect(isPlainObject(value), 'classLimits', 'an object of model class -> { rpm?, itpm?, otpm? }', value);
  for (const [className, limits] of Object.entries(value as Record<string, unknown>)) {
    expect(isPlainObject(limits), `classLimits.${className}`, 'an object { rpm?, itpm?, otpm? }', limits);
    for (const [key, limit] of Object.entries(limits as Record<string, unknown>)) {
      if (!LIMIT_KEYS.includes(key)) throw new TypeError(`Unknown limit \`${key}\` in \`classLimits.${className}\` (expected rpm, itpm or otpm)`);
      if (limit !== undefined) expect(isNum(limit) && limit > 0, `classLimits.${className}.${key}`, 'a finite number > 0', limit);
    }
  }
}

const isLimit = (v: unknown) => v === undefined || (isNum(v) && v > 0);

function validateLimitsOf(name: string, o: Record<string, unknown>): void {
  for (const k of LIMIT_KEYS) if (!isLimit(o[k])) expect(false, `${name}.${k}`, 'a finite number > 0', o[k]);
  if (o.classLimits !== undefined) validateClassLimits(o.classLimits);
}

function validateKeys(name: string, keys: unknown, seen: Set<string>): void {
  expect(Array.isArray(keys) && keys.every((k) => typeof k === 'string' && k !== ''), `${name}.keys`, 'an array of API keys (strings)', keys);
  for (const k of keys as string[]) {
    // A key belongs to one organization and one workspace; named twice it would be ambiguous.
    if (seen.has(k)) throw new TypeError(`An API key is listed twice in \`${name.split('[')[0]}\` (a key belongs to one organization and one workspace)`);
    seen.add(k);
  }
}

function validateOrganizations(value: unknown): void {
  expect(Array.isArray(value), 'organizations', 'an array of { id, keys, rpm?, itpm?, otpm?, classLimits?, tier?, workspaces? }', value);
  const ids = new Set<string>();
  const keys = new Set<string>();
  (value as unknown[]).forEach((org, i) => {
    const name = `organizations[${i}]`;
    expect(isPlainObject(org), name, 'an object { id, keys, ... }', org);
    const o = org as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !['id', 'keys', 'rpm', 'itpm', 'otpm', 'classLimits', 'tier', 'workspaces'].includes(k));
    if (extra !== undefined) throw new TypeError(`Unknown key \`${extra}\` in \`${name}\` (expected id, keys, rpm, itpm, otpm, classLimits, tier, workspaces)`);
    expect(typeof o.id === 'string' && o.id !== '', `${name}.id`, 'a non-empty string', o.id);
    if (ids.has(o.id as string)) throw new TypeError(`Organization id \`${o.id as string}\` is listed twice in \`organizations\``);
    ids.add(o.id as string);
    validateKeys(name, o.keys, keys);
    validateLimitsOf(name, o);
    if (o.tier !== undefined) expect(TIER_NAMES.includes(o.tier as Tier), `${name}.tier`, `one of ${TIER_NAMES.join(', ')}`, o.tier);
    if (o.workspaces === undefined) return;
    expect(Array.isArray(o.workspaces), `${name}.workspaces`, 'an array of { id, keys, rpm?, itpm?, otpm?, classLimits? }', o.workspaces);
    const wsIds = new Set<string>();
    (o.workspaces as unknown[]).forEach((ws, j) => {
      const wsName = `${name}.workspaces[${j}]`;
      expect(isPlainObject(ws), wsName, 'an object { id, keys, ... }', ws);
      const w = ws as Record<string, unknown>;
      const wExtra = Object.keys(w).find((k) => !['id', 'keys', 'rpm', 'itpm', 'otpm', 'classLimits'].includes(k));
      if (wExtra !== undefined) throw new TypeError(`Unknown key \`${wExtra}\` in \`${wsName}\` (expected id, keys, rpm, itpm, otpm, classLimits)`);
      expect(typeof w.id === 'string' && w.id !== '', `${wsName}.id`, 'a non-empty string', w.id);
      if (wsIds.has(w.id as string)) throw new TypeError(`Workspace id \`${w.id as string}\` is listed twice in \`${name}.workspaces\``);
      wsIds.add(w.id as string);
      validateKeys(wsName, w.keys, keys);
      validateLimitsOf(wsName, w);
    });
  });
}

function validateUnseenTraffic(value: unknown): void {
  expect(isPlainObject(value), 'unseenTraffic', 'an object { rpm, model?, organization?, inputTokens?, outputTokens?, outputMs? }', value);
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !['rpm', 'model', 'organization', 'inputTokens', 'outputTokens', 'outputMs'].includes(k));
  if (extra !== undefined) throw new TypeError(`Unknown key \`${extra}\` in \`unseenTraffic\` (expected rpm, model, organization, inputTokens, outputTokens, outputMs)`);
  expect(isNum(o.rpm) && (o.rpm as number) > 0, 'unseenTraffic.rpm', 'a finite number > 0', o.rpm);
  for (const k of ['model', 'organization']) {
    if (o[k] !== undefined) expect(typeof o[k] === 'string' && o[k] !== '', `unseenTraffic.${k}`, 'a non-empty string', o[k]);
  }
  for (const k of ['inputTokens', 'outputTokens', 'outputMs']) {
    if (o[k] !== undefined) expect(isNum(o[k]) && (o[k] as number) >= 0, `unseenTraffic.${k}`, 'a finite number >= 0', o[k]);
  }
}

function validateReplyTokens(value: unknown): void {
  const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
  if (typeof value === 'number') return expect(isCount(value), 'replyTokens', 'a whole number >= 1 or { min, max }', value);
  expect(isPlainObject(value), 'replyTokens', 'a whole number >= 1 or { min, max }', value);
  const { min, max, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new TypeError(`Unknown key \`${extra}\` in \`replyTokens\` (expected min and max)`);
  expect(isCount(min), 'replyTokens.min', 'a whole number >= 1', min);
  expect(isCount(max) && (max as number) >= (min as number), 'replyTokens.max', `a whole number >= replyTokens.min (${String(min)})`, max);
}

/** Throws a TypeError naming the option and value for anything out of range. */
export function validateOptions(patch: Partial<SimulatorOptions>): void {
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    switch (name as keyof SimulatorOptions) {
      case 'rpm':
      case 'itpm':
      case 'otpm':
      case 'burstSeconds':
      case 'batchRpm':
      case 'outputTokensPerSecond':
        expect(isNum(value) && value > 0, name, 'a finite number > 0', value);
        break;
      case 'port':
      case 'latencyMs':
      case 'jitterMs':
      case 'slowMs':
      case 'batchMs':
      case 'spendLimitAfter':
      case 'billingRefusalAfter':
      case 'seed':
        expect(isNum(value) && value >= 0, name, 'a finite number >= 0', value);
        break;
      case 'cacheMinTokens':
        expect(Number.isInteger(value) && (value as number) >= 0, name, 'a whole number >= 0', value);
        break;
      case 'cacheTtlScale':
        expect(isNum(value) && value > 0, name, 'a finite number > 0', value);
        break;
      case 'maxBatchRequests':
      case 'maxBatchBytes':
      case 'batchQueueLimit':
        expect(isNum(value) && value >= 1, name, 'a finite number >= 1', value);
        break;
      case 'rate500':
      case 'rate529':
      case 'dropRate':
      case 'slowRate':
      case 'hangRate':
      case 'stallRate':
      case 'batchExpireRate':
      case 'invalidStructuredRate':
        expect(isNum(value) && value >= 0 && value <= 1, name, 'a fraction from 0 to 1', value);
        break;
      case 'classLimits':
        validateClassLimits(value);
        break;
      case 'organizations':
        validateOrganizations(value);
        break;
      case 'unseenTraffic':
        validateUnseenTraffic(value);
        break;
      case 'tier':
        expect(TIER_NAMES.includes(value as Tier), name, `one of ${TIER_NAMES.join(', ')}`, value);
        break;
      case 'otpmRule':
        expect(value === 'as-produced' || value === 'reserve-max-tokens', name, 'as-produced or reserve-max-tokens', value);
        break;
      case 'billingRefusal':
        expect(BILLING_REFUSALS.includes(value as BillingRefusal), name, `one of ${BILLING_REFUSALS.join(', ')}`, value);
        break;
      case 'replyTokens':
        validateReplyTokens(value);
        break;
      case 'exactHeaders':
        expect(typeof value === 'boolean', name, 'true or false', value);
        break;
      case 'host':
        expect(typeof value === 'string' && value !== '', name, 'a host name or address', value);
        break;
      case 'rejectKeys':
        expect(Array.isArray(value) && value.every((k) => typeof k === 'string'), name, 'an array of strings', '[array]');
        break;
      case 'failBatchCreates':
        expect(Array.isArray(value) && value.every((k) => Number.isInteger(k) && (k as number) >= 1), name, 'an array of integers >= 1', value);
        break;
      default:
        throw new TypeError(`Unknown simulator option \`${name}\``);
    }
  }
}
