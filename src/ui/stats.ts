/**
 * The live numbers of a run, as the scheduler (or the batch poller) keeps them and the progress
 * display and final summary show them.
 */
export interface RateLimits {
  rpm?: number;
  itpm?: number;
  otpm?: number;
}

export interface RunStats {
  /** Items in the input. */
  total: number;
  /** Items that already succeeded in the output file before this run (resume); counted in `done` and `succeeded` too. */
  skipped: number;
  /** Items with a final result line (skipped included). */
  done: number;
  succeeded: number;
  errored: number;
  /** Answers that failed their schema and were asked again (each paid for). */
  schemaRetries: number;
  /** Attempts beyond each item's first. */
  retried: number;
  /** 429 answers received. */
  rateLimited: number;
  /** 500/529/dropped-connection/timeout answers received. */
  faults: number;
  /** HTTP requests sent (attempts). */
  requestsSent: number;
  inFlight: number;
  /** ms since epoch when the run started sending. */
  startedAt: number;
  /** Input tokens the API counted: `input_tokens` (the uncached part). */
  inputTokens: number;
  outputTokens: number;
  /** `cache_creation_input_tokens`: prompt prefixes written to the cache (they count as input for ITPM). */
  cacheWriteTokens: number;
  /** `cache_read_input_tokens`: prefixes read from the cache (free of ITPM, a tenth of the price). */
  cacheReadTokens: number;
  /** What the run is waiting for right now, if anything notable: `429 pause 12s`, `output tokens 4s`. */
  waiting?: string;
  /** While a 429 pauses the run (every request of a class waits out its `retry-after`): when the pause ends, ms since epoch. */
  pausedUntil?: number;
  /** Live rates over the last few seconds, per minute. */
  requestsPerMinute: number;
  inputTokensPerMinute: number;
  outputTokensPerMinute: number;
  /** The limits in force (given, or learned from the API's headers). */
  limits: RateLimits;
  /** Seconds to finish at the current pace, when known. */
  etaSeconds?: number;
}

export function emptyStats(total: number, limits: RateLimits = {}): RunStats {
  return {
    total,
    skipped: 0,
    done: 0,
    succeeded: 0,
    errored: 0,
    schemaRetries: 0,
    retried: 0,
    rateLimited: 0,
    faults: 0,
    requestsSent: 0,
    inFlight: 0,
    startedAt: Date.now(),
    inputTokens: 0,
    outputTokens: 0,
    cacheWriteTokens: 0,
    cacheReadTokens: 0,
    requestsPerMinute: 0,
    inputTokensPerMinute: 0,
    outputTokensPerMinute: 0,
    limits,
  };
}
