/** The simulator's mutable state, shared by its routes. */
import type { SimulatorCounters } from './counters.js';
import type { ResolvedOptions } from './options.js';
import type { Organizations } from './organizations.js';
import type { BatchStore } from './batch-store.js';
import type { Random } from './random.js';
import type { CacheSettings, PromptCache } from './prompt-cache.js';
import type { TokenBucket } from './token-bucket.js';

export interface SimulatorState {
  options: ResolvedOptions;
  counters: SimulatorCounters;
  /** Each organization's (and workspace's) limits, and which key belongs to which. */
  organizations: Organizations;
  batches: BatchStore;
  /** Prompt-cache entries, shared by /v1/messages and batches. */
  cache: PromptCache;
  /** Fault and latency draws (seeded when `seed` is given). */
  random: Random;
  inFlight: number;
  /** Messages admitted since `spendLimitAfter` was last set: the spend cap counts these. */
  spendUsed: number;
  /** Messages admitted since `billingRefusalAfter` was last set: the billing refusal counts these. */
  billingUsed: number;
  /** Stops the `unseenTraffic` timer, when it runs. */
  stopUnseenTraffic?: () => void;
  /** Batch-create calls since `failBatchCreates` was last set: its indexes count these. */
  createCallsSinceFailSet: number;
  /** `batchRpm`'s bucket per organization. */
  batchBuckets: Map<string, TokenBucket>;
}

export const cacheSettings = (state: SimulatorState): CacheSettings => ({
  minTokens: state.options.cacheMinTokens,
  ttlScale: state.options.cacheTtlScale,
});
