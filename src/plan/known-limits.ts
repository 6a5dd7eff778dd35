/**
 * The rate limits a plan paces by, the same way for `run` and `submit --dry-run`: the ones given
 * (flags or config) when any is, else those an earlier real-time run learned from the API's headers
 * for this API address (src/realtime/learned-limits.ts), else none (the plan then assumes Tier 1).
 * Unlike the rest of src/plan this reads a file, so it sits apart from the pure functions.
 */
import { readLearnedLimits } from '../realtime/learned-limits.js';
import { stateDir } from '../state-dir.js';
import type { PlanInput } from './index.js';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** The API address learned limits are keyed by: `ANTHROPIC_BASE_URL` without trailing slashes, else the SDK's default. */
export function apiBaseUrl(env: NodeJS.ProcessEnv): string {
  return (env.ANTHROPIC_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
}

export async function knownLimits(
  given: PlanInput['limits'],
  env: NodeJS.ProcessEnv,
): Promise<Pick<PlanInput, 'limits' | 'limitsSource'>> {
  if (given.rpm || given.itpm || given.otpm) return { limits: given, limitsSource: 'given' };
  const learned = await readLearnedLimits(stateDir(env), apiBaseUrl(env));
  return learned ? { limits: learned, limitsSource: 'learned' } : { limits: {}, limitsSource: 'none' };
}
