/**
 * The usage tiers' Messages limits, the same for every model class (platform.claude.com/docs/en/api/rate-limits,
 * 2026). `tier` presets them; explicit `rpm`/`itpm`/`otpm`/`classLimits` win over the preset.
 */

export type Tier = 'start' | 'build' | 'scale';

export interface ClassLimitSet {
  /** Requests per minute. */
  rpm?: number;
  /** Input tokens per minute: `input_tokens + cache_creation_input_tokens`. */
  itpm?: number;
  /** Output tokens per minute, counted as they are produced. */
  otpm?: number;
}

export const TIERS: Readonly<Record<Tier, Required<ClassLimitSet>>> = {
  start: { rpm: 1_000, itpm: 2_000_000, otpm: 400_000 },
  build: { rpm: 5_000, itpm: 5_000_000, otpm: 1_000_000 },
  scale: { rpm: 10_000, itpm: 10_000_000, otpm: 2_000_000 },
};

export const TIER_NAMES = Object.keys(TIERS) as Tier[];

/** Requests the Message Batches processing queue may hold, shared by all models. */
export const BATCH_QUEUE_LIMITS: Readonly<Record<Tier, number>> = { start: 200_000, build: 300_000, scale: 500_000 };
