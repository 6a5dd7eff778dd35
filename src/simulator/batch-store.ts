/**
 * Message Batches as the real API models them, without timers: a batch's state is computed from
 * the clock whenever it is read. Processing progresses linearly over `batchMs`; a cancel stops it
 * where it got to, and what it had not reached comes back `canceled`.
 *
 * Prompt caching follows the Messages rules (prompt-cache.ts), with requests processed one after
 * another in the order given: once the batch has ended, the first time it is read, each processed
 * request reads and writes the shared cache in turn, so a later request reads what an earlier one
 * wrote. Its usage is kept, and the results never change after that.
 */
import { randomBytes } from 'node:crypto';
import { checkMessageParams } from './params-check.js';
import { simulatedMessage, type PromptParams, type ReplyTokens, type SimulatedMessage } from './replies.js';
import { type CacheSettings, type CachePlan, type PromptCache } from './prompt-cache.js';
import { promptLayout } from './prompt-layout.js';
import { seededRandom, shuffle, type Random } from './random.js';

/** How long `canceling` lasts before the batch ends. */
export const CANCEL_MS = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface BatchRequest {
  custom_id: string;
  params: unknown;
}

export interface RequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

/** The MessageBatch object, exactly the real API's shape. */
export interface MessageBatchView {
  id: string;
  type: 'message_batch';
  processing_status: 'in_progress' | 'canceling' | 'ended';
  request_counts: RequestCounts;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  cancel_initiated_at: string | null;
  archived_at: string | null;
  results_url: string | null;
}

export type BatchResult =
  | { type: 'succeeded'; message: SimulatedMessage }
  | { type: 'errored'; error: { type: 'error'; error: { type: string; message: string } } }
  | { type: 'canceled' }
  | { type: 'expired' };

interface StoredBatch {
  id: string;
  createdAt: number;
  durationMs: number;
  requests: BatchRequest[];
  /** 1 where the request was drawn to expire. */
  expired: Uint8Array;
  /** 1 where a structured request was drawn to get an answer its schema refuses. */
  invalid: Uint8Array;
  orderSeed: number;
  cancelAt?: number;
  /** The reply settings when the batch was created. */
  replies: BatchReplySettings;
  /** Filled the first time the ended batch is read; results never change after that. */
  counts?: RequestCounts;
  /** How each request's input split over the cache, when any of them used it. */
  cachePlans?: (CachePlan | undefined)[];
}

/** How the batch's replies are made: the Messages options in force at create. */
export interface BatchReplySettings {
  cache: CacheSettings;
  replyTokens?: ReplyTokens;
}

export interface BatchPageQuery {
  limit: number;
  afterId?: string;
  beforeId?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function newBatchId(): string {
  const bytes = randomBytes(24);
  let id = 'msgbatch_';
  for (const b of bytes) id += BASE62[b % 62];
  return id;
}

export class BatchStore {
  /** Insertion order is creation order; listing reverses it (newest first, as the API lists). */
  private readonly batches = new Map<string, StoredBatch>();
  private readonly random: Random;

  constructor(
    seed: number,
    private readonly cache: PromptCache,
  ) {
    this.random = seededRandom(seed ^ 0x5bd1e995);
  }

  create(
    requests: BatchRequest[],
    opts: { now: number; durationMs: number; expireRate: number; invalidStructuredRate?: number; replies: BatchReplySettings },
  ): string {
    const expired = new Uint8Array(requests.length);
    if (opts.expireRate > 0) for (let i = 0; i < requests.length; i++) expired[i] = this.random() < opts.expireRate ? 1 : 0;
    const invalid = new Uint8Array(requests.length);
    const invalidRate = opts.invalidStructuredRate ?? 0;
    if (invalidRate > 0) for (let i = 0; i < requests.length; i++) invalid[i] = this.random() < invalidRate ? 1 : 0;
    const batch: StoredBatch = {
      id: newBatchId(),
      createdAt: opts.now,
      durationMs: opts.durationMs,
      requests,
      expired,
      invalid,
      orderSeed: Math.floor(this.random() * 2 ** 32),
      replies: opts.replies,
    };
    this.batches.set(batch.id, batch);
    return batch.id;
  }

  has(id: string): boolean {
    return this.batches.has(id);
  }

  /** Requests in the processing queue now: those of every batch not yet ended. */
  queued(now: number): number {
    let n = 0;
    for (const b of this.batches.values()) if (now < this.endedAt(b)) n += b.requests.length;
    return n;
  }

  private endedAt(b: StoredBatch): number {
    return b.cancelAt !== undefined ? b.cancelAt + CANCEL_MS : b.createdAt + b.durationMs;
  }

  /**
   * Ends every batch still processing now, as if its processing had just finished (a test's way
   * to say when, instead of racing `batchMs`); a batch being canceled ends as its cancel would.
   */
  endAll(now: number): number {
    let n = 0;
    for (const b of this.batches.values()) {
      if (now >= this.endedAt(b) || b.cancelAt !== undefined) continue;
      b.durationMs = Math.max(0, now - b.createdAt);
      n++;
    }
    return n;
  }

  isEnded(id: string, now: number): boolean {
    const b = this.batches.get(id);
    return b !== undefined && now >= this.endedAt(b);
  }

  /** How many requests processing reached: all, unless canceled part-way. */
  private processedCount(b: StoredBatch): number {
    if (b.cancelAt === undefined || b.durationMs <= 0) return b.requests.length;
    const progress = Math.min(1, (b.cancelAt - b.createdAt) / b.durationMs);
    return Math.floor(b.requests.length * progress);
  }

  private resultAt(b: StoredBatch, i: number, processed: number): BatchResult {
    if (i >= processed) return { type: 'canceled' };
    if (b.expired[i]) return { type: 'expired' };
    const params = b.requests[i]!.params;
    const problem = checkMessageParams(params);
    if (problem) return { type: 'errored', error: { type: 'error', error: { type: problem.type, message: problem.message } } };
    return { type: 'succeeded', message: simulatedMessage(params as object, { cache: b.cachePlans?.[i], replyTokens: b.replies.replyTokens, invalidStructured: b.invalid[i] === 1 }) };
  }

  /** Counts the ended batch's results and runs its requests through the cache, once. */
  private settle(b: StoredBatch, now: number): RequestCounts {
    if (b.counts) return b.counts;
    const counts: RequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    const processed = this.processedCount(b);
    for (let i = 0; i < b.requests.length; i++) {
      if (i >= processed) counts.canceled++;
      else if (b.expired[i]) counts.expired++;
      else if (checkMessageParams(b.requests[i]!.params)) counts.errored++;
      else {
        counts.succeeded++;
        this.useCache(b, i, now);
      }
    }
    b.counts = counts;
    return counts;
  }

  private useCache(b: StoredBatch, i: number, now: number): void {
    const params = b.requests[i]!.params as PromptParams & { model: string };
    const layout = promptLayout(params);
    if (layout.breakpoints.length === 0) return;
    const plan = this.cache.plan(params.model, layout, now, b.replies.cache);
    this.cache.read(plan, now);
    this.cache.commit(plan, now);
    b.cachePlans ??= [];
    b.cachePlans[i] = plan;
  }

  /** The batch as the API shows it now; `origin` (`http://host:port`) makes `results_url` absolute. */
  view(id: string, now: number, origin: string): MessageBatchView | undefined {
    const b = this.batches.get(id);
    if (!b) return undefined;
    const endedAt = this.endedAt(b);
    const ended = now >= endedAt;
    const status = ended ? 'ended' : b.cancelAt !== undefined ? 'canceling' : 'in_progress';
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: status,
      // The real API reports only `processing` until the batch ends.
      request_counts: ended
        ? { ...this.settle(b, now) }
        : { processing: b.requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      created_at: iso(b.createdAt),
      expires_at: iso(b.createdAt + DAY_MS),
      ended_at: ended ? iso(endedAt) : null,
      cancel_initiated_at: b.cancelAt !== undefined ? iso(b.cancelAt) : null,
      archived_at: null,
      results_url: ended ? `${origin}/v1/messages/batches/${b.id}/results` : null,
    };
  }

  /**
   * One page, newest first. `afterId` pages towards older batches; `beforeId` returns the `limit`
   * batches just newer than it. Returns undefined when the cursor names no batch.
   */
  page(query: BatchPageQuery, now: number, origin: string) {
    const ids = [...this.batches.keys()].reverse();
    let start = 0;
    let end = ids.length;
    if (query.afterId !== undefined) {
      const at = ids.indexOf(query.afterId);
      if (at < 0) return undefined;
      start = at + 1;
      end = Math.min(ids.length, start + query.limit);
    } else if (query.beforeId !== undefined) {
      const at = ids.indexOf(query.beforeId);
      if (at < 0) return undefined;
      end = at;
      start = Math.max(0, end - query.limit);
    } else {
      end = Math.min(ids.length, query.limit);
    }
    const data = ids.slice(start, end).map((id) => this.view(id, now, origin)!);
    const hasMore = query.beforeId !== undefined ? start > 0 : end < ids.length;
    return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }

  /** Starts canceling an unfinished batch; an ended one is left as it is. */
  cancel(id: string, now: number): void {
    const b = this.batches.get(id);
    if (b && b.cancelAt === undefined && now < this.endedAt(b)) b.cancelAt = now;
  }

  delete(id: string): void {
    this.batches.delete(id);
  }

  /** Every result line of an ended batch, in a shuffled (seeded) order, as the API gives no order. */
  *results(id: string, now: number): Generator<{ custom_id: string; result: BatchResult }> {
    const b = this.batches.get(id);
    if (!b) return;
    this.settle(b, now);
    const processed = this.processedCount(b);
    const order = shuffle(Array.from(b.requests.keys()), seededRandom(b.orderSeed));
    for (const i of order) yield { custom_id: b.requests[i]!.custom_id, result: this.resultAt(b, i, processed) };
  }
}
