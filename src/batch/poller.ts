/**
 * Asks the API how a job's batches are doing. Transient failures (429, 5xx, 529, a dropped
 * connection) are retried with backoff: a poll that runs for hours must not die of one bad answer.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { NotFoundError } from '@anthropic-ai/sdk/core/error';
import { StoppedError, UsageError } from '../errors.js';
import type { JobManifest } from './manifest.js';
import { sleep } from '../sleep.js';
import { withRetry, type RetryOptions } from './transient.js';
import { quoted } from '../quote.js';

export type MessageBatch = Anthropic.Messages.MessageBatch;
export type RequestCounts = Anthropic.Messages.MessageBatchRequestCounts;

export async function retrieveBatches(client: Anthropic, ids: string[], retry: RetryOptions = {}): Promise<MessageBatch[]> {
  const out: MessageBatch[] = [];
  for (const id of ids) {
    try {
      out.push(await withRetry(() => client.messages.batches.retrieve(id), retry));
    } catch (err) {
      if (err instanceof NotFoundError) throw new UsageError(`the API knows no batch ${id} (deleted, or made with another key or workspace)`);
      throw err;
    }
  }
  return out;
}

export function totalCounts(batches: MessageBatch[]): RequestCounts {
  const t: RequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const b of batches) {
    for (const k of Object.keys(t) as (keyof RequestCounts)[]) t[k] += b.request_counts[k];
  }
  return t;
}

export function allEnded(batches: MessageBatch[]): boolean {
  return batches.every((b) => b.processing_status === 'ended');
}

/** Copies what the API said into the manifest's records, and moves the job to `ended` when it is. */
export function recordStatus(manifest: JobManifest, batches: MessageBatch[]): void {
  for (const b of batches) {
    const rec = manifest.batches.find((r) => r.id === b.id);
    if (!rec) continue;
    rec.status = b.processing_status;
    rec.counts = { ...b.request_counts };
    rec.endedAt = b.ended_at ?? undefined;
  }
  if (manifest.state === 'processing' && manifest.batches.every((r) => r.status === 'ended')) manifest.state = 'ended';
}

export function formatBatchLine(b: MessageBatch): string {
  const c = b.request_counts;
  return `${b.id}: ${b.processing_status} — processing ${c.processing}, succeeded ${c.succeeded}, errored ${c.errored}, canceled ${c.canceled}, expired ${c.expired}`;
}

export interface WaitOptions {
  /** First pause between polls, seconds; each pause is 1.5× the last, up to `maxIntervalSeconds`. */
  intervalSeconds: number;
  /** Default 60 (or the first interval, when that is longer). */
  maxIntervalSeconds?: number;
  signal?: AbortSignal;
  /** Poll at once (default), or first wait one interval. */
  pollFirst?: boolean;
  /** Called after every poll, with the batches as the API described them; awaited. */
  onPoll?: (batches: MessageBatch[]) => void | Promise<void>;
  /** Told about each transient failure retried. */
  onRetry?: RetryOptions['onRetry'];
  /**
   * When set, the next poll comes no later than the time it returns (ms since epoch), however long
   * the growing interval has become: `--deadline` must see the batch at its cut-over time.
   */
  pollBy?: () => number | undefined;
  /** More batches are still to be created (the processing queue was full): ended is not the end yet. */
  moreToCome?: () => boolean;
}

/** Polls until every batch has ended. Throws StoppedError('interrupted') when `signal` aborts. */
export async function waitUntilEnded(client: Anthropic, ids: string[] | (() => string[]), options: WaitOptions): Promise<MessageBatch[]> {
  const idsNow = typeof ids === 'function' ? ids : () => ids;
  const maxMs = Math.max(options.maxIntervalSeconds ?? 60, options.intervalSeconds) * 1000;
  let intervalMs = options.intervalSeconds * 1000;
  const retry: RetryOptions = {
    // While waiting on a job that may take a day, a failing API is waited out, not given up on.
    maxAttempts: Infinity,
    baseMs: Math.min(1000, intervalMs),
    maxMs,
    signal: options.signal,
    task: 'waiting for the batches',
    onRetry: options.onRetry,
  };
  if (options.pollFirst === false) {
    await sleep(intervalMs, options.signal);
    intervalMs = Math.min(maxMs, intervalMs * 1.5);
  }
  for (;;) {
    if (options.signal?.aborted) throw new StoppedError('interrupted', 'interrupted while waiting for the batches');
    const polled = idsNow();
    const batches = await retrieveBatches(client, polled, retry);
    await options.onPoll?.(batches);
    // Batches created meanwhile (onPoll may have submitted more) are polled next time round.
    if (allEnded(batches) && !options.moreToCome?.() && idsNow().length === polled.length) return batches;
    const by = options.pollBy?.();
    await sleep(by === undefined ? intervalMs : Math.min(intervalMs, Math.max(200, by - Date.now())), options.signal);
    intervalMs = Math.min(maxMs, intervalMs * 1.5);
  }
}

/** The first polling interval: `CLAW_BATCH_POLL_INTERVAL_S`, else 10 seconds; a bad value is exit 2. */
export function defaultIntervalSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env.CLAW_BATCH_POLL_INTERVAL_S?.trim();
  if (raw === undefined || raw === '') return 10;
  const v = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(v > 0)) throw new UsageError(`Invalid value for CLAW_BATCH_POLL_INTERVAL_S: expected a number of seconds > 0, got ${quoted(raw)}`);
  return v;
}
