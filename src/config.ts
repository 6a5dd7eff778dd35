/**
 * Settings from four places, highest first: flags > environment (CLAW_BATCH_*) > config file >
 * defaults. The config file is `--config F`, else `./claw-batch.config.yaml` (or `.yml`/`.json`)
 * when present; its shape and the meaning of each key are documented in docs/config.md.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { ConfigError } from './errors.js';
import { baseModel, modelClass } from './limits/model-class.js';
import { closestName } from './input/did-you-mean.js';
import { loadListPrices } from './plan/prices.js';
import { quoted, shortened } from './quote.js';
import {
  isSharedLimitsValue,
  parseChoice,
  parseIntUpTo,
  parseNonNegativeInt,
  parseNonNegativeNumber,
  parsePositiveInt,
  parsePositiveNumber,
  parseSharedLimits,
} from './options.js';
import { maskUrlPassword } from './secrets.js';
import { loadSchemaFile, type JsonSchema } from './structured/schema.js';

export interface Settings {
  model?: string;
  /** max_tokens for items that do not set it. Default 1024. */
  maxTokens: number;
  system?: string;
  /**
   * `--schema FILE` / config `schema:` (relative to the config file): the JSON Schema answers must
   * follow (docs/structured.md). As given; `schemaJson` is its content, read and checked.
   */
  schema?: string;
  schemaJson?: JsonSchema;
  /** Limits for every model class (a class named in `classLimits` overrides them field by field). */
  rpm?: number;
  itpm?: number;
  otpm?: number;
  /** Per model class, from `providers.anthropic.rate_limit.models` (keys normalized to their class). */
  classLimits: Record<string, { rpm?: number; itpm?: number; otpm?: number }>;
  /**
   * The most requests in flight per model class: a ceiling on the count the scheduler sizes from
   * the pace and the latency. Default 1024 (a Scale-tier 10,000 RPM with 4 s answers needs ~700).
   */
  concurrency: number;
  /** ms from sending a request until the first byte of its (streamed) answer. Default 60 s. */
  firstByteTimeoutMs: number;
  /** ms allowed between two events of a streamed answer. Default 60 s. */
  idleTimeoutMs: number;
  /** After Ctrl-C / SIGTERM, requests in flight get this long to finish (then they stay pending). Default 10 s. */
  stopGraceMs: number;
  /** `stream` (default): answers streamed, so a stuck connection shows; `json`: plain calls, for gateways that cannot stream. */
  transport: 'stream' | 'json';
  /** Pause each worker this long after each request. Default 0. */
  delayMs: number;
  /** Attempts per item, counting the first. Default 6. */
  maxAttempts: number;
  /** While the rate limit holds items back: `wait` (default) as long as it takes, or `fail` past `queueTimeoutMs`. */
  queueOverflow: 'wait' | 'fail';
  /** With `queueOverflow: 'fail'`: the longest single wait for capacity. Default 60 s (the scheduler's). */
  queueTimeoutMs?: number;
  /** `--max-cost` / `max_cost_usd`: stop (real-time) or refuse to submit (Batches API) before spending more. Default: none. */
  maxCostUsd?: number;
  /** Default `auto`. */
  mode: 'auto' | 'realtime' | 'batch';
  /** `auto` uses the Batches API when real-time would take longer than this. Default 10. */
  realtimeThresholdMinutes: number;
  /** At most this many items is always a small job → real-time. Default 100. */
  smallJobItems: number;
  /** Price overrides from the config, merged over data/prices.json by the plan layer. */
  prices: Record<string, PriceOverride>;
  /**
   * Where the account's budget lives (docs/shared-limits.md): `local` (default) shared by every
   * claw-batch process on this machine; `off` this process alone; `redis://…` / `rediss://…` every
   * process on every machine using that Redis. Flag `--shared-limits`, env
   * `CLAW_BATCH_SHARED_LIMITS`, config `providers.anthropic.rate_limit.shared`.
   */
  sharedLimits: string;
  /** The config file that was read (absolute path), if any. */
  configFile?: string;
  /** Which layer gave each setting that is not the default, for messages (settingSource). */
  origin: Partial<Record<keyof Settings, 'flag' | 'env' | 'file'>>;
}

/**
 * One model's price from the config's `prices:`, in US$ per million tokens: the shape of the plan
 * layer's `ModelPrice` (src/plan/prices.ts), declared here because config.ts sits below src/plan/.
 */
export interface PriceOverride {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheWrite5mPerMTok: number;
  cacheWrite1hPerMTok: number;
  cacheReadPerMTok: number;
}

export type SettingsFlags = Partial<Omit<Settings, 'prices' | 'configFile' | 'classLimits' | 'origin' | 'schemaJson'>>;

export const DEFAULT_SETTINGS = {
  // Enough for a classification or a paragraph; a record's own max_tokens, --max-tokens, the
  // environment or the config raise it. The model has no default: picking one is the user's call.
  maxTokens: 1024,
  concurrency: 1024,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  stopGraceMs: 10_000,
  transport: 'stream',
  delayMs: 0,
  maxAttempts: 6,
  queueOverflow: 'wait',
  mode: 'auto',
  realtimeThresholdMinutes: 10,
  smallJobItems: 100,
  sharedLimits: 'local',
} as const satisfies Partial<Settings>;

/**
 * The most requests in flight `--concurrency`, `max_concurrent` or `CLAW_BATCH_CONCURRENCY` may ask
 * for. More connections than any tier can use — at Scale's 10,000 RPM, requests of 20 s each keep
 * about 3,300 in flight — only exhaust sockets and memory (100,000 opened ~2,000 connections at once).
 */
export const MAX_CONCURRENCY = 4096;

/** `--concurrency` / `CLAW_BATCH_CONCURRENCY`: a whole number from 1 to MAX_CONCURRENCY. */
export function parseConcurrency(flag: string, raw: string | number | undefined): number | undefined {
  return parseIntUpTo(flag, raw, MAX_CONCURRENCY);
}

/** `queue_overflow: fail` without `queue_timeout_ms`: a wait for capacity over a minute stops the run. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 60_000;

/** The longest single rate-limit wait the settings allow, or undefined to wait as long as it takes. */
export function rateLimitWaitLimitMs(settings: Pick<Settings, 'queueOverflow' | 'queueTimeoutMs'>): number | undefined {
  return settings.queueOverflow === 'fail' ? (settings.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS) : undefined;
}

const CONFIG_NAMES = ['claw-batch.config.yaml', 'claw-batch.config.yml', 'claw-batch.config.json'];
const MODES = ['auto', 'realtime', 'batch'] as const;
const OVERFLOWS = ['wait', 'fail'] as const;
const TRANSPORTS = ['stream', 'json'] as const;

export async function loadSettings(
  flags: SettingsFlags,
  opts: { env: NodeJS.ProcessEnv; cwd: string; configPath?: string },
): Promise<Settings> {
  const file = await readConfigFile(opts.cwd, opts.configPath);
  const fromFile: FileConfig = file ? parseConfig(file.display, file.text) : { prices: {}, classLimits: {} };
  const fromEnv = readEnv(opts.env);
  const fileSchema = fromFile.settings?.schema;
  if (file && fileSchema !== undefined && !isAbsolute(fileSchema)) fromFile.settings!.schema = resolve(dirname(file.path), fileSchema);
  const layers = [
    ['file', defined(fromFile.settings ?? {})],
    ['env', defined(fromEnv)],
    ['flag', defined(flags)],
  ] as const;
  const origin: Settings['origin'] = {};
  for (const [layer, values] of layers) for (const key of Object.keys(values)) origin[key as keyof Settings] = layer;
  const merged = { ...layers[0][1], ...layers[1][1], ...layers[2][1] };
  const schemaName = origin.schema === 'file' ? `${file?.display}: schema: ${fileSchema}` : merged.schema;
  return {
    ...DEFAULT_SETTINGS,
    ...merged,
    schemaJson: merged.schema === undefined ? undefined : await loadSchemaFile(resolve(opts.cwd, merged.schema), schemaName),
    classLimits: fromFile.classLimits,
    prices: fromFile.prices,
    configFile: file?.path,
    origin,
  };
}

/** What flags and config fill into items that lack them (ItemDefaults of the input layer). */
export function itemDefaults(settings: Settings): { model?: string; max_tokens?: number; system?: string; schema?: JsonSchema } {
  const defaults = { model: settings.model, max_tokens: settings.maxTokens, system: settings.system };
  return settings.schemaJson ? { ...defaults, schema: settings.schemaJson } : defaults;
}

/**
 * Where a setting came from, for a message about its value: the flag, the variable, or the config
 * file and key; the flag when it is the default.
 */
export function settingSource(settings: Settings, key: keyof Settings, names: { flag: string; env: string; file: string }): string {
  switch (settings.origin[key]) {
    case 'env':
      return names.env;
    case 'file':
      return `${settings.configFile}: ${names.file}`;
    default:
      return names.flag;
  }
}

/** Drops undefined values, so an unset flag or variable does not override a lower layer. */
function defined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function readConfigFile(cwd: string, configPath: string | undefined) {
  const candidates = configPath !== undefined ? [configPath] : CONFIG_NAMES;
  for (const name of candidates) {
    const path = resolve(cwd, name);
    try {
      return { path, display: configPath ?? basename(path), text: await readFile(path, 'utf8') };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && configPath === undefined) continue;
      if (code === 'ENOENT') throw new ConfigError(name, undefined, 'no such file (given by --config)');
      if (code === 'EISDIR') throw new ConfigError(name, undefined, 'is a directory, not a config file');
      throw new ConfigError(name, undefined, `cannot read it: ${(err as Error).message}`);
    }
  }
  return undefined;
}

// ---- environment ------------------------------------------------------------------------------

function readEnv(env: NodeJS.ProcessEnv): SettingsFlags {
  // An empty variable counts as unset (`CLAW_BATCH_MODEL= claw-batch ...` clears nothing).
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const v = (name: string) => [`CLAW_BATCH_${name}`, get(`CLAW_BATCH_${name}`)] as const;
  return {
    model: get('CLAW_BATCH_MODEL'),
    maxTokens: parsePositiveInt(...v('MAX_TOKENS')),
    system: get('CLAW_BATCH_SYSTEM'),
    rpm: parsePositiveNumber(...v('RPM')),
    itpm: parsePositiveNumber(...v('ITPM')),
    otpm: parsePositiveNumber(...v('OTPM')),
    concurrency: parseConcurrency(...v('CONCURRENCY')),
    delayMs: parseNonNegativeNumber(...v('DELAY_MS')),
    maxAttempts: parsePositiveInt(...v('MAX_ATTEMPTS')),
    mode: parseChoice(...v('MODE'), MODES),
    maxCostUsd: parsePositiveNumber(...v('MAX_COST_USD')),
    queueOverflow: parseChoice(...v('QUEUE_OVERFLOW'), OVERFLOWS),
    queueTimeoutMs: parseNonNegativeInt(...v('QUEUE_TIMEOUT_MS')),
    firstByteTimeoutMs: parsePositiveInt(...v('FIRST_BYTE_TIMEOUT_MS')),
    idleTimeoutMs: parsePositiveInt(...v('IDLE_TIMEOUT_MS')),
    stopGraceMs: parseNonNegativeInt(...v('STOP_GRACE_MS')),
    transport: parseChoice(...v('TRANSPORT'), TRANSPORTS),
    sharedLimits: parseSharedLimits(...v('SHARED_LIMITS')),
  };
}

// ---- config file ------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface FileConfig {
  settings?: SettingsFlags;
  classLimits: Settings['classLimits'];
  prices: Settings['prices'];
}

/** Parses and validates a config file's text. `file` is the name its errors use. */
export function parseConfig(file: string, text: string): FileConfig {
  const raw = extname(file).toLowerCase() === '.json' ? parseJson(file, text) : parseYaml(file, text);
  if (raw === null || raw === undefined) return { prices: {}, classLimits: {} };
  const v = new Validator(file);
  const top = v.mapping(raw, '');
  v.onlyKeys(top, '', ['model', 'max_tokens', 'system', 'schema', 'mode', 'realtime_threshold_minutes', 'small_job_items', 'max_cost_usd', 'providers', 'prices']);

  const providers = top.providers === undefined ? {} : v.mapping(top.providers, 'providers');
  v.onlyKeys(providers, 'providers', ['anthropic']);
  const p = 'providers.anthropic';
  const anthropic = providers.anthropic === undefined ? {} : v.mapping(providers.anthropic, p);
  v.onlyKeys(anthropic, p, [
    'rate_limit',
    'max_attempts',
    'model',
    'max_tokens',
    'system',
    'first_byte_timeout_ms',
    'idle_timeout_ms',
    'stop_grace_ms',
    'transport',
  ]);
  const r = `${p}.rate_limit`;
  const rate = anthropic.rate_limit === undefined ? {} : v.mapping(anthropic.rate_limit, r);
  v.onlyKeys(rate, r, [
    'max_rpm',
    'rpm',
    'max_itpm',
    'itpm',
    'max_otpm',
    'otpm',
    'max_concurrent',
    'delay_ms',
    'queue_overflow',
    'queue_timeout_ms',
    'models',
    'shared',
  ]);

  const settings: SettingsFlags = {
    model: v.oneOf(top, anthropic, 'model', p, (x, k) => v.text(x, k)),
    maxTokens: v.oneOf(top, anthropic, 'max_tokens', p, (x, k) => v.number(x, k, 'a positive whole number', isPositiveInt)),
    system: v.oneOf(top, anthropic, 'system', p, (x, k) => v.text(x, k)),
    schema: v.optional(top.schema, 'schema', (x, k) => v.text(x, k)),
    mode: v.optional(top.mode, 'mode', (x, k) => v.choice(x, k, MODES)),
    maxCostUsd: v.optional(top.max_cost_usd, 'max_cost_usd', (x, k) => v.number(x, k, 'a positive number of US$', (n) => n > 0)),
    realtimeThresholdMinutes: v.optional(top.realtime_threshold_minutes, 'realtime_threshold_minutes', (x, k) =>
      v.number(x, k, 'a number >= 0', (n) => n >= 0),
    ),
    smallJobItems: v.optional(top.small_job_items, 'small_job_items', (x, k) => v.number(x, k, 'a whole number >= 0', isNonNegativeInt)),
    maxAttempts: v.optional(anthropic.max_attempts, `${p}.max_attempts`, (x, k) => v.number(x, k, 'a whole number >= 1', isPositiveInt)),
    rpm: v.alias(rate, r, 'max_rpm', 'rpm', (x, k) => v.number(x, k, 'a positive number', (n) => n > 0)),
    itpm: v.alias(rate, r, 'max_itpm', 'itpm', (x, k) => v.number(x, k, 'a positive number', (n) => n > 0)),
    otpm: v.alias(rate, r, 'max_otpm', 'otpm', (x, k) => v.number(x, k, 'a positive number', (n) => n > 0)),
    concurrency: v.optional(rate.max_concurrent, `${r}.max_concurrent`, (x, k) =>
      v.number(x, k, `a whole number from 1 to ${MAX_CONCURRENCY} (the maximum)`, (n) => isPositiveInt(n) && n <= MAX_CONCURRENCY),
    ),
    delayMs: v.optional(rate.delay_ms, `${r}.delay_ms`, (x, k) => v.number(x, k, 'a number >= 0', (n) => n >= 0)),
    queueOverflow: v.optional(rate.queue_overflow, `${r}.queue_overflow`, (x, k) => v.choice(x, k, OVERFLOWS)),
    queueTimeoutMs: v.optional(rate.queue_timeout_ms, `${r}.queue_timeout_ms`, (x, k) =>
      v.number(x, k, 'a whole number >= 0', isNonNegativeInt),
    ),
    firstByteTimeoutMs: v.optional(anthropic.first_byte_timeout_ms, `${p}.first_byte_timeout_ms`, (x, k) =>
      v.number(x, k, 'a whole number >= 1', isPositiveInt),
    ),
    idleTimeoutMs: v.optional(anthropic.idle_timeout_ms, `${p}.idle_timeout_ms`, (x, k) => v.number(x, k, 'a whole number >= 1', isPositiveInt)),
    stopGraceMs: v.optional(anthropic.stop_grace_ms, `${p}.stop_grace_ms`, (x, k) => v.number(x, k, 'a whole number >= 0', isNonNegativeInt)),
    transport: v.optional(anthropic.transport, `${p}.transport`, (x, k) => v.choice(x, k, TRANSPORTS)),
    sharedLimits: v.optional(rate.shared, `${r}.shared`, (x, k) => v.sharedLimits(x, k)),
  };
  return {
    settings,
    classLimits: rate.models === undefined ? {} : parseClassLimits(v, rate.models, `${r}.models`),
    prices: top.prices === undefined ? {} : parsePrices(v, top.prices),
  };
}

/**
 * `rate_limit.models: { claude-sonnet-4: { max_rpm: 300 } }`: limits for one model class. A key may
 * name the class or any model in it (`claude-sonnet-4-5` means the Sonnet 4.x class); two keys
 * for the same class are an error, since which one wins would be a guess.
 */
function parseClassLimits(v: Validator, raw: unknown, key: string): Settings['classLimits'] {
  const out: Settings['classLimits'] = {};
  const from: Record<string, string> = {};
  for (const [model, entry] of Object.entries(v.mapping(raw, key))) {
    const k = `${key}.${model}`;
    const limits = v.mapping(entry, k);
    v.onlyKeys(limits, k, ['max_rpm', 'rpm', 'max_itpm', 'itpm', 'max_otpm', 'otpm']);
    const typo = misspeltModel(model);
    if (typo) throw v.error(k, `no model or model class is called ${quoted(model)} (did you mean ${quoted(typo)}?); limits under a misspelt name would apply to nothing`);
    const cls = modelClass(model);
    if (from[cls] !== undefined) throw v.error(k, `names the same model class (${cls}) as ${key}.${from[cls]}; give its limits once`);
    from[cls] = model;
    const positive = (x: unknown, kk: string) => v.number(x, kk, 'a positive number', (n) => n > 0);
    out[cls] = {
      rpm: v.alias(limits, k, 'max_rpm', 'rpm', positive),
      itpm: v.alias(limits, k, 'max_itpm', 'itpm', positive),
      otpm: v.alias(limits, k, 'max_otpm', 'otpm', positive),
    };
  }
  return out;
}

/**
 * The known model or class `name` is probably a typo of: the same digits (versions) and letters
 * within two edits of a known one's (`claude-hiaku-4-5`). A name matching nothing known is taken as
 * a model newer than data/prices.json, not refused.
 */
function misspeltModel(name: string): string | undefined {
  const known = new Set<string>();
  for (const model of Object.keys(loadListPrices())) {
    known.add(baseModel(model));
    known.add(modelClass(model));
  }
  const base = baseModel(name.trim());
  if (known.has(base) || known.has(modelClass(base))) return undefined;
  const digits = (x: string) => x.replace(/[^0-9]/g, '');
  const sameVersions = [...known].filter((k) => digits(k) === digits(base));
  return closestName(base, sameVersions);
}

/**
 * `prices.<model>`: `input_per_mtok` and `output_per_mtok` are required; the cache rates are
 * optional and default to the API's usual multiples of the input rate (5-minute write 1.25x, 1-hour
 * write 2x, read 0.1x; docs/config.md), rounded to a billionth of a dollar so 0.1 x 3 is 0.3.
 */
function parsePrices(v: Validator, raw: unknown): Settings['prices'] {
  const prices: Settings['prices'] = {};
  for (const [model, entry] of Object.entries(v.mapping(raw, 'prices'))) {
    const k = `prices.${model}`;
    const price = v.mapping(entry, k);
    v.onlyKeys(price, k, ['input_per_mtok', 'output_per_mtok', ...Object.keys(CACHE_MULTIPLES)]);
    const usd = (key: string) => v.number(price[key], `${k}.${key}`, 'a number >= 0', (n) => n >= 0);
    const required = (key: string) => {
      if (price[key] === undefined) throw v.error(`${k}.${key}`, 'missing: give both input_per_mtok and output_per_mtok (US$ per million tokens)');
      return usd(key);
    };
    const input = required('input_per_mtok');
    const cache = (key: keyof typeof CACHE_MULTIPLES) =>
      price[key] === undefined ? Math.round(input * CACHE_MULTIPLES[key] * 1e9) / 1e9 : usd(key);
    prices[model] = {
      inputPerMTok: input,
      outputPerMTok: required('output_per_mtok'),
      cacheWrite5mPerMTok: cache('cache_write_5m_per_mtok'),
      cacheWrite1hPerMTok: cache('cache_write_1h_per_mtok'),
      cacheReadPerMTok: cache('cache_read_per_mtok'),
    };
  }
  return prices;
}

/** The cache rates a `prices:` entry may omit, as multiples of its input rate (the API's usual ones). */
const CACHE_MULTIPLES = {
  cache_write_5m_per_mtok: 1.25,
  cache_write_1h_per_mtok: 2,
  cache_read_per_mtok: 0.1,
} as const;

function parseJson(file: string, text: string): unknown {
  try {
    return text.trim() === '' ? null : JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
    throw new ConfigError(file, undefined, `invalid JSON${line ? ` at line ${line}` : ''}: ${message}`);
  }
}

/** yaml, loaded the first time a config file is read: most runs have none, and it is 70 ms to load. */
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

function parseYaml(file: string, text: string): unknown {
  const doc = yaml().parseDocument(text);
  const first = doc.errors[0];
  if (first) {
    // yaml's message is "<problem> at line L, column C:" followed by an excerpt; keep the problem.
    const line = first.linePos?.[0].line;
    const problem = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(file, undefined, `YAML syntax error${line ? ` at line ${line}` : ''}: ${problem}`);
  }
  return doc.toJS();
}

const isPositiveInt = (n: number) => Number.isInteger(n) && n >= 1;
const isNonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0;

/** Type checks that fail with the file and the dotted key path of the bad value. */
class Validator {
  constructor(private readonly file: string) {}

  error(key: string, problem: string): ConfigError {
    return new ConfigError(this.file, key || undefined, problem);
  }

  mapping(x: unknown, key: string): Json {
    if (typeof x === 'object' && x !== null && !Array.isArray(x)) return x as Json;
    throw this.error(key, `expected a mapping of keys to values, got ${got(x)}`);
  }

  onlyKeys(obj: Json, key: string, allowed: string[]): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) throw this.error(join(key, shortened(k, 40)), `unknown key (expected one of: ${allowed.join(', ')})`);
    }
  }

  optional<T>(x: unknown, key: string, check: (x: unknown, key: string) => T): T | undefined {
    return x === undefined ? undefined : check(x, key);
  }

  /** A key accepted at the top level or under `providers.anthropic`, but not in both. */
  oneOf<T>(top: Json, provider: Json, name: string, providerKey: string, check: (x: unknown, key: string) => T): T | undefined {
    if (top[name] !== undefined && provider[name] !== undefined) {
      throw this.error(`${providerKey}.${name}`, `is also set at the top level; set ${name} in one place`);
    }
    return top[name] !== undefined ? check(top[name], name) : this.optional(provider[name], `${providerKey}.${name}`, check);
  }

  /** A key with an accepted alternative spelling (`max_itpm` / `itpm`). */
  alias<T>(obj: Json, key: string, name: string, other: string, check: (x: unknown, key: string) => T): T | undefined {
    if (obj[name] !== undefined && obj[other] !== undefined) {
      throw this.error(join(key, other), `is the same setting as ${name}; give one of them`);
    }
    return obj[name] !== undefined ? check(obj[name], join(key, name)) : this.optional(obj[other], join(key, other), check);
  }

  number(x: unknown, key: string, expected: string, ok: (n: number) => boolean): number {
    if (typeof x === 'number' && Number.isFinite(x) && ok(x)) return x;
    throw this.error(key, `expected ${expected}, got ${got(x)}`);
  }

  text(x: unknown, key: string): string {
    if (typeof x === 'string' && x.trim() !== '') return x;
    throw this.error(key, `expected a non-empty string, got ${got(x)}`);
  }

  /** `local`, `off` or a Redis URL; a bad one is named with its password masked. */
  sharedLimits(x: unknown, key: string): string {
    if (typeof x === 'string' && isSharedLimitsValue(x.trim())) return x.trim();
    const shown = typeof x === 'string' ? JSON.stringify(maskUrlPassword(x)) : got(x);
    throw this.error(key, `expected local, off, or a redis:// or rediss:// URL, got ${shown}`);
  }

  choice<T extends string>(x: unknown, key: string, choices: readonly T[]): T {
    if (typeof x === 'string' && (choices as readonly string[]).includes(x)) return x as T;
    throw this.error(key, `expected one of ${choices.join(', ')}, got ${got(x)}`);
  }
}

function join(key: string, k: string): string {
  return key ? `${key}.${k}` : k;
}

function got(x: unknown): string {
  if (x === null || x === undefined) return 'nothing';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'object') return 'a mapping';
  return typeof x === 'string' ? quoted(x, 40) : shortened(JSON.stringify(x), 40);
}
