/**
 * Creates a job's batches one by one, recording each in the manifest as soon as it exists. If a
 * create fails midway, the manifest names the batches that exist and the error is reported; the
 * same submit run again walks the same chunks, skips those already created, and creates the rest —
 * nothing is sent twice.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { APIError } from '@anthropic-ai/sdk';
import { StoppedError, UsageError } from '../errors.js';
import type { Item } from '../types.js';
import { chunkBody, chunkItems, type Chunk } from './chunking.js';
import { saveBatchIds, saveManifest, type JobManifest } from './manifest.js';
import { sleep } from '../sleep.js';
import { asStop, describeError } from './transient.js';

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
}

/**
 * A create is retried only when the API surely did not make the batch — 429 (rate limited) and 529
 * (overloaded) are refused up front. After a 500 or a dropped connection the batch may exist
 * without our knowing its id, so the error is reported instead, to be looked at with
 * `claw-batch list` before the rerun.
 */
async function createBatch(client: Anthropic, chunk: Chunk, signal?: AbortSignal): Promise<Anthropic.Messages.MessageBatch> {
  // The body goes as the JSON text the chunk already holds. `messages.batches.create` would want
  // the parsed requests, several times the memory; this is the same POST through the same client.
  const body = chunkBody(chunk);
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.post<Anthropic.Messages.MessageBatch>('/v1/messages/batches', {
        body,
        headers: { 'content-type': 'application/json' },
      });
    } catch (err) {
      const stop = asStop(err);
      if (stop) throw stop;
      const refused = err instanceof APIError && (err.status === 429 || err.status === 529);
      if (!refused || attempt >= 6 || signal?.aborted) throw err;
      const header = err.headers?.get('retry-after');
      const delay = Math.max(Number(header) * 1000 || 0, 1000 * 2 ** (attempt - 1));
      await sleep(delay, signal);
    }
  }
}

/** Creates the batches of `manifest` that do not exist yet; returns the manifest, saved, with every batch. */
export async function submitJob(options: SubmitJobOptions): Promise<JobManifest> {
  const { client, env, manifest, signal } = options;
  const info = options.info ?? (() => {});
  let chunks = 0;
  let items = 0;

  for await (const chunk of chunkItems(options.items, manifest.chunkLimits, options.include)) {
    try {
      await submitChunk(chunk);
    } finally {
      // The loop variable keeps this chunk alive while the next one is built: let its requests go.
      chunk.requests.length = 0;
      chunk.ids.length = 0;
    }
  }

  if (manifest.batches.length > chunks) {
    throw new UsageError(
      `job ${manifest.id} has ${manifest.batches.length} batches but the input now makes ${chunks}; cancel it with \`claw-batch cancel ${manifest.id}\` and submit again with --force`,
    );
  }
  manifest.items = items;
  manifest.excluded = manifest.input.count - items;
  if (chunks > 0) {
    manifest.state = 'processing';
    await saveManifest(env, manifest);
  }
  return manifest;

  async function submitChunk(chunk: Chunk): Promise<void> {
    chunks++;
    items += chunk.requests.length;
    const existing = manifest.batches.find((b) => b.index === chunk.index);
    if (existing) {
      if (existing.count !== chunk.requests.length || existing.firstCustomId !== chunk.firstCustomId || existing.lastCustomId !== chunk.lastCustomId) {
        throw new UsageError(
          `job ${manifest.id}: batch ${chunk.index + 1} (${existing.id}) holds ${existing.count} requests ${existing.firstCustomId}…${existing.lastCustomId}, but the input now gives ${chunk.requests.length} requests ${chunk.firstCustomId}…${chunk.lastCustomId}; cancel it with \`claw-batch cancel ${manifest.id}\` and submit again with --force`,
        );
      }
      info(`batch ${chunk.index + 1}: ${existing.id} already created (${existing.count} requests); not sent again`);
      return;
    }
    if (signal?.aborted) {
      throw new StoppedError('interrupted', `interrupted while submitting job ${manifest.id}: ${manifest.batches.length} batches created; rerun the same command to finish submitting`);
    }
    if (manifest.batches.length === 0 && chunk.index === 0) await saveManifest(env, manifest);

    let batch: Anthropic.Messages.MessageBatch;
    try {
      batch = await createBatch(client, chunk, signal);
    } catch (err) {
      manifest.lastError = `creating batch ${chunk.index + 1} failed: ${describeError(err)}`;
      await saveManifest(env, manifest);
      if (err instanceof StoppedError) throw err;
      throw new StoppedError(
        'api',
        `job ${manifest.id}: creating batch ${chunk.index + 1} failed (${describeError(err)}); the ${manifest.batches.length} batches created so far are recorded — rerun the same command to finish submitting`,
        { cause: err },
      );
    }
    await saveBatchIds(env, manifest.id, chunk.index, chunk.ids);
    manifest.batches.push({
      id: batch.id,
      index: chunk.index,
      count: chunk.requests.length,
      bytes: chunk.bytes,
      firstCustomId: chunk.firstCustomId,
      lastCustomId: chunk.lastCustomId,
      createdAt: batch.created_at,
      status: batch.processing_status,
    });
    manifest.batches.sort((a, b) => a.index - b.index);
    manifest.items = Math.max(manifest.items, items);
    manifest.lastError = undefined;
    await saveManifest(env, manifest);
    info(`batch ${chunk.index + 1}: created ${batch.id} (${chunk.requests.length} requests, ${(chunk.bytes / 1e6).toFixed(1)} MB)`);
  }
}
