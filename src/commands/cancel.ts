/**
 * `claw-batch cancel ID`: ask the API to cancel every batch of a job (or one `msgbatch_…`).
 * Requests not yet processed come back `canceled` when the job is polled; those already done keep
 * their results. Nothing is lost: `poll` then writes every item, and `--retry-failed` resends them.
 */
import type { CommandContext } from './context.js';
import { createClient } from '../client.js';
import { ExitCode } from '../errors.js';
import { saveManifest } from '../batch/manifest.js';
import { recordStatus, type MessageBatch } from '../batch/poller.js';
import { resolveTarget } from '../batch/target.js';
import { withRetry } from '../batch/transient.js';

export interface CancelOptions {
  id: string;
}

export async function cancel(options: CancelOptions, ctx: CommandContext): Promise<number> {
  const env = ctx.env;
  const target = await resolveTarget(env, options.id);
  const client = createClient({}, env);
  const after: MessageBatch[] = [];
  for (const id of target.batchIds) {
    const current = await withRetry(() => client.messages.batches.retrieve(id));
    if (current.processing_status !== 'in_progress') {
      ctx.stderr.write(`${id}: already ${current.processing_status}; nothing to cancel\n`);
      after.push(current);
      continue;
    }
    const b = await withRetry(() => client.messages.batches.cancel(id));
    ctx.stderr.write(`${id}: ${b.processing_status} (cancel requested)\n`);
    after.push(b);
  }
  const { manifest } = target;
  if (manifest) {
    manifest.canceledAt = new Date().toISOString();
    // A job canceled halfway through its submit is not finished by a rerun of that submit.
    if (manifest.state === 'submitting') {
      manifest.state = 'processing';
      manifest.items = manifest.batches.reduce((n, b) => n + b.count, 0);
    }
    recordStatus(manifest, after);
    await saveManifest(env, manifest);
  }
  const poll = manifest && target.only ? manifest.id : target.label;
  ctx.stderr.write(`canceled ${target.label}: \`claw-batch poll ${poll} --wait -o results.jsonl\` writes every result (unprocessed items as canceled)\n`);
  return ExitCode.ok;
}
