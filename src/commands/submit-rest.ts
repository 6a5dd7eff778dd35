/**
 * The rest of a job the Batches API's full processing queue left part-submitted (`submit` created
 * what fitted and returned): `poll` re-reads the job's input as `submit` read it — same path,
 * format, template, id field and defaults, the same content — and creates what fits now. The
 * chunks come out as before, so the batches that exist are skipped, never sent twice.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { UsageError } from '../errors.js';
import { failedIdsOf } from '../batch/jobs.js';
import { loadManifest, type JobManifest } from '../batch/manifest.js';
import { submitJob } from '../batch/submitter.js';
import type { CommandContext } from './context.js';
import { prepareStoppable } from './prepare-input.js';

export async function submitRestOf(
  manifest: JobManifest,
  client: Anthropic,
  ctx: CommandContext,
  options: { info: (message: string) => void; signal?: AbortSignal },
): Promise<void> {
  if (manifest.selection === 'remaining' || manifest.input.path === '-') {
    // A `run` job (its selection came from the run's output), or an input that cannot be read again.
    throw new UsageError(
      `job ${manifest.id} is not fully submitted (${manifest.batches.length} batches exist); rerun the ${manifest.createdBy === 'run' ? '`claw-batch run`' : '`claw-batch submit`'} that made it to create the rest`,
    );
  }
  const include = manifest.selection === 'retry-failed' && manifest.parentJob ? await failedIds(manifest.parentJob, client, ctx) : undefined;
  const prepared = await prepareStoppable(
    { path: manifest.input.path, format: manifest.input.format, template: manifest.input.template, idField: manifest.input.idField, defaults: manifest.defaults },
    ctx,
  );
  try {
    if (prepared.contentHash !== manifest.input.contentHash) {
      throw new UsageError(
        `${prepared.displayName} changed since job ${manifest.id} was submitted (its content hash differs), and ${manifest.batches.length} of the job's batches exist; restore the input so the rest can be created, or cancel the job with \`claw-batch cancel ${manifest.id}\``,
      );
    }
    await submitJob({ client, env: ctx.env, manifest, items: prepared.items(), include: include && ((id) => include.has(id)), info: options.info, signal: options.signal, deferWhenQueueFull: true });
  } finally {
    await prepared.dispose();
  }
}

async function failedIds(parentId: string, client: Anthropic, ctx: CommandContext): Promise<Set<string>> {
  return failedIdsOf(client, ctx.env, await loadManifest(ctx.env, parentId));
}
