/**
 * Creates a job's batches one by one, recording each in the manifest as soon as it exists. If a
 * create fails midway, the manifest names the batches that exist and the error is reported; the
 * same submit run again walks the same chunks, skips those already created, and creates the rest.
 * A create whose outcome is unknown (a 500, a dropped connection, a kill while it was in flight) is
 * marked in the manifest (`pendingCreate`); before that chunk is created again, the account's
 * batches are searched for it (src/batch/lost-batch.ts), so a rerun does not pay for it twice.
 */
import { formatDuration, plural } from '../ui/format.js';
import type Anthropic from '@anthropic-ai/sdk';
import { APIError } from '@anthropic-ai/sdk/core/error';
import { classifyFailure } from '../api-failure.js';
import { StoppedError, UsageError } from '../errors.js';
import type { Item } from '../types.js';
import { chunkBody, chunkItems, type Chunk } from './chunking.js';
import { findLostBatch } from './lost-batch.js';
import { saveBatchIds, saveBatchSchemas, saveManifest, type JobManifest } from './manifest.js';
import { describeError, withRetry } from './transient.js';
import { shortened } from '../quote.js';

export interface SubmitJobOptions {
  client: Anthropic;
  env: NodeJS.ProcessEnv;
  manifest: JobManifest;
  items: AsyncIterable<Item>;
  /** Which custom_ids this job sends (the `selection`); all by default. */
  include?: (customId: string) => boolean;
  /** Progress lines for stderr. */
  info?: (message: string) => void;
  /** Aborted by SIGINT/SIGTERM: the create in flight finishes and is recorded, then submission stops. */
  signal?: AbortSignal;
  /**
   * `queue_overflow: fail`: the longest the API may ask a create to wait (a 429's `retry-after`)
   * before submission stops instead (exit 3). Default: wait as long as it asks.
   */
  maxRateLimitWaitMs?: number;
  /**
   * The Batches API's processing queue holds only so many requests (Start tier: 200,000, all
   * models): once the job has batches in it, a create refused with a 429 stops creating for now
   * instead of waiting, and the job stays `submitting` with `queueFull` set; the rest is created
   * later (`submitJob` again), once batches have ended. Without this a 429 is waited out.
   */
  deferWhenQueueFull?: boolean;
}

/** How long to leave a full processing queue before asking again, when the 429 names no retry-after. */
const QUEUE_FULL_RETRY_MS = 60_000;

/** 429 and 529 are refused before the API does anything: retrying cannot make a second batch. */
function refusedUpFront(err: unknown): boolean {
  const action = classifyFailure(err);
  return action.kind === 'rate-limited' || (action.kind === 'transient' && err instanceof APIError && err.status === 529);
}

/** A 5xx (other than 529), a timeout, a dropped connection: the batch may exist without our knowing its id. */
function mayHaveCreated(err: unknown): boolean {
  return classifyFailure(err).kind === 'transient' && !refusedUpFront(err);
}

/**
 * Creates one batch, retrying only what the API surely refused (see `refusedUpFront`). Each wait is
 * announced — a 429 can ask for an hour, and a submit must not sit silent that long.
 */
async function createBatch(
  client: Anthropic,
  chunk: Chunk,
  options: Pick<SubmitJobOptions, 'signal' | 'maxRateLimitWaitMs'> & { info: (message: string) => void; deferRateLimited: boolean },
): Promise<Anthropic.Messages.MessageBatch> {
  // The body goes as the JSON text the chunk already holds. `messages.batches.create` would want
  // the parsed requests, several times the memory; this is the same POST through the same client.
  const body = chunkBody(chunk);
  const what = `creating batch ${chunk.index + 1}`;
  return withRetry(
    () => client.post<Anthropic.Messages.MessageBatch>('/v1/messages/batches', { body, headers: { 'content-type': 'application/json' } }),
    {
      retryIf: (err) => refusedUpFront(err) && !(options.deferRateLimited && classifyFailure(err).kind === 'rate-limited'),
      signal: options.signal,
      task: what,
      maxRateLimitWaitMs: options.maxRateLimitWaitMs,
      onRetry: (err, _attempt, delayMs) => {
        const asked = classifyFailure(err).kind === 'rate-limited' && delayMs >= 1000 ? ' (the retry-after the API asked for)' : '';
        options.info(
          `${what}: the API refused it (${describeError(err)}); waiting ${formatDuration(delayMs)}${asked} before trying again — Ctrl-C stops, and rerunning the same command finishes submitting`,
        );
      },
    },
  );
}

/** Creates the batches of `manifest` that do not exist yet; returns the manifest, saved, with every batch. */
export async function submitJob(options: SubmitJobOptions): Promise<JobManifest> {
  const { client, env, manifest, signal } = options;
  const info = options.info ?? (() => {});
  let chunks = 0;
  let items = 0;
  let read = 0;
  const counted = (async function* () {
    for await (const item of options.items) {
      read++;
      yield item;
    }
  })();

  // Going on after a full queue: the batches that exist were said when they were created.
  const continuing = manifest.queueFull !== undefined;
  manifest.queueFull = undefined;
  for await (const chunk of chunkItems(counted, manifest.chunkLimits, options.include, manifest.defaults.schema)) {
    try {
      if ((await submitChunk(chunk)) === 'queue-full') {
        await saveManifest(env, manifest);
        return manifest;
      }
    } finally {
      // The loop variable keeps this chunk alive while the next one is built: let its requests go.
      chunk.requests.length = 0;
      chunk.ids.length = 0;
      chunk.ownSchemas.clear();
    }
  }

  if (manifest.batches.length > chunks) {
    throw new UsageError(
      `job ${manifest.id} has ${manifest.batches.length} batches but the input now makes ${chunks}; cancel it with \`claw-batch cancel ${manifest.id}\` and submit again with --force`,
    );
  }
  if (read !== manifest.input.count) {
    // The input read for sending is not the one validated (a file replaced meanwhile): the job would
    // hold other items than the count said. Nothing is marked submitted; what exists is recorded.
    throw new StoppedError(
      'incomplete',
      `${manifest.input.displayName} gave ${plural(read, 'item')} when read to be sent, but ${plural(manifest.input.count, 'item')} when it was checked (was it changed or replaced meanwhile?); job ${manifest.id} is not submitted (${plural(manifest.batches.length, 'batch', 'batches')} created) — restore the input and rerun the same command`,
    );
  }
  manifest.items = items;
  manifest.excluded = manifest.input.count - items;
  if (chunks > 0) {
    manifest.state = 'processing';
    await saveManifest(env, manifest);
  }
  return manifest;

  async function submitChunk(chunk: Chunk): Promise<'queue-full' | void> {
    chunks++;
    items += chunk.requests.length;
    const existing = manifest.batches.find((b) => b.index === chunk.index);
    if (existing) {
      if (existing.count !== chunk.requests.length || existing.firstCustomId !== chunk.firstCustomId || existing.lastCustomId !== chunk.lastCustomId) {
        throw new UsageError(
          `job ${manifest.id}: batch ${chunk.index + 1} (${existing.id}) holds ${existing.count} requests ${existing.firstCustomId}…${existing.lastCustomId}, but the input now gives ${chunk.requests.length} requests ${chunk.firstCustomId}…${chunk.lastCustomId}; cancel it with \`claw-batch cancel ${manifest.id}\` and submit again with --force`,
        );
      }
      if (!continuing) info(`batch ${chunk.index + 1}: ${existing.id} already created (${plural(existing.count, 'request')}); not sent again`);
      return;
    }
    if (signal?.aborted) {
      throw new StoppedError('interrupted', `interrupted while submitting job ${manifest.id}: ${plural(manifest.batches.length, 'batch', 'batches')} created; rerun the same command to finish submitting`);
    }

    const pending = manifest.pendingCreate;
    if (pending && pending.index === chunk.index && pending.count === chunk.requests.length) {
      info(`batch ${chunk.index + 1}: an earlier create of it may have made it; looking among the account's batches first`);
      if (await adoptLost(chunk, pending.sentAt)) return;
    }

    const sentAt = new Date().toISOString();
    manifest.pendingCreate = { index: chunk.index, count: chunk.requests.length, sentAt };
    await saveManifest(env, manifest);
    let batch: Anthropic.Messages.MessageBatch;
    const deferRateLimited = options.deferWhenQueueFull === true && manifest.batches.length > 0;
    try {
      batch = await createBatch(client, chunk, { signal, maxRateLimitWaitMs: options.maxRateLimitWaitMs, info, deferRateLimited });
    } catch (err) {
      const action = classifyFailure(err);
      if (deferRateLimited && action.kind === 'rate-limited') {
        // The queue holds the job's own batches (and maybe others'): the rest goes once some have ended.
        manifest.pendingCreate = undefined;
        const retryMs = action.retryAfterMs ?? QUEUE_FULL_RETRY_MS;
        const queued = queuedRequests(manifest);
        manifest.queueFull = { at: new Date().toISOString(), retryAt: new Date(Date.now() + retryMs).toISOString(), nextBatch: chunk.index, queued, message: action.message };
        info(
          `batch ${chunk.index + 1}: the Batches API refused it (429: ${shortened(action.message, 200)}) — its processing queue is full; ${plural(manifest.batches.length, 'batch', 'batches')} of this job (${plural(queued, 'request')}) are in it, and the rest of the job is created as they end`,
        );
        return 'queue-full';
      }
      manifest.lastError = `creating batch ${chunk.index + 1} failed: ${describeError(err)}`;
      const uncertain = mayHaveCreated(err);
      if (!uncertain) manifest.pendingCreate = undefined;
      await saveManifest(env, manifest);
      if (uncertain) {
        let search = '';
        try {
          if (await adoptLost(chunk, sentAt)) return;
          search = 'it is not among the account\'s batches yet';
        } catch (listErr) {
          search = `the account's batches could not be searched for it (${describeError(listErr)})`;
        }
        throw new StoppedError(
          'api',
          `job ${manifest.id}: creating batch ${chunk.index + 1} failed (${describeError(err)}) and the API may have made it all the same; ${search} — \`claw-batch list\` shows them; the ${plural(manifest.batches.length, 'batch', 'batches')} created so far are recorded, and rerunning the same command looks for batch ${chunk.index + 1} again before creating it`,
          { cause: err },
        );
      }
      if (err instanceof StoppedError) {
        if (err.reason === 'queue-timeout') {
          throw new StoppedError(
            'queue-timeout',
            `job ${manifest.id}: ${err.message}; the ${plural(manifest.batches.length, 'batch', 'batches')} created so far are recorded — rerun the same command to finish submitting`,
            { cause: err },
          );
        }
        if (err.reason !== 'interrupted') throw err;
        throw new StoppedError('interrupted', `interrupted while submitting job ${manifest.id}: ${plural(manifest.batches.length, 'batch', 'batches')} created; rerun the same command to finish submitting`, { cause: err });
      }
      throw new StoppedError(
        'api',
        `job ${manifest.id}: creating batch ${chunk.index + 1} failed (${describeError(err)}); the ${plural(manifest.batches.length, 'batch', 'batches')} created so far are recorded — rerun the same command to finish submitting`,
        { cause: err },
      );
    }
    await record(chunk, batch, false);
    info(`batch ${chunk.index + 1}: created ${batch.id} (${plural(chunk.requests.length, 'request')}, ${(chunk.bytes / 1e6).toFixed(1)} MB)`);
  }

  /** Looks for the batch a lost create of `chunk` made; records it and returns true when found. */
  async function adoptLost(chunk: Chunk, sentAt: string): Promise<boolean> {
    const previous = manifest.batches.find((b) => b.index === chunk.index - 1);
    const { found, candidates } = await findLostBatch(
      client,
      env,
      { count: chunk.requests.length, sentAt, previousCreatedAt: previous?.createdAt },
      signal,
    );
    if (found) {
      await record(chunk, found, true);
      info(`batch ${chunk.index + 1}: found ${found.id} (${plural(chunk.requests.length, 'request')}, created ${found.created_at}) among the account's batches; adopted it instead of creating it again`);
      return true;
    }
    if (candidates.length > 1) {
      info(
        `batch ${chunk.index + 1}: ${candidates.length} of the account's batches could be the one a lost create made (${candidates.map((b) => b.id).join(', ')}); adopting none, creating it again — cancel the stray one with \`claw-batch cancel <msgbatch_id>\``,
      );
    }
    return false;
  }

  async function record(chunk: Chunk, batch: Anthropic.Messages.MessageBatch, adopted: boolean): Promise<void> {
    await saveBatchIds(env, manifest.id, chunk.index, chunk.ids);
    await saveBatchSchemas(env, manifest.id, chunk.index, chunk.ownSchemas);
    manifest.batches.push({
      id: batch.id,
      index: chunk.index,
      count: chunk.requests.length,
      bytes: chunk.bytes,
      firstCustomId: chunk.firstCustomId,
      lastCustomId: chunk.lastCustomId,
      createdAt: batch.created_at,
      status: batch.processing_status,
      ...(adopted ? { adopted: true } : {}),
    });
    manifest.batches.sort((a, b) => a.index - b.index);
    manifest.items = Math.max(manifest.items, items);
    manifest.lastError = undefined;
    manifest.pendingCreate = undefined;
    await saveManifest(env, manifest);
  }
}

/**
 * A job the full processing queue left `submitting`: whether to try creating the rest now — some
 * of its batches that were in the queue have ended since (room for at least theirs), or the wait
 * the 429 asked for is over (other jobs' batches may have ended).
 */
export function queueHasRoom(manifest: JobManifest, now = Date.now()): boolean {
  const full = manifest.queueFull;
  if (!full) return manifest.state === 'submitting';
  const queued = queuedRequests(manifest);
  return queued < full.queued || now >= Date.parse(full.retryAt);
}

/** The job's requests in the processing queue, as its last poll saw them: those of batches not yet ended. */
function queuedRequests(manifest: JobManifest): number {
  return manifest.batches.reduce((n, b) => n + (b.status === 'ended' ? 0 : b.count), 0);
}
