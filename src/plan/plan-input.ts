/**
 * What a plan needs, gathered the same way for `run` and `submit --dry-run`: per model class, the
 * limits given (flags or config) where given, else those an earlier run learned from the API's
 * headers for this key and class (src/limits/learned-limits.ts), else the Start tier — said as
 * such; and the output per answer an earlier run saw. Unlike the rest of src/plan this reads a
 * file, so it sits apart from the pure functions.
 */
import type { Settings } from '../config.js';
import type { PreparedInput } from '../input/index.js';
import { accountFingerprint, normalizeBaseUrl } from '../limits/account-key.js';
import { readKeyLink, readLearnedLimits, type LearnedClass } from '../limits/learned-limits.js';
import { modelClass } from '../limits/model-class.js';
import type { RateLimits } from '../limits/types.js';
import { stateDir } from '../state-dir.js';
import { existsSync } from 'node:fs';
import type { LimitStore } from '../limits/limit-store.js';
import { START_TIER, type PlanInput } from './index.js';
import type { LimitsSource, PlanClass } from './realtime-estimate.js';

/** The key's fingerprint: undefined without a key (nothing can be learned then). */
export function keyIdOf(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN;
  return key ? accountFingerprint(key, env.ANTHROPIC_BASE_URL) : undefined;
}

/**
 * The account whose learned limits apply: the organization the key was seen to belong to (the
 * local store's link, else key-links.json), else the key's own.
 */
async function accountOf(env: NodeJS.ProcessEnv, store: LimitStore | undefined): Promise<string | undefined> {
  const keyId = keyIdOf(env);
  if (!keyId) return undefined;
  const link = (await store?.linkOf(keyId).catch(() => undefined)) ?? (await readKeyLink(stateDir(env), keyId));
  return link?.account ?? keyId;
}

export async function planInput(
  prepared: Pick<PreparedInput, 'count' | 'byModel'>,
  settings: Settings,
  env: NodeJS.ProcessEnv,
  choice: Pick<PlanInput, 'urgent' | 'mode'>,
): Promise<PlanInput> {
  // A run still going on this machine has learned limits the file gets only when it ends: the
  // local store has them now. Read only; anything amiss with it leaves the plan to the file.
  const store = keyIdOf(env) && settings.sharedLimits === 'local' ? await openLocalStoreForReading(env) : undefined;
  const account = await accountOf(env, store);
  const learned = account ? await readLearnedLimits(stateDir(env), account) : new Map<string, LearnedClass>();
  const sharedLearned = async (cls: string): Promise<RateLimits> =>
    store && account ? await store.getLearned({ account, modelClass: cls }).catch(() => ({})) : {};
  const classes = new Map<string, PlanClass>();
  for (const [model, share] of Object.entries(prepared.byModel)) {
    const cls = modelClass(model);
    let c = classes.get(cls);
    if (!c) {
      const own = settings.classLimits[cls] ?? {};
      const given: RateLimits = { rpm: own.rpm ?? settings.rpm, itpm: own.itpm ?? settings.itpm, otpm: own.otpm ?? settings.otpm };
      const known = learned.get(cls);
      const { limits, source, assumed } = resolveLimits(given, { ...known, ...(await sharedLearned(cls)) });
      c = { modelClass: cls, items: 0, promptChars: 0, maxTokens: 0, limits, limitsSource: source, assumedLimits: assumed, expectedOutput: known?.outputMean };
      classes.set(cls, c);
    }
    c.items += share.items;
    c.promptChars += share.promptChars;
    c.maxTokens += share.maxTokens;
  }
  await store?.close().catch(() => undefined);
  return {
    items: prepared.count,
    classes: [...classes.values()],
    byModel: prepared.byModel,
    urgent: choice.urgent,
    mode: choice.mode,
    thresholdMinutes: settings.realtimeThresholdMinutes,
    smallJobItems: settings.smallJobItems,
    priceOverrides: settings.prices,
  };
}

/** Each limit from the strongest source that has it; the class's source is the weakest one used. */
function resolveLimits(given: RateLimits, learned: RateLimits | undefined): { limits: RateLimits; source: LimitsSource; assumed: Array<keyof RateLimits> } {
  const limits: RateLimits = {};
  const rank: Record<LimitsSource, number> = { given: 0, learned: 1, assumed: 2 };
  let source: LimitsSource = 'given';
  const assumed: Array<keyof RateLimits> = [];
  for (const k of ['rpm', 'itpm', 'otpm'] as const) {
    let from: LimitsSource;
    if (given[k]) [limits[k], from] = [given[k], 'given'];
    else if (learned?.[k]) [limits[k], from] = [learned[k], 'learned'];
    else {
      [limits[k], from] = [START_TIER[k], 'assumed'];
      assumed.push(k);
    }
    if (rank[from] > rank[source]) source = from;
  }
  return { limits, source, assumed };
}

async function openLocalStoreForReading(env: NodeJS.ProcessEnv): Promise<LimitStore | undefined> {
  try {
    // Loaded only when there is a file to read: better-sqlite3 is a native module, slow to load.
    const { SqliteStore, sqliteFileIn } = await import('../limits/sqlite-store.js');
    const file = sqliteFileIn(stateDir(env));
    if (!existsSync(file)) return undefined;
    return new SqliteStore({ file, busyTimeoutMs: 200 });
  } catch {
    return undefined;
  }
}
