/**
 * `claw-batch list`: the local jobs (from their manifests) and the account's recent batches (from
 * the API, paginated up to `--limit`). `--json` prints both as one object on stdout.
 * Exit 0 when both were listed. When the account's batches could not be fetched (a rejected key, a
 * refused connection, an API failure), the local jobs are still listed, then the failure is
 * reported and the exit is 3: the listing is incomplete. Without any API key it lists the local
 * jobs only and exits 0: nothing was asked of the API. A malformed ANTHROPIC_BASE_URL lists them too,
 * then exits 2.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { CommandContext } from './context.js';
import { createClient } from '../client.js';
import { ClawError, ExitCode, MissingApiKeyError, StoppedError, UsageError } from '../errors.js';
import { jobsDir, listManifests, type JobManifest } from '../batch/manifest.js';
import { asStop, describeError, withRetry } from '../batch/transient.js';

export interface ListOptions {
  /** How many of the account's recent batches to show. Default 20. */
  limit?: number;
  json?: boolean;
}

export async function list(options: ListOptions, ctx: CommandContext): Promise<number> {
  const limit = options.limit ?? 20;
  const jobs = await listManifests(ctx.env);
  let batches: Anthropic.Messages.MessageBatch[] = [];
  let accountNote: string | undefined;
  let failure: ClawError | undefined;
  try {
    batches = await recentBatches(createClient({}, ctx.env), limit);
  } catch (err) {
    // Local jobs are worth showing even when the API cannot be asked; the failure is reported after them.
    if (err instanceof MissingApiKeyError) {
      accountNote = "set ANTHROPIC_API_KEY to see the account's batches";
    } else if (err instanceof UsageError) {
      // A malformed ANTHROPIC_BASE_URL: a configuration error (exit 2), nothing was asked of the API.
      failure = err;
      accountNote = err.message;
    } else {
      failure =
        err instanceof StoppedError
          ? err
          : (asStop(err) ?? new StoppedError('api', `could not list the account's batches (${describeError(err)}); the local jobs are listed, the account's batches are not`, { cause: err }));
      accountNote = failure.message;
    }
  }

  if (options.json) {
    ctx.stdout.write(`${JSON.stringify({ jobs: jobs.map(jobRow), batches, ...(accountNote ? { note: accountNote } : {}) })}\n`);
    if (failure) throw failure;
    return ExitCode.ok;
  }
  const out: string[] = [];
  out.push(`Local jobs (${jobsDir(ctx.env)}):`);
  if (jobs.length === 0) out.push('  none');
  for (const j of jobs) {
    const r = jobRow(j);
    const link = r.parentJob ? `, retries ${r.parentJob}` : '';
    const waiting = r.queueFull ? '  (the processing queue was full: poll creates the rest)' : '';
    out.push(`  ${r.id}  ${r.created}  ${r.state.padEnd(10)}  ${r.items} items  ${r.batches} batch(es)  ${r.input}${link}${waiting}`);
  }
  out.push('', `Recent batches of the account (up to ${limit}):`);
  if (failure) out.push('  not listed (the error is on stderr)');
  else if (accountNote) out.push(`  ${accountNote}`);
  else if (batches.length === 0) out.push('  none');
  for (const b of batches) {
    const c = b.request_counts;
    const job = jobs.find((j) => j.batches.some((x) => x.id === b.id));
    out.push(
      `  ${b.id}  ${b.created_at}  ${b.processing_status.padEnd(11)}  processing ${c.processing}, succeeded ${c.succeeded}, errored ${c.errored}, canceled ${c.canceled}, expired ${c.expired}${job ? `  (${job.id})` : ''}`,
    );
  }
  ctx.stdout.write(`${out.join('\n')}\n`);
  if (failure) throw failure;
  return ExitCode.ok;
}

function jobRow(j: JobManifest) {
  return {
    id: j.id,
    created: j.createdAt,
    state: j.canceledAt && j.state !== 'written' ? `${j.state}, canceled` : j.state,
    /** Part-submitted because the Batches API's processing queue was full: poll creates the rest. */
    queueFull: j.state === 'submitting' && j.queueFull !== undefined,
    items: j.items,
    batches: j.batches.length,
    input: j.input.displayName,
    parentJob: j.parentJob ?? null,
    output: j.resultsWrittenTo ?? j.output ?? null,
  };
}

async function recentBatches(client: Anthropic, limit: number): Promise<Anthropic.Messages.MessageBatch[]> {
  const out: Anthropic.Messages.MessageBatch[] = [];
  // A few attempts only: a listing should not hang for half a minute on an unreachable API.
  const retry = { maxAttempts: 3 };
  let page = await withRetry(() => client.messages.batches.list({ limit: Math.min(limit, 100) }), retry);
  for (;;) {
    for (const b of page.data) {
      if (out.length >= limit) return out;
      out.push(b);
    }
    if (!page.hasNextPage() || out.length >= limit) return out;
    const current = page;
    page = await withRetry(() => current.getNextPage(), retry);
  }
}
