/**
 * `claw-batch limits`: for the current key (`ANTHROPIC_API_KEY` against `ANTHROPIC_BASE_URL`),
 * each model class's limits, its bucket levels now, any 429 pause, and the processes sharing them,
 * read from the shared limit store (`--shared-limits`, default `local`). `--json` prints one object
 * on stdout. Only the account's fingerprint is shown, never the key. Asks nothing of the API.
 */
import type { CommandContext } from './context.js';
import { baseUrlFromEnv } from '../base-url.js';
import { loadSettings } from '../config.js';
import { ExitCode, MissingApiKeyError } from '../errors.js';
import { accountFingerprint } from '../limits/account-key.js';
import { describeLimits, formatLimits, limitsJson } from '../limits/describe-limits.js';
import { openLimitStore, sharedLimitsSource } from '../limits/open-store.js';
import { registerSecret } from '../secrets.js';
import { stateDir } from '../state-dir.js';

export interface LimitsOptions {
  /** `--shared-limits`: `local`, `off` or a Redis URL. Default: the setting (env, config, else `local`). */
  sharedLimits?: string;
  /** Config file. Default: `./claw-batch.config.yaml` (or `.yml`/`.json`) when present. */
  config?: string;
  json?: boolean;
}

export async function limits(options: LimitsOptions, ctx: CommandContext): Promise<number> {
  const apiKey = ctx.env.ANTHROPIC_API_KEY;
  if (!apiKey) throw new MissingApiKeyError();
  registerSecret(apiKey);
  const baseURL = baseUrlFromEnv(ctx.env); // the account is keyed by it: a malformed one would show another
  const settings = await loadSettings({ sharedLimits: options.sharedLimits }, { env: ctx.env, cwd: ctx.cwd, configPath: options.config });
  const store = await openLimitStore({
    sharedLimits: settings.sharedLimits,
    source: sharedLimitsSource(settings),
    stateDir: stateDir(ctx.env),
  });
  try {
    const report = await describeLimits(store, accountFingerprint(apiKey, baseURL));
    ctx.stdout.write(options.json ? `${JSON.stringify(limitsJson(report))}\n` : `${formatLimits(report).join('\n')}\n`);
  } finally {
    await store.close();
  }
  return ExitCode.ok;
}
