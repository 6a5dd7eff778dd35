/**
 * The one place that chooses the limit store, from `Settings.sharedLimits` (flag
 * `--shared-limits` > env `CLAW_BATCH_SHARED_LIMITS` > config `providers.anthropic.rate_limit.shared`
 * > `local`):
 * - `off`: memory-store.ts, this process alone;
 * - `local`: sqlite-store.ts on `<stateDir>/limits.sqlite`, behind fallback-store.ts;
 * - `redis://…`, `rediss://…`: redis-store.ts, behind fallback-store.ts.
 *
 * A shared store that cannot be used at the start is a `UsageError` (exit 2, nothing was sent)
 * naming it, with any password masked. Once running, a failing store never stops the run: the
 * fallback paces alone at a fair share until the store is back.
 */
import { settingSource, type Settings } from '../config.js';
import { InvalidOptionError, UsageError } from '../errors.js';
import { isSharedLimitsValue } from '../options.js';
import { maskUrlPassword, registerSecret } from '../secrets.js';
import { FallbackStore } from './fallback-store.js';
import type { LimitStore } from './limit-store.js';
import { MemoryStore } from './memory-store.js';

export interface OpenLimitStoreOptions {
  /** `local`, `off`, or a `redis://` / `rediss://` URL (Settings.sharedLimits). */
  sharedLimits: string;
  /** Where the value came from, for messages. Default `--shared-limits`. */
  source?: string;
  /** The state dir that holds the `local` store's file (src/state-dir.ts). */
  stateDir: string;
  /** Told, once each, when a shared store fails mid-run and when it is back. Default: nothing. */
  onNotice?: (message: string) => void;
  /** While pacing alone: how often to try the shared store again. Default 3000 ms. */
  retryEveryMs?: number;
  /** `local`: how long a call waits for another process's transaction. Default 1000 ms. */
  busyTimeoutMs?: number;
  /** `redis`: the longest a call waits for an answer. Default 1000 ms. */
  commandTimeoutMs?: number;
}

/**
 * `local`: a settle is written with the process's next take, or after this long: one SQLite
 * transaction per request instead of two; other processes see the correction 20 ms later at most.
 */
const DEFER_WRITES_MS = 20;

export async function openLimitStore(options: OpenLimitStoreOptions): Promise<LimitStore> {
  const value = options.sharedLimits.trim();
  const source = options.source ?? '--shared-limits';
  if (!isSharedLimitsValue(value)) {
    throw new InvalidOptionError(source, maskUrlPassword(value), 'local, off, or a redis:// or rediss:// URL');
  }
  if (value === 'off') return new MemoryStore();
  const fallback = (shared: LimitStore) => new FallbackStore(shared, { onNotice: options.onNotice, retryEveryMs: options.retryEveryMs });

  if (value === 'local') {
    // Loaded only when chosen: every command imports this file, few need a store.
    const { SqliteStore, sqliteFileIn } = await import('./sqlite-store.js');
    const file = sqliteFileIn(options.stateDir);
    try {
      return fallback(new SqliteStore({ file, busyTimeoutMs: options.busyTimeoutMs, deferWritesMs: DEFER_WRITES_MS }));
    } catch (err) {
      const why = err instanceof Error ? err.message.replace(`${file}: `, '') : String(err);
      throw new UsageError(
        `cannot use the shared limit store at ${file}: ${why} (${source} local); it holds only pacing state, so it may be deleted, or use --shared-limits off`,
      );
    }
  }

  const { RedisStore, redisOptionsFromUrl } = await import('./redis-store.js');
  const where = maskUrlPassword(value);
  try {
    const password = redisOptionsFromUrl(value).password;
    registerSecret(password);
  } catch (err) {
    throw new UsageError(`Invalid value for ${source}: ${where}: ${(err as Error).message}`);
  }
  try {
    return fallback(await RedisStore.connect({ url: value, commandTimeoutMs: options.commandTimeoutMs }));
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(`${where}: `, '') : String(err);
    throw new UsageError(`cannot reach the shared limit store at ${where}: ${why} (${source})`);
  }
}

/** Names where `sharedLimits` came from, for messages: the flag, the variable or the config key. */
export function sharedLimitsSource(settings: Settings): string {
  return settingSource(settings, 'sharedLimits', {
    flag: '--shared-limits',
    env: 'CLAW_BATCH_SHARED_LIMITS',
    file: 'providers.anthropic.rate_limit.shared',
  });
}
