/** The wrapped client's options, their defaults, and the checks they get at once. */
import { InvalidOptionError } from '../errors.js';
import { isSharedLimitsValue } from '../options.js';
import { DEFAULT_MAX_WAIT_MS } from '../proxy/index.js';
import { maskUrlPassword } from '../secrets.js';
import { stateDir } from '../state-dir.js';

export interface WrapClientOptions {
  /**
   * Where the account's budget lives: `local` (every claw-batch process on this machine using the
   * same key, through `<stateDir>/limits.sqlite`), `off` (this process alone) or `redis://…`
   * (every process on every machine using that Redis). Default: env `CLAW_BATCH_SHARED_LIMITS`,
   * else `local` — as `claw-batch run` and `claw-batch proxy` choose it.
   * @example 'redis://localhost:6379/0'
   */
  sharedLimits?: string;
  /**
   * The directory of the `local` store. Default: as the CLI resolves it — `$CLAW_BATCH_STATE_DIR`,
   * else `$XDG_STATE_HOME/claw-batch`, else `~/.local/state/claw-batch`.
   */
  stateDir?: string;
  /** Requests per minute at most, for every model class; the API's headers can only lower it. Default: learned from the API. */
  rpm?: number;
  /** Input tokens per minute at most (uncached input and cache writes). Default: learned from the API. */
  itpm?: number;
  /** Output tokens per minute at most. Default: learned from the API. */
  otpm?: number;
  /**
   * Requests per minute at most to the Message Batches endpoints (create, retrieve, list, results,
   * cancel, delete together): their own limit, apart from the Messages ones. Default: learned from the API.
   */
  batchRpm?: number;
  /** Aborts every call of this client (waiting or in flight); the client stays usable for none after. */
  signal?: AbortSignal;
  /**
   * ms a call may wait for its turn, 429 pauses included, before it fails with RateLimitWaitError.
   * Default 300,000 (as `claw-batch proxy --max-wait`).
   */
  maxWaitMs?: number;
  /**
   * This client's name in the fair queue: callers of one account take turns by name, so a client
   * that sends a thousand requests at once does not hold back another's one. Default `library`.
   */
  name?: string;
  /** Told when a shared store fails mid-way (pacing goes on alone) and when it is back. Default: nothing. */
  onNotice?: (message: string) => void;
}

export interface ResolvedOptions {
  sharedLimits: string;
  sharedLimitsSource: string;
  stateDir: string;
  limits: { rpm?: number; itpm?: number; otpm?: number };
  batchRpm: number | undefined;
  signal: AbortSignal | undefined;
  maxWaitMs: number;
  name: string;
  onNotice: (message: string) => void;
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(name, value, 'a finite number > 0');
  }
  return value;
}

export function resolveOptions(options: WrapClientOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const fromEnv = env.CLAW_BATCH_SHARED_LIMITS || undefined;
  const sharedLimitsSource = options.sharedLimits === undefined && fromEnv !== undefined ? 'CLAW_BATCH_SHARED_LIMITS' : 'sharedLimits';
  const sharedLimits = (options.sharedLimits ?? fromEnv ?? 'local').trim();
  if (!isSharedLimitsValue(sharedLimits)) {
    throw new InvalidOptionError(sharedLimitsSource, maskUrlPassword(sharedLimits), 'local, off, or a redis:// or rediss:// URL');
  }
  return {
    sharedLimits,
    sharedLimitsSource,
    stateDir: options.stateDir ?? stateDir(env),
    limits: { rpm: positive('rpm', options.rpm), itpm: positive('itpm', options.itpm), otpm: positive('otpm', options.otpm) },
    batchRpm: positive('batchRpm', options.batchRpm),
    signal: options.signal,
    maxWaitMs: positive('maxWaitMs', options.maxWaitMs) ?? DEFAULT_MAX_WAIT_MS,
    name: options.name ?? 'library',
    onNotice: options.onNotice ?? (() => undefined),
  };
}
