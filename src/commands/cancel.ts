/**
 * `claw-batch cancel ID`: ask the API to cancel every batch of a job (or one `msgbatch_…`).
 * Requests not yet processed come back `canceled` when the job is polled; those already done keep
 * their results. Nothing is lost: `poll` then writes every item, and `--retry-failed` resends them.
 * A job whose batches have all ended already is left as it is, and the command says so.
 */
import type { CommandContext } from './context.js';
import { createClient } from '../client.js';
import { ExitCode } from '../errors.js';
import { saveManifest } from '../batch/manifest.js';
import { recordStatus, retrieveBatches, type MessageBatch } from '../batch/poller.js';
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
  let requested = 0;
  // One batch at a time: an unknown id fails as poll's does, before anything is canceled after it.
  for (const id of target.batchIds) {
    const [current] = await retrieveBatches(client, [id]);
    if (current!.processing_status !== 'in_progress') {
      ctx.stderr.write(`${id}: already ${current!.processing_status}; nothing to cancel\n`);
      after.push(current!);
      continue;
    }
    const b = await withRetry(() => client.messages.batches.cancel(id));
    ctx.stderr.write(`${id}: ${b.processing_status} (cancel requested)\n`);
    after.push(b);
    requested++;
  }
  const { manifest } = target;
  const poll = manifest && target.only ? manifest.id : target.label;
  if (manifest) {
    if (requested > 0) manifest.canceledAt = new Date().toISOString();
    // A job canceled halfway through its submit is not finished by a rerun of that submit.
    if (requested > 0 && manifest.state === 'submitting') {
      manifest.state = 'processing';
      manifest.items = manifest.batches.reduce((n, b) => n + b.count, 0);
    }
    recordStatus(manifest, after);
    await saveManifest(env, manifest);
  }
  // A job made by `run` recorded its own output; point poll at that file, not a made-up one.
  const out = manifest?.output ?? 'results.jsonl';
  if (requested === 0) {
    const ended = after.every((b) => b.processing_status === 'ended');
    const next = !ended
      ? `\`claw-batch poll ${poll} --wait -o ${out}\` writes every result`
      : manifest?.state === 'written' && !target.only
        ? `its results were written to ${manifest.resultsWrittenTo ?? 'the output'}`
        : `\`claw-batch poll ${poll} -o ${out}\` writes its results`;
    ctx.stderr.write(`${target.label} ${ended ? 'had already ended' : 'was already being canceled'}; nothing was canceled — ${next}\n`);
    return ExitCode.ok;
  }
  ctx.stderr.write(`canceled ${target.label}: \`claw-batch poll ${poll} --wait -o ${out}\` writes every result (unprocessed items as canceled)\n`);
  return ExitCode.ok;
}
