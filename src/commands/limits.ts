/**
 * `claw-batch limits`: for the current key (`ANTHROPIC_API_KEY` against `ANTHROPIC_BASE_URL`), the
 * organization it belongs to (as the API's answers named it: the shared store's link, else this
 * machine's key-links.json) with the keys seen drawing from it, each model class's limits, its
 * bucket levels now, any 429 pause, and the processes sharing them with the key each uses, read
 * from the shared limit store (`--shared-limits`, default `local`). `--json` prints one object on
 * stdout. Only fingerprints of keys are shown, never a key. Asks nothing of the API.
 */
import type { CommandContext } from './context.js';
import { baseUrlFromEnv } from '../base-url.js';
import { loadSettings } from '../config.js';
import { ExitCode, MissingApiKeyError } from '../errors.js';
import { accountFingerprint, normalizeBaseUrl } from '../limits/account-key.js';
import { readKeyLink } from '../limits/learned-limits.js';
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
    const keyId = accountFingerprint(apiKey, normalizeBaseUrl(baseURL));
    const link = (await store.linkOf(keyId)) ?? (await readKeyLink(stateDir(ctx.env), keyId));
    const report = await describeLimits(store, link?.account ?? keyId, {}, undefined, { link, keyId });
    ctx.stdout.write(options.json ? `${JSON.stringify(limitsJson(report))}\n` : `${formatLimits(report).join('\n')}\n`);
  } finally {
    await store.close();
  }
  return ExitCode.ok;
}
