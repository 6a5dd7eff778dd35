/**
 * Following a job to its end, shared by `poll --wait` and `run` in batch mode: poll with a growing
 * interval while showing progress (elapsed, batches ended, counts), then stream the results out.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ResultType } from '../output/index.js';
import type { EventLog } from '../report/event-log.js';
import type { ResultLine } from '../types.js';
import { formatCount, formatDuration } from '../ui/format.js';
import { emptyStats, type RunStats } from '../ui/stats.js';
import { saveManifest, type JobManifest } from './manifest.js';
import { recordStatus, totalCounts, waitUntilEnded, type MessageBatch } from './poller.js';
import { writeResults, type BatchToRead, type ResultSink, type ResultTally, type WriteResultsOptions } from './results.js';
import { queueHasRoom } from './submitter.js';
import { describeError, withRetry } from './transient.js';

/** The part of the ui Progress this layer uses. */
export interface ProgressLike {
  update(stats: RunStats): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface FollowOptions {
  client: Anthropic;
  env: NodeJS.ProcessEnv;
  /** Updated (status, counts) and saved after every poll; undefined for a bare msgbatch_ id. */
  manifest?: JobManifest;
  batchIds: string[];
  /** Items in the job, for the progress display. */
  total: number;
  intervalSeconds: number;
  progress: ProgressLike;
  signal?: AbortSignal;
  /** Poll at once (default), or first wait one interval (the caller has just polled). */
  pollFirst?: boolean;
  /**
   * `--deadline`: asked after every poll; a reason (for the log) means cancel the batches still in
   * progress now — what they processed comes back as results, the rest as `canceled` — and go on
   * polling until they have ended.
   */
  cutOver?: (batches: MessageBatch[]) => string | undefined;
  /** With `cutOver`: the time the next poll must come by (its cut-over time); see WaitOptions.pollBy. */
  pollBy?: () => number | undefined;
  /** The run's event log: the batches' counts at every poll, and the cut-over. */
  events?: Pick<EventLog, 'sample' | 'batchProgress' | 'mark'>;
  /**
   * A job the full processing queue left `submitting` (see SubmitJobOptions.deferWhenQueueFull):
   * creates what it can of the rest. Called after a poll once the queue may have room
   * (`queueHasRoom`); the batches it creates are polled from then on, and the wait ends only when
   * the whole job is created and has ended (or a cut-over stops it creating more).
   */
  submitRest?: () => Promise<void>;
}

/** The live numbers for the progress display: an ended batch's counts are final. */
export function statsOf(batches: MessageBatch[], total: number, startedAt: number): RunStats {
  const c = totalCounts(batches);
  const stats = emptyStats(total);
  stats.startedAt = startedAt;
  stats.succeeded = c.succeeded;
  stats.errored = c.errored + c.expired + c.canceled;
  stats.done = stats.succeeded + stats.errored;
  return stats;
}

/** Cancels every batch still in progress (retrying transient failures); the ended ones are left alone. */
async function cancelInProgress(client: Anthropic, batches: MessageBatch[], signal: AbortSignal | undefined): Promise<void> {
  for (const b of batches) {
    if (b.processing_status !== 'in_progress') continue;
    await withRetry(() => client.messages.batches.cancel(b.id), { signal, task: `canceling ${b.id}` });
  }
}

export function describeProgress(batches: MessageBatch[], elapsedMs: number): string {
  const c = totalCounts(batches);
  const ended = batches.filter((b) => b.processing_status === 'ended').length;
  // Short enough for an 80-column terminal; the failure kinds only when there are any.
  const failed = [
    c.errored ? `${formatCount(c.errored)} errored` : '',
    c.canceled ? `${formatCount(c.canceled)} canceled` : '',
    c.expired ? `${formatCount(c.expired)} expired` : '',
  ].filter(Boolean);
  return [
    `${formatDuration(elapsedMs)} elapsed`,
    `${ended}/${batches.length} batches ended`,
    `${formatCount(c.processing)} processing`,
    `${formatCount(c.succeeded)} ok`,
    ...failed,
  ].join(' · ');
}

/** Polls until every batch has ended; throws StoppedError('interrupted') when `signal` aborts. */
export async function waitWithProgress(options: FollowOptions): Promise<MessageBatch[]> {
  const startedAt = Date.now();
  let cutOver = false;
  const manifest = options.manifest;
  const submitting = () => options.submitRest !== undefined && !cutOver && manifest?.state === 'submitting';
  const ids = manifest && options.submitRest ? () => manifest.batches.map((b) => b.id) : options.batchIds;
  const batches = await waitUntilEnded(options.client, ids, {
    moreToCome: submitting,
    intervalSeconds: options.intervalSeconds,
    signal: options.signal,
    pollFirst: options.pollFirst,
    // Once canceled, look again soon: the rest can only go out in real time after the batch has ended.
    pollBy: () => (cutOver ? Date.now() + 1000 : options.pollBy?.()),
    onRetry: (err, attempt, delayMs) =>
      options.progress.warn(`polling failed (${describeError(err)}); retrying in ${formatDuration(delayMs)} (attempt ${attempt + 1})`),
    onPoll: async (polled) => {
      const stats = statsOf(polled, options.total, startedAt);
      options.progress.update(stats);
      options.events?.batchProgress(totalCounts(polled));
      options.events?.sample(stats);
      options.progress.info(describeProgress(polled, Date.now() - startedAt));
      if (options.manifest) {
        recordStatus(options.manifest, polled);
        // Best effort: a manifest that cannot be saved now is saved again at the next poll.
        saveManifest(options.env, options.manifest).catch(() => undefined);
      }
      if (submitting() && queueHasRoom(manifest!)) await options.submitRest!();
      const reason = cutOver ? undefined : options.cutOver?.(polled);
      if (reason) {
        cutOver = true;
        options.progress.warn(reason);
        options.events?.mark(`cut-over: ${reason}`);
        await cancelInProgress(options.client, polled, options.signal);
        if (options.manifest) options.manifest.canceledAt = new Date().toISOString();
      }
    },
  });
  if (options.manifest) {
    recordStatus(options.manifest, batches);
    await saveManifest(options.env, options.manifest);
  }
  return batches;
}

export interface DownloadOptions {
  client: Anthropic;
  batches: BatchToRead[];
  sink: ResultSink;
  existing: Map<string, ResultType>;
  progress?: ProgressLike;
  /** Told about every result line written, with the API's result (to add up the tokens used). */
  onLine?: WriteResultsOptions['onWritten'];
  /** The job's JSON Schema, if it has one. */
  schema?: WriteResultsOptions['schema'];
  /** Told about every result the API returns, also those already in the output (the job's cost). */
  onResult?: WriteResultsOptions['onResult'];
}

export async function downloadResults(options: DownloadOptions): Promise<ResultTally> {
  return writeResults({
    client: options.client,
    batches: options.batches,
    sink: options.sink,
    onWritten: options.onLine,
    schema: options.schema,
    existing: options.existing,
    onResult: options.onResult,
    retry: {
      onRetry: (err, attempt, delayMs) =>
        options.progress?.warn(`downloading results failed (${describeError(err)}); retrying in ${formatDuration(delayMs)} (attempt ${attempt + 1})`),
    },
  });
}

export function failedCount(t: ResultTally): number {
  return t.errored + t.expired + t.canceled;
}

/** Warnings about results that did not match what the job sent, one line each. */
export function tallyWarnings(t: ResultTally): string[] {
  const out: string[] = [];
  if (t.missing > 0) out.push(`warning: ${t.missing} item(s) had no result from the API; written as errored`);
  if (t.foreign > 0) out.push(`warning: ${t.foreign} result(s) were for custom_ids this job did not send (an adopted batch that was not ours?); not written`);
  return out;
}

export function formatTally(t: ResultTally): string {
  return `succeeded ${t.succeeded}, errored ${t.errored}, expired ${t.expired}, canceled ${t.canceled}`;
}
