/** What the simulator saw, for tests and benchmarks to assert on (also at `GET /_sim/counters`). */

/** One model class's share of the counters (class names: see model-classes.ts). */
export interface ClassCounters {
  requests: number;
  succeeded: number;
  rateLimited: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/** One organization's (or workspace's) share of the counters. */
export interface OrganizationCounters {
  requests: number;
  succeeded: number;
  rateLimited: number;
  inputTokens: number;
  outputTokens: number;
  /** Epoch ms of its first and latest request. */
  firstRequestAt?: number;
  lastRequestAt?: number;
}

/** 429s for a rate limit, by the limit that refused (the one with the longest wait). */
export interface RateLimitedBy {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

export interface SimulatorCounters {
  /** Every POST /v1/messages received, whatever its answer. */
  requests: number;
  /** /v1/messages answered 200. */
  succeeded: number;
  /** 429s: rate limit and spend cap. */
  rateLimited: number;
  /** Rate-limit 429s (not the spend cap) by the limit that refused. */
  rateLimitedBy: RateLimitedBy;
  /** Answers with these statuses, from any endpoint (`/_sim/*` aside). */
  status500: number;
  status529: number;
  /** Connections destroyed without an answer (the dropRate fault). */
  dropped: number;
  /** Requests accepted and never answered (the hangRate fault). */
  hung: number;
  /** Streams that stopped sending mid-answer (the stallRate fault). */
  stalled: number;
  /** Streaming answers started (200 with an event stream). */
  streamed: number;
  /** Admitted answers whose client went away before the end (timeout, disconnect mid-stream); not served, the rest of their output not charged. */
  clientAborts: number;
  status401: number;
  status400: number;
  /** 402 `billing_error` (the billing-error refusal). */
  status402: number;
  status404: number;
  /** Most /v1/messages requests being handled at once. */
  peakInFlight: number;
  /** Token usage of succeeded /v1/messages replies. */
  inputTokens: number;
  outputTokens: number;
  /** Succeeded replies that wrote to / read from the prompt cache, and the tokens they wrote / read. */
  cacheWrites: number;
  cacheReads: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** Per model class: every /v1/messages request naming a model of the class, and its usage. */
  byClass: Record<string, ClassCounters>;
  /**
   * Per organization id (`<organization>/<workspace>` for a key of a workspace with limits of its
   * own): requests, answers, rate-limit 429s, and tokens counted against the limits (input + cache
   * writes; output).
   */
  byOrganization: Record<string, OrganizationCounters>;
  /** Traffic of another tool on the organization that the client never sees (`unseenTraffic`). */
  unseen: { sent: number; refused: number; outputTokens: number };
  /** Successful replies per prompt, keyed by `promptKey(params)`: each item once means 1 each. */
  successesByPrompt: Record<string, number>;
  /** Epoch ms of the first and last POST /v1/messages. */
  firstRequestAt?: number;
  lastRequestAt?: number;
  /** Batches created, and batch-create calls received (including refused ones). */
  batchesCreated: number;
  batchCreateCalls: number;
  /** Batch creates refused because the processing queue would pass `batchQueueLimit`. */
  batchQueueRefusals: number;
  /** Most requests the processing queue held right after a create. */
  batchQueuePeak: number;
  /** Calls to the batch endpoints (any), and those refused by `batchRpm` (not in `rateLimited`, which is Messages). */
  batchRequests: number;
  batchRateLimited: number;
}

export function emptyCounters(): SimulatorCounters {
  return {
    requests: 0,
    succeeded: 0,
    rateLimited: 0,
    rateLimitedBy: { requests: 0, inputTokens: 0, outputTokens: 0 },
    status500: 0,
    status529: 0,
    dropped: 0,
    hung: 0,
    stalled: 0,
    streamed: 0,
    clientAborts: 0,
    status401: 0,
    status400: 0,
    status402: 0,
    status404: 0,
    peakInFlight: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheWrites: 0,
    cacheReads: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    byClass: {},
    byOrganization: {},
    unseen: { sent: 0, refused: 0, outputTokens: 0 },
    successesByPrompt: {},
    batchesCreated: 0,
    batchCreateCalls: 0,
    batchQueueRefusals: 0,
    batchQueuePeak: 0,
    batchRequests: 0,
    batchRateLimited: 0,
  };
}

/** Counts an error answer under its status. */
export function countStatus(counters: SimulatorCounters, status: number): void {
  if (status === 400) counters.status400++;
  else if (status === 401) counters.status401++;
  else if (status === 402) counters.status402++;
  else if (status === 404) counters.status404++;
  else if (status === 429) counters.rateLimited++;
  else if (status === 500) counters.status500++;
  else if (status === 529) counters.status529++;
}

/** The class's counters, created at zero on first use. */
export function classCounters(counters: SimulatorCounters, className: string): ClassCounters {
  let c = counters.byClass[className];
  if (!c) {
    c = { requests: 0, succeeded: 0, rateLimited: 0, inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
    counters.byClass[className] = c;
  }
  return c;
}

/** The organization's counters, created at zero on first use. */
export function organizationCounters(counters: SimulatorCounters, id: string): OrganizationCounters {
  let c = counters.byOrganization[id];
  if (!c) {
    c = { requests: 0, succeeded: 0, rateLimited: 0, inputTokens: 0, outputTokens: 0 };
    counters.byOrganization[id] = c;
  }
  return c;
}

/** A deep copy, so a caller's snapshot does not change under it. */
export function copyCounters(c: SimulatorCounters): SimulatorCounters {
  const byClass: Record<string, ClassCounters> = {};
  for (const [name, counts] of Object.entries(c.byClass)) byClass[name] = { ...counts };
  const byOrganization: Record<string, OrganizationCounters> = {};
  for (const [id, counts] of Object.entries(c.byOrganization)) byOrganization[id] = { ...counts };
  return { ...c, rateLimitedBy: { ...c.rateLimitedBy }, byClass, byOrganization, unseen: { ...c.unseen }, successesByPrompt: { ...c.successesByPrompt } };
}
