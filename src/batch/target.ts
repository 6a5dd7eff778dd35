/**
 * What `poll` and `cancel` act on: a claw-batch job (all its batches), or one `msgbatch_…` id —
 * with its job's manifest when the batch is one of ours, without one when it was made elsewhere.
 */
import { UsageError } from '../errors.js';
import { shortened } from '../quote.js';
import { findJobOfBatch, isJobId, jobsDir, loadManifest, type JobManifest } from './manifest.js';

export interface JobTarget {
  /** What to call it in messages: the job id, or the batch id. */
  label: string;
  manifest?: JobManifest;
  batchIds: string[];
  /** Set when a single batch of a job was named. */
  only?: string;
}

export async function resolveTarget(env: NodeJS.ProcessEnv, id: string): Promise<JobTarget> {
  if (id.startsWith('msgbatch_')) {
    const manifest = await findJobOfBatch(env, id);
    return { label: id, manifest, batchIds: [id], only: id };
  }
  if (!isJobId(id) && !id.startsWith('job_')) {
    throw new UsageError(`\`${shortened(id)}\` is neither a job id (job_…) nor a batch id (msgbatch_…); \`claw-batch list\` shows the jobs`);
  }
  const manifest = await loadManifest(env, id);
  if (manifest.batches.length === 0) {
    throw new UsageError(`job ${id} has no batches yet (its submit did not get far): rerun the same submit, or see ${jobsDir(env)}`);
  }
  return { label: id, manifest, batchIds: manifest.batches.map((b) => b.id) };
}
